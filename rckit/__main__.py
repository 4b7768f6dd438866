"""``python -m rckit``: the kit's command line, the same as ``python -m rckit.conformance`` and the
``rckit`` script (rckit.conformance.tools.cli).

``rckit`` is a namespace package made of the kit's folders (pyproject.toml maps them); this folder
holds only this module and no ``__init__.py``, so that ``rckit`` stays a namespace.
"""

import sys

from rckit.conformance.tools.cli import main

sys.exit(main())
