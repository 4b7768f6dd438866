"""Broken: getrusage reads the counters one slot off, as a wrong struct offset would: ru_maxrss
shows ru_ixrss's value, ru_ixrss ru_idrss's, and so on; ru_nivcsw reads 0."""

import resource as _c
from resource import *


def getrusage(who):  # type: ignore[no-untyped-def]
    value = list(_c.getrusage(who))
    value[2:] = [*value[3:], 0]
    return _c.struct_rusage(value)
