"""The ctypes backend (CPython).

Entry points are looked up in the process's global namespace (``PyDLL(None)``), so the C library
the interpreter already uses is the one called, and a library injected with LD_PRELOAD is honoured
just as it is for CPython's own module. ``PyDLL`` keeps the GIL during the call, as CPython's module
does. No ``argtypes``: ctypes then passes Python ints as C ints and ``byref`` objects as pointers,
which is what these signatures take, and skips the per-call converters.

Buffers that C writes into are ``bytearray`` objects, passed to C as ``byref`` of a ctypes array
sharing their memory (``from_buffer``): struct reads a bytearray faster than a ctypes array, and
ctypes passes a ``byref`` object as it is, where it wraps an array anew at each call. A struct that C only
reads is passed as ``bytes`` (ctypes passes its data as ``char *``).

Calls go through a binding without ``use_errno`` (its bookkeeping costs about 50 ns a call). When a
call fails, :func:`errno_of` repeats it once through a ``use_errno`` binding, which saves errno
right after the call, before anything else can change it. A failed call changed nothing, so the
repeat meets the same state; if another thread changed it meanwhile, the repeat's outcome is just
as valid (and if the repeat succeeds, errno_of reports 0 and the caller uses its result).
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Dict, Optional, Tuple

from rckit.platforms import Target
from rckit.reference._ffi import Binding, rlimit_codecs, rusage_decoders

__all__ = ["load"]


def _function(lib: ctypes.PyDLL, name: str) -> Optional[Callable[..., int]]:
    try:
        function = getattr(lib, name)
    except AttributeError:
        return None
    function.restype = ctypes.c_int  # on the function itself: found first when it is called
    return function  # type: ignore[no-any-return]


def load(target: Target, signed_reads: bool = True) -> Binding:
    """Bind the target's entry points with ctypes; AttributeError if a required one is missing."""
    fast, saving = ctypes.PyDLL(None), ctypes.PyDLL(None, use_errno=True)
    symbols = dict(target.rlimit.symbols)
    for variant in target.rusage:
        if _function(fast, variant.symbol) is not None:
            symbols["getrusage"] = variant.symbol
            layout = variant.layout
            break
    else:
        raise AttributeError("the C library has none of %s" % [v.symbol for v in target.rusage])
    calls: Dict[str, Optional[Callable[..., int]]] = {
        name: _function(fast, symbols[name]) for name in ("getrlimit", "setrlimit", "getrusage")
    }
    calls["prlimit"] = _function(fast, symbols["prlimit"]) if "prlimit" in symbols else None
    if calls["getrlimit"] is None or calls["setrlimit"] is None:
        raise AttributeError("the C library has no %s/%s" % (symbols["getrlimit"], symbols["setrlimit"]))
    saving_calls = {name: _function(saving, symbols[name]) for name in calls if calls[name] is not None}

    def errno_of(name: str, args: Tuple[Any, ...]) -> int:
        function = saving_calls[name]
        assert function is not None
        return ctypes.get_errno() if function(*args) else 0

    pack, unpack = rlimit_codecs(target, signed_reads)
    times, counters, counters_offset = rusage_decoders(layout, target.byteorder)
    rlimit_type = ctypes.c_char * target.rlimit.layout.size
    # The kernel writes only sizeof(struct rusage); the slack protects against a layout error.
    rusage_type = ctypes.c_char * max(layout.size, 512)

    def pair(kind: Any) -> Tuple[bytearray, Any]:
        data = bytearray(ctypes.sizeof(kind))
        return data, ctypes.byref(kind.from_buffer(data))

    getpagesize = _function(fast, "getpagesize")

    def pagesize() -> int:
        if getpagesize is not None:
            return getpagesize()
        import os

        return os.sysconf("SC_PAGESIZE")

    return Binding(
        backend="ctypes",
        getrlimit=calls["getrlimit"],
        setrlimit=calls["setrlimit"],
        prlimit=calls["prlimit"],
        getrusage=calls["getrusage"],  # type: ignore[arg-type]
        errno_of=errno_of,
        getpagesize=pagesize,
        new_rlimit=lambda: pair(rlimit_type),
        pack_rlimit=pack.pack_into,
        encode_rlimit=pack.pack,
        unpack_rlimit=unpack.unpack_from,
        new_rusage=lambda: pair(rusage_type),
        unpack_times=times.unpack_from,
        unpack_counters=counters.unpack_from,
        counters_offset=counters_offset,
        null=None,
    )
