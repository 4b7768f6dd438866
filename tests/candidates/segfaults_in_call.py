"""Broken: getrlimit(RLIMIT_CORE) writes to address 0 and dies of SIGSEGV."""

import ctypes
import os
import signal
from resource import *
from resource import RLIMIT_CORE as _CORE
from resource import getrlimit as _getrlimit


def getrlimit(resource):  # type: ignore[no-untyped-def]
    if resource == _CORE:
        ctypes.memset(0, 0, 1)  # a real fault; should page 0 be writable, the signal anyway:
        os.kill(os.getpid(), signal.SIGSEGV)
    return _getrlimit(resource)
