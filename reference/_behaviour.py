"""What CPython's resource module does differently from one Python version to the next.

The reference behaves like CPython of the version it runs on, to the patch release where
behaviour changed in one (PyPy 3.9 and 3.11 get CPython 3.9's and 3.11's behaviour). Every version
switch and every message text lives here; the facts were measured on CPython 3.8.18, 3.9.18,
3.10.13, 3.11.7, 3.12.1, 3.13.0, 3.13.5, 3.13.15, 3.13.18, 3.14.8, 3.14.10, 3.15.0 and 3.15.2 and
the debug builds of the last three (see tests/test_reference_differential.py).
Platform facts (C layouts, constants) are not here: they come from rckit.platforms.
"""

from __future__ import annotations

import struct
import sys
from typing import Tuple

V = sys.version_info[:2]


def unsigned_limits(version: Tuple[int, ...]) -> bool:
    """gh-137044: limit values are converted as unsigned rlim_t (0 to its maximum; a negative value
    is refused unless its bit pattern is RLIM_INFINITY) from 3.13.7 and 3.14.1, as in 3.15. Up to
    3.13.6 and in 3.14.0 they are signed 64-bit C integers masked with RLIM_INFINITY. The patch
    releases come from CPython's changelog; 3.13.5 and 3.13.15 bracket the change as measured."""
    return tuple(version[:3]) >= (3, 13, 7) and tuple(version[:3]) != (3, 14, 0)


def positive_infinity(version: Tuple[int, ...]) -> bool:
    """3.15 reads every limit as unsigned (RLIM_INFINITY is 2**64-1 on Linux, RLIM_SAVED_* exist)
    and warns when a negative value stands for RLIM_INFINITY. Before, RLIM_INFINITY is the C
    value read as a signed integer (-1 on Linux), also when an unlimited limit is read back."""
    return tuple(version[:2]) >= (3, 15)


#: How limit values convert for the running version (see the two functions above).
UNSIGNED_LIMITS = unsigned_limits(sys.version_info[:3])
POSITIVE_INFINITY = positive_infinity(sys.version_info[:3])

#: 3.9+ prefix argument-count errors with the module name ("resource.getrlimit()").
QUALIFIED_NAMES = V >= (3, 9)
#: 3.8 and 3.9 convert with __int__ as a fallback (DeprecationWarning); 3.10+ use __index__ only.
INT_FALLBACK = V < (3, 10)
#: 3.12 made prlimit's limits argument optional with None meaning "read only".
PRLIMIT_NONE_READS = V >= (3, 12)
#: 3.12.3 and 3.13 convert pid as a C int ("Python int too large to convert to C int"). The
#: reference does so on all of 3.12: 3.12.0-3.12.2 truncated the pid instead (gh-117021, a known
#: deviation of those C modules), a bug it does not copy.
PID_IS_C_INT = V >= (3, 12)
#: 3.8 added sys.audit and the resource.setrlimit / resource.prlimit events.
AUDIT = V >= (3, 8)
#: struct sequences: __match_args__ from 3.10, __replace__ and the strict dict argument from 3.13.
MATCH_ARGS = V >= (3, 10)
REPLACE = V >= (3, 13)
STRICT_STRUCT_DICT = V >= (3, 13)
NO_DICT_SUFFIX = " and no __dict__ for setting new attributes" if V >= (3, 13) else ""

LONG_BITS = struct.calcsize("l") * 8
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2 ** (LONG_BITS - 1)), 2 ** (LONG_BITS - 1) - 1

MSG_INVALID_RESOURCE = "invalid resource specified"
MSG_INVALID_WHO = "invalid who parameter"
MSG_LIMITS_SHAPE = "expected a tuple of 2 integers"
MSG_CUR_EXCEEDS_MAX = "current limit exceeds maximum limit"
MSG_RAISE_MAX = "not allowed to raise maximum limit"
MSG_C_INT_OVERFLOW = "Python int too large to convert to C int"
MSG_C_LONG_OVERFLOW = "Python int too large to convert to C long"
#: A limit value is a C long where rlim_t fits one (LP64), else a long long (32-bit builds with
#: large-file support), whose overflow message is different.
MSG_LIMIT_OVERFLOW = MSG_C_LONG_OVERFLOW if LONG_BITS >= 64 else "int too big to convert"
#: Unsigned limit values (3.13.7+, 3.14.1+): a refused negative value, a value beyond rlim_t, and
#: (3.15+) the DeprecationWarning for a negative value that stands for RLIM_INFINITY.
MSG_NEGATIVE_LIMIT = "Cannot convert negative int"
MSG_RLIM_OVERFLOW = "Python int too large to convert to C rlim_t"
MSG_NEGATIVE_INFINITY = "Use RLIM_INFINITY instead of negative limit value."


def func_name(name: str) -> str:
    """The name CPython puts in front of an argument-count error for ``name``."""
    return "resource.%s()" % name if QUALIFIED_NAMES else "%s()" % name


def no_keywords(name: str) -> str:
    """The message for keyword arguments passed to a function that takes none."""
    return "%s takes no keyword arguments" % func_name(name)


def exactly_one(name: str, given: int) -> str:
    """The message for a one-argument function called with ``given`` arguments."""
    return "%s takes exactly one argument (%d given)" % (func_name(name), given)


def no_arguments(name: str, given: int) -> str:
    """The message for getpagesize() called with arguments."""
    return "%s takes no arguments (%d given)" % (func_name(name), given)


def unexpected_keyword(function: str, keyword: str) -> str:
    """The message for a keyword argument that names no parameter (3.13 words it as Python
    functions do)."""
    if V >= (3, 13):
        return "%s() got an unexpected keyword argument '%s'" % (function, keyword)
    return "'%s' is an invalid keyword argument for %s()" % (keyword, function)


def setrlimit_arity(given: int) -> str:
    """The message for setrlimit called with the wrong number of arguments."""
    return "setrlimit expected 2 arguments, got %d" % given


def prlimit_keywords() -> str:
    """The message for keyword arguments passed to prlimit (qualified only from 3.12)."""
    return "resource.prlimit() takes no keyword arguments" if V >= (3, 12) else "prlimit() takes no keyword arguments"


def prlimit_arity(given: int) -> str:
    """The message for prlimit called with other than two or three arguments."""
    if V < (3, 12):
        return "resource.prlimit requires 2 to 3 arguments"
    if given < 2:
        return "prlimit expected at least 2 arguments, got %d" % given
    return "prlimit expected at most 3 arguments, got %d" % given


def not_an_integer(obj: object) -> str:
    """The TypeError message for an object the integer conversion cannot use."""
    if INT_FALLBACK:
        return "an integer is required (got type %s)" % type(obj).__name__
    return "'%s' object cannot be interpreted as an integer" % type(obj).__name__


def int_deprecation(obj: object) -> str:
    """The DeprecationWarning of 3.8 and 3.9 when __int__ stands in for __index__."""
    return (
        "an integer is required (got type %s).  Implicit conversion to integers using __int__ "
        "is deprecated, and may be removed in a future version of Python." % type(obj).__name__
    )


#: 3.8 and 3.9 reject a float for an int parameter with their own message before any conversion.
FLOAT_FOR_INT_PARAM = "integer argument expected, got float"
