"""Broken: reports ru_maxrss in pages, as the old documentation said, instead of kibibytes."""

import resource as _c
from resource import *


def getrusage(who):  # type: ignore[no-untyped-def]
    usage = _c.getrusage(who)
    items = list(usage)
    items[2] = usage.ru_maxrss * 1024 // _c.getpagesize()
    return _c.struct_rusage(items)
