"""Argument conversion as CPython's C layer does it, for the inputs the fast paths do not take.

Each function raises exactly the exception (type and message) that CPython of the running version
raises for the same input; see :mod:`rckit.reference._behaviour` for the version switches.
"""

from __future__ import annotations

import operator
import os
import sys
import warnings
from typing import Iterable, NoReturn, SupportsIndex, SupportsInt, Tuple, cast

from rckit.reference import _behaviour as B

__all__ = [
    "c_int",
    "limit_value",
    "limits_pair",
    "os_error",
    "prlimit_int",
    "to_int",
]

#: This package's folder: a warning is attributed to the first frame outside it, the caller of
#: the public function, as a warning raised by CPython's C module is.
_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def _warn(message: str) -> None:
    """A DeprecationWarning attributed to the caller of the public function (however deep in
    this package the conversion ran)."""
    frame = sys._getframe(1)  # the converter that warns: stacklevel 2 (1 is this function)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    warnings.warn(message, DeprecationWarning, stacklevel=level)


def to_int(obj: object) -> int:
    """Convert like CPython's C API: __index__, plus (3.8, 3.9) __int__ with a DeprecationWarning."""
    if isinstance(obj, int):
        # The int value of an int subclass, never its own __int__/__index__ (on PyPy, even
        # int.__index__(obj) dispatches to the subclass; int.__and__ does not anywhere).
        return int.__and__(obj, -1)
    kind = type(obj)
    if hasattr(kind, "__index__"):
        return operator.index(cast(SupportsIndex, obj))
    if B.INT_FALLBACK and hasattr(kind, "__int__"):
        _warn(B.int_deprecation(obj))
        return int(cast(SupportsInt, obj))
    raise TypeError(B.not_an_integer(obj))


def _reject_float(obj: object) -> None:
    if B.INT_FALLBACK and isinstance(obj, float):
        raise TypeError(B.FLOAT_FOR_INT_PARAM)


def c_int(obj: object) -> int:
    """A parameter CPython declares as C ``int`` (resource, who)."""
    _reject_float(obj)
    value = to_int(obj)
    if not B.INT_MIN <= value <= B.INT_MAX:
        raise OverflowError(B.MSG_C_INT_OVERFLOW)
    return value


def prlimit_int(obj: object) -> int:
    """prlimit's ``pid`` and ``resource``: parsed with the "i" format before 3.12 (its own range
    messages), as a C int from 3.12 (3.12.3 for the pid)."""
    _reject_float(obj)
    value = to_int(obj)
    if B.PID_IS_C_INT:
        if not B.INT_MIN <= value <= B.INT_MAX:
            raise OverflowError(B.MSG_C_INT_OVERFLOW)
        return value
    if not B.LONG_MIN <= value <= B.LONG_MAX:
        raise OverflowError(B.MSG_C_LONG_OVERFLOW)
    if value > B.INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if value < B.INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return value


def limit_value(obj: object, rlim_bits: int, infinity: int) -> int:
    """One soft or hard value as the rlim_t bit pattern CPython of this version stores for it.

    Up to 3.13.6 and in 3.14.0: a signed 64-bit C integer, masked with RLIM_INFINITY, so every
    negative value is accepted and -1 means unlimited on every platform. From 3.13.7 and 3.14.1:
    an unsigned rlim_t; a negative value is refused unless, read in rlim_t's width, it is
    RLIM_INFINITY (-1 on Linux; none on macOS and the BSDs), which 3.15 accepts with a warning."""
    value = to_int(obj)
    if not B.UNSIGNED_LIMITS:
        if not -(2**63) <= value < 2**63:
            raise OverflowError(B.MSG_LIMIT_OVERFLOW)
        return value & ((1 << rlim_bits) - 1) & infinity
    if value < 0:
        # CPython converts to rlim_t's width and accepts the result only when it is
        # RLIM_INFINITY and the negative value fitted that width as a signed integer.
        if value >= -(1 << (rlim_bits - 1)) and value & ((1 << rlim_bits) - 1) == infinity:
            if B.POSITIVE_INFINITY:
                _warn(B.MSG_NEGATIVE_INFINITY)
            return infinity
        raise ValueError(B.MSG_NEGATIVE_LIMIT)
    if value >> rlim_bits:
        raise OverflowError(B.MSG_RLIM_OVERFLOW)
    return value


def limits_pair(limits: object) -> Tuple[object, object]:
    """The (soft, hard) objects of ``limits``: any iterable of exactly two items."""
    items = tuple(cast(Iterable[object], limits))
    if len(items) != 2:
        raise ValueError(B.MSG_LIMITS_SHAPE)
    return items[0], items[1]


def os_error(errno: int) -> NoReturn:
    """Raise the OSError subclass CPython raises for ``errno`` (PermissionError, ...)."""
    raise OSError(errno, os.strerror(errno))
