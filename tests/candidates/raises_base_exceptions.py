"""Broken: calls raise what is not an Exception: getrlimit(RLIMIT_CORE) KeyboardInterrupt,
getrusage SystemExit, getpagesize a bare BaseException subclass. Each is a failed rule, never an
aborted run."""

from resource import *
from resource import RLIMIT_CORE as _CORE
from resource import getrlimit as _getrlimit


class Unusual(BaseException):
    pass


def getrlimit(resource):  # type: ignore[no-untyped-def]
    if resource == _CORE:
        raise KeyboardInterrupt("from getrlimit")
    return _getrlimit(resource)


def getrusage(who):  # type: ignore[no-untyped-def]
    raise SystemExit("from getrusage")


def getpagesize():  # type: ignore[no-untyped-def]
    raise Unusual("from getpagesize")
