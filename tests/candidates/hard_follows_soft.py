"""Broken: setrlimit with soft < hard (both finite) sets the hard limit to the soft one too."""

from resource import *
from resource import RLIM_INFINITY
from resource import setrlimit as _setrlimit


def setrlimit(resource, limits):  # type: ignore[no-untyped-def]
    soft, hard = limits
    if soft == hard or RLIM_INFINITY in (soft, hard) or soft > hard:
        return _setrlimit(resource, limits)
    return _setrlimit(resource, (soft, soft))
