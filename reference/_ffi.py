"""The native layer: pick a backend for this interpreter and describe C structs as struct formats.

A backend (``_ffi_ctypes`` on CPython, ``_ffi_cffi`` on PyPy) returns a :class:`Binding`: the raw C
entry points named by the platform entry, buffer factories, encoders and decoders. Callers pass
buffers from the factories (or, for a struct C only reads, the bytes of an encoder); a call
returns the C int result, and ``errno_of`` gives the errno it left.
"""

from __future__ import annotations

import struct
import sys
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

from rckit.platforms import Field, Struct, Target

__all__ = ["Binding", "load", "rlimit_codecs", "rusage_decoders"]

_SIGNED = {1: "b", 2: "h", 4: "i", 8: "q"}


class Binding(NamedTuple):
    """What the public functions need from the C library, whatever the backend.

    Buffers come in pairs: (the bytes to decode or encode, what to pass to C). Where C takes a
    ``bytes`` object for a struct it only reads (ctypes), ``encode_rlimit`` packs one, saving a
    buffer from the free list. The C entry points
    return the C int result; after a failure, ``errno_of(name, args)`` gives its errno (a backend
    may repeat the failed call through an errno-saving binding to learn it).
    """

    backend: str
    getrlimit: Callable[[int, Any], int]
    setrlimit: Callable[[int, Any], int]
    prlimit: Optional[Callable[[int, int, Any, Any], int]]
    getrusage: Callable[[int, Any], int]
    errno_of: Callable[[str, Tuple[Any, ...]], int]
    getpagesize: Callable[[], int]
    new_rlimit: Callable[[], Tuple[Any, Any]]
    pack_rlimit: Callable[[Any, int, int, int], None]  # (buffer, offset, soft, hard)
    encode_rlimit: Optional[Callable[[int, int], bytes]]  # (soft, hard): a struct rlimit to pass
    unpack_rlimit: Callable[[Any], Tuple[int, int]]
    new_rusage: Callable[[], Tuple[Any, Any]]
    unpack_times: Callable[[Any], Tuple[int, int, int, int]]  # utime sec/usec, stime sec/usec
    unpack_counters: Callable[[Any, int], Tuple[int, ...]]  # (buffer, offset): the 14 longs
    counters_offset: int
    null: Any


def _format(byteorder: str, parts: List[Tuple[Field, str]]) -> str:
    """A struct format reading ``parts`` (field, code) at their offsets from the start of a struct
    (``unpack_from`` needs nothing past the last one)."""
    fmt = ["<" if byteorder == "little" else ">"]
    position = 0
    for field, code in parts:
        if field.offset < position:
            raise ValueError("fields overlap or are out of order at offset %d" % field.offset)
        if field.offset > position:
            fmt.append("%dx" % (field.offset - position))
        fmt.append(code)
        position = field.offset + field.size
    return "".join(fmt)


def rlimit_codecs(target: Target, signed_reads: bool = True) -> Tuple[struct.Struct, struct.Struct]:
    """(pack, unpack) for struct rlimit: pack takes unsigned rlim_t values; unpack reads them as
    signed integers of the same width (``signed_reads``, how CPython reports limits up to 3.13.6
    and in 3.14.0) or as unsigned ones (from 3.13.7 and 3.14.1)."""
    layout = target.rlimit.layout
    cur, mx = layout.fields["rlim_cur"], layout.fields["rlim_max"]
    signed = _SIGNED[target.rlimit.rlim_size]
    read = signed if signed_reads else signed.upper()
    unpack = _format(target.byteorder, [(cur, read), (mx, read)])
    pack = _format(target.byteorder, [(cur, signed.upper()), (mx, signed.upper())])
    return struct.Struct(pack), struct.Struct(unpack)


RUSAGE_FIELDS = (
    "ru_utime", "ru_stime", "ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt",
    "ru_majflt", "ru_nswap", "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv",
    "ru_nsignals", "ru_nvcsw", "ru_nivcsw",
)  # fmt: skip


def rusage_decoders(layout: Struct, byteorder: str) -> Tuple[struct.Struct, struct.Struct, int]:
    """(times, counters, offset): a struct reading (utime.sec, utime.usec, stime.sec, stime.usec)
    from the start of struct rusage, one reading its 14 counters, and where the counters start."""
    timeval = layout.timeval
    if timeval is None:
        raise ValueError("layout %s has no timeval" % layout.name)
    times: List[Tuple[Field, str]] = []
    for name in RUSAGE_FIELDS[:2]:
        base = layout.fields[name].offset
        for member in ("tv_sec", "tv_usec"):
            inner = timeval.fields[member]
            times.append((Field(base + inner.offset, inner.size), _SIGNED[inner.size]))
    start = layout.fields[RUSAGE_FIELDS[2]].offset
    counters = [
        (Field(layout.fields[n].offset - start, layout.fields[n].size), _SIGNED[layout.fields[n].size]) for n in RUSAGE_FIELDS[2:]
    ]
    return (
        struct.Struct(_format(byteorder, times)),
        struct.Struct(_format(byteorder, counters)),
        start,
    )


def load(target: Target, signed_reads: bool = True) -> Binding:
    """The fastest backend that works here: cffi's ABI mode on PyPy, ctypes elsewhere. Its
    ``unpack_rlimit`` reads limits signed or unsigned (see :func:`rlimit_codecs`)."""
    if sys.implementation.name == "pypy":
        try:
            from rckit.reference import _ffi_cffi
        except ImportError:
            pass
        else:
            return _ffi_cffi.load(target, signed_reads)
    from rckit.reference import _ffi_ctypes

    return _ffi_ctypes.load(target, signed_reads)
