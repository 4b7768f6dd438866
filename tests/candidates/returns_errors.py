"""Broken: returns the ValueError for an invalid resource instead of raising it (like PyPy 3.9)."""

from resource import *
from resource import getrlimit as _getrlimit


def getrlimit(resource):  # type: ignore[no-untyped-def]
    if not 0 <= resource < 16:
        return ValueError("invalid resource specified")
    return _getrlimit(resource)
