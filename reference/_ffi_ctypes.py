"""The ctypes backend (CPython).

Entry points are looked up in the process's global namespace (``PyDLL(None)``), so the C library
the interpreter already uses is the one called, and a library injected with LD_PRELOAD is honoured
just as it is for CPython's own module. ``PyDLL`` keeps the GIL during the call, as CPython's module
does. No ``argtypes``: ctypes then passes Python ints as C ints and ctypes arrays as pointers, which
is what these signatures take, and skips the per-call converters (about 0.3 us each).
``use_errno`` makes ctypes save errno immediately after the call, before any other C code can
overwrite it.
"""

from __future__ import annotations

import ctypes
from typing import Callable, Optional

from rckit.platforms import Target
from rckit.reference._ffi import Binding, rlimit_codecs, rusage_decoder

__all__ = ["load"]


def _function(lib: ctypes.PyDLL, name: str) -> Optional[Callable[..., int]]:
    try:
        return getattr(lib, name)  # type: ignore[no-any-return]
    except AttributeError:
        return None


def load(target: Target) -> Binding:
    """Bind the target's entry points with ctypes; AttributeError if a required one is missing."""
    lib = ctypes.PyDLL(None, use_errno=True)
    symbols = target.rlimit.symbols
    getrlimit = _function(lib, symbols["getrlimit"])
    setrlimit = _function(lib, symbols["setrlimit"])
    if getrlimit is None or setrlimit is None:
        raise AttributeError("the C library has no %s/%s" % (symbols["getrlimit"], symbols["setrlimit"]))
    prlimit = _function(lib, symbols["prlimit"]) if "prlimit" in symbols else None
    for variant in target.rusage:
        getrusage = _function(lib, variant.symbol)
        if getrusage is not None:
            layout = variant.layout
            break
    else:
        raise AttributeError("the C library has none of %s" % [v.symbol for v in target.rusage])
    pack, unpack = rlimit_codecs(target)
    rusage = rusage_decoder(layout, target.byteorder)
    rlimit_type = ctypes.c_char * target.rlimit.layout.size
    # The kernel writes only sizeof(struct rusage); the slack protects against a layout error.
    rusage_type = ctypes.c_char * max(layout.size, 512)
    getpagesize = _function(lib, "getpagesize")

    def pagesize() -> int:
        if getpagesize is not None:
            return getpagesize()
        import os

        return os.sysconf("SC_PAGESIZE")

    return Binding(
        backend="ctypes",
        getrlimit=getrlimit,
        setrlimit=setrlimit,
        prlimit=prlimit,
        getrusage=getrusage,
        getpagesize=pagesize,
        get_errno=ctypes.get_errno,
        new_rlimit=rlimit_type,
        pack_rlimit=pack.pack_into,
        unpack_rlimit=unpack.unpack_from,
        new_rusage=rusage_type,
        unpack_rusage=rusage.unpack_from,
        null=None,
    )
