"""python -m rckit.conformance"""

import sys

from rckit.conformance.cli import main

sys.exit(main())
