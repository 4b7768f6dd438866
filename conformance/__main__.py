"""python -m rckit.conformance"""

import sys

from rckit.conformance.tools.cli import main

sys.exit(main())
