"""The implementation behind :mod:`rckit.reference.resource`.

Each public function takes a fast path for well-formed arguments (exact ints in range, a 2-tuple
of ints) and hands anything else to :mod:`rckit.reference._convert`, which reproduces CPython's
checks and messages. Buffers come from free lists, so concurrent calls from several threads never
share one (list.pop/append are atomic), and no lock is taken.
"""

from __future__ import annotations

import errno as _errno
import sys
from typing import Any, Callable, Dict, List, NoReturn, Optional, Tuple

from rckit.platforms import current, python_names, since
from rckit.reference import _behaviour as B
from rckit.reference._convert import c_int, limit_value, limits_pair, os_error, prlimit_int
from rckit.reference._ffi import load
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
_unpack_rl = _native.unpack_rlimit
if B.UNSIGNED_LIMITS and not B.POSITIVE_INFINITY:
    # 3.13.7+ and 3.14.1+ read limits unsigned but still show an unlimited one as RLIM_INFINITY,
    # which stays the C value read signed (-1 on Linux) until 3.15.
    _read_unsigned, _UNLIMITED = _unpack_rl, TARGET.rlimit.infinity
    _SHOWN_UNLIMITED = _UNLIMITED - (1 << _RLIM_BITS) if _UNLIMITED >> (_RLIM_BITS - 1) else _UNLIMITED

    def _unpack_rl(data: Any) -> Tuple[int, int]:
        cur, mx = _read_unsigned(data)
        return (_SHOWN_UNLIMITED if cur == _UNLIMITED else cur, _SHOWN_UNLIMITED if mx == _UNLIMITED else mx)


_unpack_times = _native.unpack_times
_unpack_counters = _native.unpack_counters
_COUNTERS = _native.counters_offset
_new_rl = _native.new_rlimit
_new_ru = _native.new_rusage
_NULL = _native.null
_LIMIT_MIN, _LIMIT_MAX = -(2**63), 2**63 - 1
# Where RLIM_INFINITY keeps the low 63 bits (all platforms but illumos), masking leaves a
# non-negative value unchanged, so the fast paths skip it.
_MASK_KEEPS_POSITIVE = _STORE_MASK & _LIMIT_MAX == _LIMIT_MAX
# From 3.13.7 and 3.14.1 every value from 0 to the largest rlim_t passes unchanged.
_UNSIGNED = B.UNSIGNED_LIMITS

# Free lists of (buffer, pointer) pairs: a call takes one and gives it back, so no two threads
# ever share a buffer (list.pop and list.append are atomic), and no lock is taken.
_rl_free: List[Any] = [_new_rl() for _ in range(4)]
_ru_free: List[Any] = [_new_ru() for _ in range(2)]
_take_rl, _give_rl = _rl_free.pop, _rl_free.append
_take_ru, _give_ru = _ru_free.pop, _ru_free.append

struct_rusage = make_struct_rusage(PUBLIC_MODULE)
_make_rusage = tuple.__new__


def _resource(obj: object, convert: Callable[[object], int] = c_int) -> int:
    value = convert(obj)
    if not 0 <= value < _NLIMITS:
        raise ValueError(B.MSG_INVALID_RESOURCE)
    return value


def _limits(limits: object) -> Tuple[int, int]:
    """(soft, hard) as rlim_t bit patterns, for anything but a 2-tuple of in-range ints."""
    cur, mx = limits_pair(limits)
    return limit_value(cur, _RLIM_BITS, _INFINITY), limit_value(mx, _RLIM_BITS, _INFINITY)


def _arity(name: str, given: int, kwargs: Dict[str, Any]) -> NoReturn:
    if kwargs:
        raise TypeError(B.no_keywords(name))
    if name == "setrlimit":
        raise TypeError(B.setrlimit_arity(given))
    raise TypeError(B.exactly_one(name, given))


def _failed(name: str, args: Tuple[Any, ...], buffers: Any, give: Callable[[Any], None]) -> int:
    """The errno of a failed call (0 if repeating it to learn the errno succeeded)."""
    err = _errno_of(name, args)
    if err:
        give(buffers)
    return err


def _setrlimit_failed(err: int) -> NoReturn:
    if err == _EINVAL:
        raise ValueError(B.MSG_CUR_EXCEEDS_MAX)
    if err == _EPERM:
        raise ValueError(B.MSG_RAISE_MAX)
    os_error(err)


def getrlimit(resource: Any = _NO, /, *extra: Any, **kwargs: Any) -> Tuple[int, int]:
    """Return the (soft, hard) limits of ``resource`` as a tuple of ints."""
    if kwargs or extra or resource is _NO:
        _arity("getrlimit", len(extra) + (resource is not _NO), kwargs)
    if type(resource) is not int or not 0 <= resource < _NLIMITS:
        resource = _resource(resource)
    try:
        buf = _take_rl()
    except IndexError:
        buf = _new_rl()
    if _c_getrlimit(resource, buf[1]):
        err = _failed("getrlimit", (resource, buf[1]), buf, _give_rl)
        if err:
            os_error(err)
    value = _unpack_rl(buf[0])
    _give_rl(buf)
    return value


def setrlimit(resource: Any = _NO, limits: Any = _NO, /, *extra: Any, **kwargs: Any) -> None:
    """Set the (soft, hard) limits of ``resource``; ValueError if not allowed."""
    if kwargs or extra or limits is _NO:
        _arity("setrlimit", len(extra) + (resource is not _NO) + (limits is not _NO), kwargs)
    if type(resource) is not int or not 0 <= resource < _NLIMITS:
        resource = _resource(resource)
    if _audit is not None:
        _audit("resource.setrlimit", resource, limits)
    cur, mx = _limit_pair_fast(limits) if type(limits) is tuple and len(limits) == 2 else _limits(limits)
    try:
        buf = _take_rl()
    except IndexError:
        buf = _new_rl()
    _pack_rl(buf[0], 0, cur, mx)
    if _c_setrlimit(resource, buf[1]):
        err = _failed("setrlimit", (resource, buf[1]), buf, _give_rl)
        if err:
            _setrlimit_failed(err)
    _give_rl(buf)


def prlimit(pid: Any = _NO, resource: Any = _NO, limits: Any = _NO, /, *extra: Any, **kwargs: Any) -> Tuple[int, int]:
    """Return the limits of ``resource`` for process ``pid`` (0: this one); set them to ``limits``
    if given, returning the previous ones."""
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
    writing = not (limits is _NO or (limits is None and B.PRLIMIT_NONE_READS))
    if writing:
        cur, mx = _limit_pair_fast(limits) if type(limits) is tuple and len(limits) == 2 else _limits(limits)
    try:
        old = _take_rl()
    except IndexError:
        old = _new_rl()
    new: Any = None
    if writing:
        try:
            new = _take_rl()
        except IndexError:
            new = _new_rl()
        _pack_rl(new[0], 0, cur, mx)
    assert _c_prlimit is not None
    args = (pid, resource, new[1] if writing else _NULL, old[1])
    if _c_prlimit(*args):
        err = _errno_of("prlimit", args)
        if err:
            _give_rl(old)
            if writing:
                _give_rl(new)
            if err == _EINVAL:
                raise ValueError(B.MSG_CUR_EXCEEDS_MAX)
            os_error(err)
    value = _unpack_rl(old[0])
    _give_rl(old)
    if writing:
        _give_rl(new)
    return value


def _limit_pair_fast(limits: Tuple[Any, Any]) -> Tuple[int, int]:
    """(soft, hard) bit patterns from a 2-tuple; ints in [0, 2**63) need no masking (and, from
    3.13.7 and 3.14.1, no ints from 0 to the largest rlim_t)."""
    cur, mx = limits
    if type(cur) is int and type(mx) is int:
        if _UNSIGNED:
            if 0 <= cur <= _RLIM_MASK and 0 <= mx <= _RLIM_MASK:
                return limits
        elif _MASK_KEEPS_POSITIVE and 0 <= cur <= _LIMIT_MAX and 0 <= mx <= _LIMIT_MAX:
            return limits
        elif _LIMIT_MIN <= cur <= _LIMIT_MAX and _LIMIT_MIN <= mx <= _LIMIT_MAX:
            return cur & _STORE_MASK, mx & _STORE_MASK
    return _limits(limits)


def getrusage(who: Any = _NO, /, *extra: Any, **kwargs: Any) -> Any:
    """Return a struct_rusage describing the resources used by ``who`` (RUSAGE_SELF, ...)."""
    if kwargs or extra or who is _NO:
        _arity("getrusage", len(extra) + (who is not _NO), kwargs)
    if type(who) is not int or not _INT_MIN <= who <= _INT_MAX:
        who = c_int(who)
    try:
        buf = _take_ru()
    except IndexError:
        buf = _new_ru()
    if _c_getrusage(who, buf[1]):
        err = _failed("getrusage", (who, buf[1]), buf, _give_ru)
        if err == _EINVAL:
            raise ValueError(B.MSG_INVALID_WHO)
        if err:
            os_error(err)
    data = buf[0]
    utime, utime_us, stime, stime_us = _unpack_times(data)
    counters = _unpack_counters(data, _COUNTERS)
    _give_ru(buf)
    # As CPython computes it: seconds + microseconds * 0.000001.
    return _make_rusage(struct_rusage, (utime + utime_us * 0.000001, stime + stime_us * 0.000001) + counters)


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


def _signed(value: int) -> int:
    """An rlim_t bit pattern read as a signed integer (how CPython before 3.15 shows RLIM_*)."""
    return value - (1 << _RLIM_BITS) if value >> (_RLIM_BITS - 1) else value


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
