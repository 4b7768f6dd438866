"""Broken: getrusage never fills ru_oublock (always 0), as a decoder that skips a field would."""

import resource as _c
from resource import *


def getrusage(who):  # type: ignore[no-untyped-def]
    value = list(_c.getrusage(who))
    value[10] = 0
    return _c.struct_rusage(value)
