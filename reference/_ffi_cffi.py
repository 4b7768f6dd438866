"""The cffi backend, in ABI mode (no compiler): the fast path on PyPy, whose ctypes is slow.

Measured on PyPy 7.3.11: a getrlimit round trip costs about 0.27 us here against 8 us with
ctypes. cffi saves errno right after each call (``get_errno``), so reading it is race-free.

The C types are built with ``_cffi_backend``, the module under cffi's own ``FFI`` (built into PyPy,
a C extension on CPython), rather than by parsing declarations with ``FFI.cdef``: the first parse
loads cffi's C parser and its tables, 0.14-0.22 s of each import of the reference on PyPy 7.3.11,
against 1 ms for the same four function types built directly. The functions are the same objects
either way (``FFI.dlopen``'s library loads them with ``load_function``).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import _cffi_backend as backend  # type: ignore[import-untyped,import-not-found,unused-ignore]
from rckit.platforms import Target
from rckit.reference._ffi import Binding, rlimit_codecs, rusage_decoders

__all__ = ["load"]

_INT = backend.new_primitive_type("int")
_CHAR_P = backend.new_pointer_type(backend.new_primitive_type("char"))
#: int f(int, char *): getrlimit, setrlimit, getrusage; int f(int, int, char *, char *): prlimit.
_ONE_BUFFER = backend.new_function_type((_INT, _CHAR_P), _INT, False)
_TWO_BUFFERS = backend.new_function_type((_INT, _INT, _CHAR_P, _CHAR_P), _INT, False)
_NO_ARGUMENT = backend.new_function_type((), _INT, False)


def _function(lib: Any, kind: Any, name: str) -> Optional[Callable[..., int]]:
    try:
        return lib.load_function(kind, name)  # type: ignore[no-any-return]
    except (AttributeError, NotImplementedError):
        return None


def load(target: Target, signed_reads: bool = True) -> Binding:
    """Bind the target's entry points with cffi; AttributeError if a required one is missing."""
    lib = backend.load_library(None)
    symbols = target.rlimit.symbols
    names = [symbols["getrlimit"], symbols["setrlimit"]]
    getrlimit, setrlimit = (_function(lib, _ONE_BUFFER, name) for name in names)
    if getrlimit is None or setrlimit is None:
        raise AttributeError("the C library has no %s/%s" % tuple(names))
    prlimit = _function(lib, _TWO_BUFFERS, symbols["prlimit"]) if "prlimit" in symbols else None
    for variant in target.rusage:
        getrusage = _function(lib, _ONE_BUFFER, variant.symbol)
        if getrusage is not None:
            layout = variant.layout
            break
    else:
        raise AttributeError("the C library has none of %s" % [v.symbol for v in target.rusage])
    getpagesize = lib.load_function(_NO_ARGUMENT, "getpagesize")
    pack, unpack = rlimit_codecs(target, signed_reads)
    times, counters, counters_offset = rusage_decoders(layout, target.byteorder)
    rlimit_type = backend.new_array_type(_CHAR_P, target.rlimit.layout.size)
    rusage_type = backend.new_array_type(_CHAR_P, max(layout.size, 512))

    def pair(kind: Any) -> Tuple[Any, Any]:
        data = backend.newp(kind, None)  # zero-filled
        return backend.buffer(data), data

    def errno_of(name: str, args: Tuple[Any, ...]) -> int:
        return backend.get_errno()  # type: ignore[no-any-return]  # cffi saved it right after the call

    return Binding(
        backend="cffi",
        getrlimit=getrlimit,
        setrlimit=setrlimit,
        prlimit=prlimit,
        getrusage=getrusage,
        errno_of=errno_of,
        getpagesize=getpagesize,
        new_rlimit=lambda: pair(rlimit_type),
        pack_rlimit=pack.pack_into,
        encode_rlimit=None,  # PyPy passes bytes to C far slower than a buffer it already has
        unpack_rlimit=unpack.unpack_from,
        new_rusage=lambda: pair(rusage_type),
        unpack_times=times.unpack_from,
        unpack_counters=counters.unpack_from,
        counters_offset=counters_offset,
        null=backend.cast(backend.new_pointer_type(backend.new_void_type()), 0),
    )
