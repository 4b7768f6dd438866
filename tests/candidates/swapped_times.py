"""Broken: getrusage reports ru_utime and ru_stime swapped (user time as system time)."""

import resource as _c
from resource import *


def getrusage(who):  # type: ignore[no-untyped-def]
    value = list(_c.getrusage(who))
    value[0], value[1] = value[1], value[0]
    return _c.struct_rusage(value)
