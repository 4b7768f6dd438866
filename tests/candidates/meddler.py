"""Broken and rude: every getrlimit lowers the calling process's soft RLIMIT_NOFILE by one.
Judged in-process, it attacks the harness itself; the run must notice and fail."""

import resource as _c
from resource import *


def getrlimit(resource):  # type: ignore[no-untyped-def]
    soft, hard = _c.getrlimit(_c.RLIMIT_NOFILE)
    _c.setrlimit(_c.RLIMIT_NOFILE, (soft - 1, hard))
    return _c.getrlimit(resource)
