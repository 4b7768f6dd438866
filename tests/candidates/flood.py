"""Conforming, but it floods its output: 64 MiB on stdout at import, 1 MiB on stderr in every
getrlimit call. Output at any volume costs the harness neither memory nor time."""

import os
from resource import *
from resource import getrlimit as _getrlimit

_CHUNK = b"flood " * 10922 + b"\n"  # about 64 KiB


def _write(fd, mebibytes):  # type: ignore[no-untyped-def]
    for _ in range(mebibytes * 16):
        os.write(fd, _CHUNK)


_write(1, 64)


def getrlimit(resource):  # type: ignore[no-untyped-def]
    _write(2, 1)
    return _getrlimit(resource)
