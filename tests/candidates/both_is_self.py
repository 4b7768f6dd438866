"""Broken: defines RUSAGE_BOTH (as the Linux kernel's own headers do, -2) but reports only the
process itself for it, leaving out its waited-for children."""

import resource as _c
from resource import *

RUSAGE_BOTH = -2


def getrusage(who):  # type: ignore[no-untyped-def]
    return _c.getrusage(_c.RUSAGE_SELF if who == RUSAGE_BOTH else who)
