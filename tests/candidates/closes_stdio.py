"""Conforming, but it closes descriptors 0, 1 and 2 at import and again in every getrlimit call,
as a careless daemonizing library would. The protocol must not depend on them."""

import contextlib
import os
from resource import *
from resource import getrlimit as _getrlimit


def _close_stdio():  # type: ignore[no-untyped-def]
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.close(fd)


_close_stdio()


def getrlimit(resource):  # type: ignore[no-untyped-def]
    _close_stdio()
    return _getrlimit(resource)
