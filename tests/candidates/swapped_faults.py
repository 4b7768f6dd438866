"""Broken: getrusage reports ru_minflt and ru_majflt swapped (two counters of the same type)."""

import resource as _c
from resource import *


def getrusage(who):  # type: ignore[no-untyped-def]
    value = list(_c.getrusage(who))
    value[6], value[7] = value[7], value[6]
    return _c.struct_rusage(value)
