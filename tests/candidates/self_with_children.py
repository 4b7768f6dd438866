"""Broken: getrusage(RUSAGE_SELF) adds the waited-for children's usage, as if it were RUSAGE_BOTH."""

import resource as _c
from resource import *


def getrusage(who):  # type: ignore[no-untyped-def]
    value = _c.getrusage(who)
    if who != _c.RUSAGE_SELF:
        return value
    children = _c.getrusage(_c.RUSAGE_CHILDREN)
    both = zip(value, children)  # noqa: B905 - two 16-item results; this also runs on 2.7
    return _c.struct_rusage([a + b for a, b in both])
