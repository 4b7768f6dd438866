"""Broken: getrlimit through one module-level ctypes buffer, so threads overwrite each other's
answers (it yields the GIL between the C call and reading the buffer, to lose reliably)."""

import ctypes
import struct
import time
from resource import *

_libc = ctypes.CDLL(None, use_errno=True)
_buffer = (ctypes.c_char * 16)()


def getrlimit(resource):  # type: ignore[no-untyped-def]
    if _libc.getrlimit64(resource, _buffer):
        raise OSError(ctypes.get_errno(), "getrlimit failed")
    time.sleep(0)
    return struct.unpack_from("qq", _buffer)
