"""Broken: getrlimit(RLIMIT_CORE) kills its own process with SIGKILL."""

import os
import signal
from resource import *
from resource import RLIMIT_CORE as _CORE
from resource import getrlimit as _getrlimit


def getrlimit(resource):  # type: ignore[no-untyped-def]
    if resource == _CORE:
        os.kill(os.getpid(), signal.SIGKILL)
    return _getrlimit(resource)
