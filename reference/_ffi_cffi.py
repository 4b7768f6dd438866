"""The cffi backend, in ABI mode (no compiler): the fast path on PyPy, whose ctypes is slow.

Measured on PyPy 7.3.11: a getrlimit round trip costs about 0.27 us here against 8 us with
ctypes. cffi saves errno right after each call (``ffi.errno``), so reading it is race-free.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import cffi  # type: ignore[import-untyped,import-not-found,unused-ignore]
from rckit.platforms import Target
from rckit.reference._ffi import Binding, rlimit_codecs, rusage_decoders

__all__ = ["load"]


def _function(lib: Any, name: str) -> Optional[Callable[..., int]]:
    try:
        return getattr(lib, name)  # type: ignore[no-any-return]
    except (AttributeError, NotImplementedError):
        return None


def load(target: Target, signed_reads: bool = True) -> Binding:
    """Bind the target's entry points with cffi; AttributeError if a required one is missing."""
    ffi = cffi.FFI()
    symbols = target.rlimit.symbols
    names = [symbols["getrlimit"], symbols["setrlimit"]]
    declarations = ["int %s(int, char *);" % name for name in names]
    if "prlimit" in symbols:
        declarations.append("int %s(int, int, char *, char *);" % symbols["prlimit"])
    for variant in target.rusage:
        declarations.append("int %s(int, char *);" % variant.symbol)
    declarations.append("int getpagesize(void);")
    ffi.cdef("\n".join(dict.fromkeys(declarations)))
    lib = ffi.dlopen(None)
    getrlimit, setrlimit = (_function(lib, name) for name in names)
    if getrlimit is None or setrlimit is None:
        raise AttributeError("the C library has no %s/%s" % tuple(names))
    prlimit = _function(lib, symbols["prlimit"]) if "prlimit" in symbols else None
    for variant in target.rusage:
        getrusage = _function(lib, variant.symbol)
        if getrusage is not None:
            layout = variant.layout
            break
    else:
        raise AttributeError("the C library has none of %s" % [v.symbol for v in target.rusage])
    pack, unpack = rlimit_codecs(target, signed_reads)
    times, counters, counters_offset = rusage_decoders(layout, target.byteorder)
    rlimit_decl = "char[%d]" % target.rlimit.layout.size
    rusage_decl = "char[%d]" % max(layout.size, 512)

    def pair(declaration: str) -> Tuple[Any, Any]:
        data = ffi.new(declaration)
        return ffi.buffer(data), data

    def errno_of(name: str, args: Tuple[Any, ...]) -> int:
        return ffi.errno  # type: ignore[no-any-return]  # cffi saved it right after the call

    return Binding(
        backend="cffi",
        getrlimit=getrlimit,
        setrlimit=setrlimit,
        prlimit=prlimit,
        getrusage=getrusage,
        errno_of=errno_of,
        getpagesize=lib.getpagesize,
        new_rlimit=lambda: pair(rlimit_decl),
        pack_rlimit=pack.pack_into,
        encode_rlimit=None,  # PyPy passes bytes to C far slower than a buffer it already has
        unpack_rlimit=unpack.unpack_from,
        new_rusage=lambda: pair(rusage_decl),
        unpack_times=times.unpack_from,
        unpack_counters=counters.unpack_from,
        counters_offset=counters_offset,
        null=ffi.NULL,
    )
