"""Broken: pathological results. getrlimit(RLIMIT_CORE) returns 64 MiB of data, getrlimit of
RLIMIT_FSIZE a tuple nested 100000 deep, getrusage an object whose __len__, __getitem__,
__iter__, __repr__, __eq__ and __hash__ raise, getpagesize an int of a million bits."""

from resource import *
from resource import RLIMIT_CORE as _CORE
from resource import RLIMIT_FSIZE as _FSIZE
from resource import getrlimit as _getrlimit


class Hostile:
    def _boom(self, *args):  # type: ignore[no-untyped-def]
        raise RuntimeError("hostile result")

    __len__ = __getitem__ = __iter__ = __repr__ = __eq__ = __hash__ = __str__ = _boom

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt(name)


def _deep(depth):  # type: ignore[no-untyped-def]
    value = ()
    for _ in range(depth):
        value = (value,)
    return value


def getrlimit(resource):  # type: ignore[no-untyped-def]
    if resource == _CORE:
        return ("x" * (32 << 20), b"y" * (32 << 20))
    if resource == _FSIZE:
        return _deep(100000)
    return _getrlimit(resource)


def getrusage(who):  # type: ignore[no-untyped-def]
    return Hostile()


def getpagesize():  # type: ignore[no-untyped-def]
    return 1 << 1000000
