"""The implementation behind :mod:`rckit.reference.resource`.

Each public function takes a fast path for well-formed arguments (exact ints in range, a 2-tuple
of them, no keywords) and a C call that succeeds; anything else goes to its ``_slow_*`` twin, which
checks in CPython's order with :mod:`rckit.reference._convert` and raises CPython's exact errors.
Buffers C writes into come from free lists, so concurrent calls from several threads never share
one (list.pop/append are atomic), and no lock is taken.
"""

from __future__ import annotations

import errno as _errno
import sys
from typing import Any, Callable, Dict, List, NoReturn, Optional, Tuple

from rckit.platforms import current, python_names, since
from rckit.reference import _behaviour as B
from rckit.reference._convert import c_int, limit_value, limits_pair, os_error, prlimit_int
from rckit.reference._ffi import load, rlimit_codecs
from rckit.reference._rusage import make_struct_rusage

PUBLIC_MODULE = "rckit.reference.resource"

TARGET = current()
_native = load(TARGET, signed_reads=not B.UNSIGNED_LIMITS)

_NLIMITS: int = TARGET.constants.get("RLIM_NLIMITS", TARGET.constants.get("RLIMIT_NLIMITS", 0))
_RLIM_BITS = 8 * TARGET.rlimit.rlim_size
_RLIM_MASK = 2**_RLIM_BITS - 1
_INFINITY = TARGET.rlimit.infinity
_STORE_MASK = _RLIM_MASK & _INFINITY  # what CPython's "value & RLIM_INFINITY" leaves of a value
_INT_MIN, _INT_MAX = B.INT_MIN, B.INT_MAX
_EINVAL, _EPERM = _errno.EINVAL, _errno.EPERM
_NO: Any = object()  # an argument that was not passed
_audit: Optional[Callable[..., None]] = getattr(sys, "audit", None) if B.AUDIT else None

_c_getrlimit = _native.getrlimit
_c_setrlimit = _native.setrlimit
_c_prlimit = _native.prlimit
_c_getrusage = _native.getrusage
_errno_of = _native.errno_of
_pack_rl = _native.pack_rlimit
_encode_rl = _native.encode_rlimit
_unpack_rl = _native.unpack_rlimit
# 3.13.7+ and 3.14.1+ read limits unsigned but still show an unlimited one as RLIM_INFINITY,
# which stays the C value read signed (-1 on Linux) until 3.15. Limits are read signed there too,
# and the rare negative result is fixed up by _shown.
_FIX_READS = B.UNSIGNED_LIMITS and not B.POSITIVE_INFINITY
if _FIX_READS:
    _unpack_rl = rlimit_codecs(TARGET, signed_reads=True)[1].unpack_from
_UNLIMITED = TARGET.rlimit.infinity


def _signed(value: int, bits: int = _RLIM_BITS) -> int:
    """An rlim_t bit pattern read as a signed integer (how CPython before 3.15 shows RLIM_*)."""
    return value - (1 << bits) if value >> (bits - 1) else value


_SHOWN_UNLIMITED = _signed(_UNLIMITED)


def _shown(limits: Tuple[int, int]) -> Tuple[int, int]:
    """A (soft, hard) pair read signed, as 3.13.7+ and 3.14.1+ show it: unsigned, except an
    unlimited value, shown as RLIM_INFINITY read signed."""
    cur, mx = limits[0] & _RLIM_MASK, limits[1] & _RLIM_MASK
    return (_SHOWN_UNLIMITED if cur == _UNLIMITED else cur, _SHOWN_UNLIMITED if mx == _UNLIMITED else mx)


_unpack_times = _native.unpack_times
_unpack_counters = _native.unpack_counters
_COUNTERS = _native.counters_offset


def _new_rl() -> Tuple[Any, Any, Tuple[Tuple[int, Any], ...]]:
    """A struct rlimit buffer: (bytes to decode, what C writes into, getrlimit's arguments for
    each resource). Calling with a prebuilt argument tuple saves building one at each call."""
    data, arg = _native.new_rlimit()
    return data, arg, tuple((resource, arg) for resource in range(_NLIMITS))


_new_ru = _native.new_rusage
_NULL = _native.null
_LIMIT_MAX = 2**63 - 1
# The largest limit value the fast paths pass to C unchanged: from 3.13.7 and 3.14.1 every value
# up to the largest rlim_t; before, values up to 2**63-1 where masking with RLIM_INFINITY keeps
# them (all platforms but illumos, where no value takes the fast path).
if B.UNSIGNED_LIMITS:
    _FAST_MAX = _RLIM_MASK
elif _STORE_MASK & _LIMIT_MAX == _LIMIT_MAX:
    _FAST_MAX = _LIMIT_MAX
else:
    _FAST_MAX = -1

# Free lists of buffers (see _new_rl; rusage ones are pairs): a call takes one and gives it back, so no two
# threads (nor a signal handler and the code it interrupted) ever share a buffer; list.pop and
# list.append are atomic, and no lock is taken.
_rl_free: List[Any] = [_new_rl() for _ in range(4)]
_ru_free: List[Any] = [_new_ru() for _ in range(2)]
_take_rl, _give_rl = _rl_free.pop, _rl_free.append
_take_ru, _give_ru = _ru_free.pop, _ru_free.append
#: (take, make, give back) a buffer of one kind, for the slow paths.
_Buffers = Tuple[Callable[[], Any], Callable[[], Any], Callable[[Any], None]]
_RL_BUFFERS: _Buffers = (_take_rl, _new_rl, _give_rl)
_RU_BUFFERS: _Buffers = (_take_ru, _new_ru, _give_ru)

struct_rusage = make_struct_rusage(PUBLIC_MODULE)
_make_rusage = tuple.__new__


def _resource(obj: object, convert: Callable[[object], int] = c_int) -> int:
    value = convert(obj)
    if not 0 <= value < _NLIMITS:
        raise ValueError(B.MSG_INVALID_RESOURCE)
    return value


def _limits(limits: object) -> Tuple[int, int]:
    """(soft, hard) as rlim_t bit patterns, for anything."""
    cur, mx = limits_pair(limits)
    return limit_value(cur, _RLIM_BITS, _INFINITY), limit_value(mx, _RLIM_BITS, _INFINITY)


def _arity(name: str, given: int, kwargs: Dict[str, Any]) -> NoReturn:
    if kwargs:
        raise TypeError(B.no_keywords(name))
    if name == "setrlimit":
        raise TypeError(B.setrlimit_arity(given))
    raise TypeError(B.exactly_one(name, given))


def _setrlimit_failed(err: int) -> NoReturn:
    if err == _EINVAL:
        raise ValueError(B.MSG_CUR_EXCEEDS_MAX)
    if err == _EPERM:
        raise ValueError(B.MSG_RAISE_MAX)
    os_error(err)


def _take(take: Callable[[], Any], new: Callable[[], Any]) -> Any:
    """A buffer pair from a free list, or a new one if the list is empty."""
    try:
        return take()
    except IndexError:
        return new()


def _one_argument(name: str, value: Any, extra: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    """CPython's TypeError unless function ``name`` got exactly one positional argument, ``value``."""
    if kwargs or extra or value is _NO:
        _arity(name, len(extra) + (value is not _NO), kwargs)


def _slow_read(
    name: str, call: Callable[..., int], arg: int, buffers: _Buffers, decode: Callable[[Any], Any], *, invalid: str = ""
) -> Any:
    """What C's ``name`` wrote, called with the checked ``arg`` and a buffer of ``buffers``,
    decoded; if it fails, CPython's error (ValueError(``invalid``) for EINVAL, where given)."""
    take, new, give = buffers
    pair = _take(take, new)
    args = (arg, pair[1])
    if call(*args):
        err = _errno_of(name, args)
        if err:
            give(pair)
            if err == _EINVAL and invalid:
                raise ValueError(invalid)
            os_error(err)
    value = decode(pair[0])
    give(pair)
    return value


# Each public function tries a fast path first: exact ints in range (and a 2-tuple of them for
# limits), no keywords, the C call succeeding. Anything else goes to its _slow_* twin, which checks
# everything in CPython's order and raises CPython's exact errors. The audit event is raised once,
# by whichever path gets there.


def getrlimit(resource: Any = _NO, /, *extra: Any, **kwargs: Any) -> Tuple[int, int]:
    """Return the (soft, hard) limits of ``resource`` as a tuple of ints."""
    if type(resource) is int and 0 <= resource < _NLIMITS and not (extra or kwargs):
        try:
            pair = _take_rl()
        except IndexError:
            pair = _new_rl()
        if not _c_getrlimit(*pair[2][resource]):
            value = _unpack_rl(pair[0])
            _give_rl(pair)
            if _FIX_READS and (value[0] < 0 or value[1] < 0):
                return _shown(value)
            return value
        _give_rl(pair)
    return _slow_getrlimit(resource, extra, kwargs)


def _slow_getrlimit(resource: Any, extra: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[int, int]:
    _one_argument("getrlimit", resource, extra, kwargs)
    value: Tuple[int, int] = _slow_read("getrlimit", _c_getrlimit, _resource(resource), _RL_BUFFERS, _unpack_rl)
    return _shown(value) if _FIX_READS else value


def setrlimit(resource: Any = _NO, limits: Any = _NO, /, *extra: Any, **kwargs: Any) -> None:
    """Set the (soft, hard) limits of ``resource``; ValueError if not allowed."""
    if type(resource) is int and 0 <= resource < _NLIMITS and type(limits) is tuple and not (extra or kwargs):
        if _audit is not None:
            _audit("resource.setrlimit", resource, limits)
        if len(limits) == 2:
            cur, mx = limits
            if type(cur) is int and type(mx) is int and 0 <= cur <= _FAST_MAX and 0 <= mx <= _FAST_MAX:
                args = _set_args[resource].get(limits) if _encode_rl is not None else None
                if args is None or _c_setrlimit(*args):
                    _set(resource, cur, mx)  # the general way, or a failed call repeated there
                return None
        _set(resource, *_limits(limits))
        return None
    return _slow_setrlimit(resource, limits, extra, kwargs)


def _slow_setrlimit(resource: Any, limits: Any, extra: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    if kwargs or extra or limits is _NO:
        _arity("setrlimit", len(extra) + (resource is not _NO) + (limits is not _NO), kwargs)
    resource = _resource(resource)
    if _audit is not None:
        _audit("resource.setrlimit", resource, limits)
    _set(resource, *_limits(limits))


# Where C takes the limits as bytes (ctypes): setrlimit's arguments (resource, packed limits) for
# the first few limits each resource was set to. Programs tend to set the same values again and
# again (the limits just read, a few fixed values), and packing is a pure function of them. Only
# exact ints are looked up, since (1.0, 2) == (1, 2): the fast path checks them first.
_SET_ARGS_KEPT = 8
_set_args: List[Dict[Tuple[int, int], Tuple[int, bytes]]] = [{} for _ in range(_NLIMITS)]


def _set(resource: int, cur: int, mx: int) -> None:
    """setrlimit with checked arguments (the audit event raised); CPython's errors if it fails."""
    if _encode_rl is not None:
        packed = (resource, _encode_rl(cur, mx))
        if not _c_setrlimit(*packed):
            kept = _set_args[resource]
            if len(kept) < _SET_ARGS_KEPT and cur <= _FAST_MAX and mx <= _FAST_MAX:
                kept[(cur, mx)] = packed
            return
        err = _errno_of("setrlimit", packed)
        if err:
            _setrlimit_failed(err)
        return
    try:
        pair = _take_rl()
    except IndexError:
        pair = _new_rl()
    _pack_rl(pair[0], 0, cur, mx)
    if _c_setrlimit(resource, pair[1]):  # a direct call: PyPy's JIT handles it best
        err = _errno_of("setrlimit", (resource, pair[1]))
        if err:
            _give_rl(pair)
            _setrlimit_failed(err)
    _give_rl(pair)


def prlimit(pid: Any = _NO, resource: Any = _NO, limits: Any = _NO, /, *extra: Any, **kwargs: Any) -> Tuple[int, int]:
    """Return the limits of ``resource`` for process ``pid`` (0: this one); set them to ``limits``
    if given, returning the previous ones."""
    if (
        type(pid) is int
        and type(resource) is int
        and _INT_MIN <= pid <= _INT_MAX
        and 0 <= resource < _NLIMITS
        and not (extra or kwargs)
    ):
        if _audit is not None:
            _audit("resource.prlimit", pid, resource, None if limits is _NO else limits)
        if limits is _NO or (limits is None and _NONE_READS):
            try:
                pair = _take_rl()
            except IndexError:
                pair = _new_rl()
            if not _c_prlimit(pid, resource, _NULL, pair[1]):  # type: ignore[misc]
                value = _unpack_rl(pair[0])
                _give_rl(pair)
                if _FIX_READS and (value[0] < 0 or value[1] < 0):
                    return _shown(value)
                return value
            _give_rl(pair)
            return _prlimit(pid, resource, None)
        if type(limits) is tuple and len(limits) == 2:
            cur, mx = limits
            if type(cur) is int and type(mx) is int and 0 <= cur <= _FAST_MAX and 0 <= mx <= _FAST_MAX:
                return _prlimit(pid, resource, (cur, mx))
        return _prlimit(pid, resource, _limits(limits))
    return _slow_prlimit(pid, resource, limits, extra, kwargs)


_NONE_READS = B.PRLIMIT_NONE_READS


def _slow_prlimit(pid: Any, resource: Any, limits: Any, extra: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[int, int]:
    if kwargs:
        raise TypeError(B.prlimit_keywords())
    given = len(extra) + (pid is not _NO) + (resource is not _NO) + (limits is not _NO)
    if not 2 <= given <= 3:
        raise TypeError(B.prlimit_arity(given))
    if type(pid) is not int or not _INT_MIN <= pid <= _INT_MAX:
        pid = prlimit_int(pid)
    if type(resource) is not int or not 0 <= resource < _NLIMITS:
        resource = _resource(resource, prlimit_int)
    if _audit is not None:
        _audit("resource.prlimit", pid, resource, None if limits is _NO else limits)
    writing = not (limits is _NO or (limits is None and _NONE_READS))
    return _prlimit(pid, resource, _limits(limits) if writing else None)


def _prlimit(pid: int, resource: int, new: Optional[Tuple[int, int]]) -> Tuple[int, int]:
    """prlimit with checked arguments (the audit event raised): the previous limits, or CPython's
    errors if it fails."""
    old = _take(_take_rl, _new_rl)
    written = None
    if new is not None:
        written = _take(_take_rl, _new_rl)
        _pack_rl(written[0], 0, new[0], new[1])
    args = (pid, resource, _NULL if written is None else written[1], old[1])
    failed = _c_prlimit(*args)  # type: ignore[misc]
    err = _errno_of("prlimit", args) if failed else 0
    if written is not None:
        _give_rl(written)
    if err:
        _give_rl(old)
        if err == _EINVAL:
            raise ValueError(B.MSG_CUR_EXCEEDS_MAX)
        os_error(err)
    value = _unpack_rl(old[0])
    _give_rl(old)
    return _shown(value) if _FIX_READS else value


def getrusage(who: Any = _NO, /, *extra: Any, **kwargs: Any) -> Any:
    """Return a struct_rusage describing the resources used by ``who`` (RUSAGE_SELF, ...)."""
    if type(who) is int and _INT_MIN <= who <= _INT_MAX and not (extra or kwargs):
        try:
            pair = _take_ru()
        except IndexError:
            pair = _new_ru()
        data, arg = pair
        if not _c_getrusage(who, arg):
            result = _rusage_of(data)
            _give_ru(pair)
            return result
        _give_ru(pair)
    return _slow_getrusage(who, extra, kwargs)


def _rusage_of(data: Any) -> Any:
    """The struct_rusage of a filled ``struct rusage`` buffer (both paths build it here)."""
    utime, utime_us, stime, stime_us = _unpack_times(data)
    # As CPython computes it: seconds + microseconds * 0.000001.
    times = (utime + utime_us * 0.000001, stime + stime_us * 0.000001)
    return _make_rusage(struct_rusage, times + _unpack_counters(data, _COUNTERS))


def _slow_getrusage(who: Any, extra: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    _one_argument("getrusage", who, extra, kwargs)
    return _slow_read("getrusage", _c_getrusage, c_int(who), _RU_BUFFERS, _rusage_of, invalid=B.MSG_INVALID_WHO)


def getpagesize(*args: Any, **kwargs: Any) -> int:
    """Return the number of bytes in a system page."""
    if kwargs:
        raise TypeError(B.no_keywords("getpagesize"))
    if args:
        raise TypeError(B.no_arguments("getpagesize", len(args)))
    return _native.getpagesize()


# What inspect.signature (and so stubtest and IDEs) report: CPython's signatures, without the
# cost of importing inspect. Each carrier calls the real function, so unwrapping is harmless.
def _sig_getrlimit(resource: int, /) -> Tuple[int, int]:
    return getrlimit(resource)


def _sig_setrlimit(resource: int, limits: Tuple[int, int], /) -> None:
    return setrlimit(resource, limits)


def _sig_prlimit_3_12(pid: int, resource: int, limits: Optional[Tuple[int, int]] = None, /) -> Tuple[int, int]:
    return prlimit(pid, resource, limits)


def _sig_prlimit_3_8(pid: int, resource: int, limits: Any = ..., /) -> Tuple[int, int]:
    """3.8-3.11: an optional argument with no default value (CPython's optional group)."""
    return prlimit(pid, resource) if limits is ... else prlimit(pid, resource, limits)


_sig_prlimit = _sig_prlimit_3_12 if B.PRLIMIT_NONE_READS else _sig_prlimit_3_8


def _sig_getrusage(who: int, /) -> Any:
    return getrusage(who)


def _sig_getpagesize() -> int:
    return getpagesize()


for _public, _carrier in (
    (getrlimit, _sig_getrlimit),
    (setrlimit, _sig_setrlimit),
    (prlimit, _sig_prlimit),
    (getrusage, _sig_getrusage),
    (getpagesize, _sig_getpagesize),
):
    setattr(_public, "__wrapped__", _carrier)  # noqa: B010 - functions have no declared __wrapped__
    _public.__module__ = PUBLIC_MODULE
    _carrier.__module__ = PUBLIC_MODULE
    _carrier.__qualname__ = _carrier.__name__ = _public.__name__

HAS_PRLIMIT = _c_prlimit is not None and sys.version_info[:2] >= since(python_names()["functions"]["prlimit"]["since"])


def constants() -> Dict[str, int]:
    """The RLIMIT_*, RUSAGE_* and RLIM_* names CPython of this version has on this platform."""
    version = sys.version_info[:2]
    names = python_names()
    exported = {
        name: TARGET.constants[name]
        for name, info in names["constants"].items()
        if name in TARGET.constants and version >= since(info["since"])
    }
    specials = {
        "RLIM_INFINITY": TARGET.rlimit.infinity,
        "RLIM_SAVED_CUR": TARGET.rlimit.saved_cur,
        "RLIM_SAVED_MAX": TARGET.rlimit.saved_max,
    }
    for name, info in names["limit_values"].items():
        value = specials[name]
        if value is not None and version >= since(info["since"]):
            exported[name] = value if B.POSITIVE_INFINITY else _signed(value)
    return exported
