# -*- coding: utf-8 -*-
"""The tagged JSON encoding of values shared with the harness (rckit.conformance.harness.values):
the argument classes, ``decode`` for arguments and ``encode`` for results, with the guards that
keep a reply small whatever the candidate returns."""

from __future__ import absolute_import, print_function

import os
import sys

from .compat import integer_types, string_types

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401


#: The fields of a struct_rusage, in order.
RUSAGE_FIELDS = (
    "ru_utime", "ru_stime", "ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt",
    "ru_majflt", "ru_nswap", "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv",
    "ru_nsignals", "ru_nvcsw", "ru_nivcsw",
)


class IndexOnly(object):
    """An argument that is an integer only through __index__."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    def __repr__(self):
        return "IndexOnly(%r)" % self.value


class IntOnly(object):
    """An argument that is an integer only through __int__ (no __index__)."""

    def __init__(self, value):
        self.value = value

    def __int__(self):
        return self.value

    def __repr__(self):
        return "IntOnly(%r)" % self.value


class IntSubclass(int):
    """An int subclass whose __index__ and __int__ lie; CPython uses the int value."""

    def __index__(self):
        return 99

    def __int__(self):
        return 99

    def __repr__(self):
        return "IntSubclass(%s)" % int.__repr__(self)


class Exploding(object):
    """An iterable or index whose conversion raises RuntimeError("exploding argument")."""

    def __iter__(self):
        raise RuntimeError("exploding argument")

    def __index__(self):
        raise RuntimeError("exploding argument")

    def __repr__(self):
        return "Exploding()"


class Uncomparable(object):
    """An argument whose comparisons raise RuntimeError("uncomparable argument"): CPython never
    compares an argument with ==, so an implementation that does is told apart."""

    def __eq__(self, other):
        raise RuntimeError("uncomparable argument")

    def __ne__(self, other):
        raise RuntimeError("uncomparable argument")

    __hash__ = object.__hash__

    def __repr__(self):
        return "Uncomparable()"


def decode(obj, module):
    """Turn a tagged JSON value into the Python object it describes (arguments)."""
    tag = obj["t"]
    value = obj.get("v")
    if tag == "int":
        return int(value)
    if tag == "bool":
        return bool(value)
    if tag == "float":
        return float.fromhex(value)
    if tag == "str":
        if sys.version_info[0] == 2 and not isinstance(value, str):  # pragma: no cover
            return value.encode("utf-8")  # Python 2: native str from JSON's unicode
        return value
    if tag == "bytes":
        return bytes(bytearray.fromhex(value))
    if tag == "none":
        return None
    if tag == "tuple":
        return tuple(decode(item, module) for item in value)
    if tag == "list":
        return [decode(item, module) for item in value]
    if tag == "iter":
        return iter([decode(item, module) for item in value])
    if tag == "dict":
        return dict((decode(k, module), decode(v, module)) for k, v in value)
    if tag == "index":
        return IndexOnly(int(value))
    if tag == "intlike":
        return IntOnly(int(value))
    if tag == "intsub":
        return IntSubclass(int(value))
    if tag == "attr":
        return getattr(module, obj["name"])
    if tag == "object":
        return object()
    if tag == "exploding":
        return Exploding()
    if tag == "uncomparable":
        return Uncomparable()
    if tag == "pid":
        return os.getpid() if obj.get("which") == "self" else os.getppid()
    raise ValueError("unknown tag %r" % (tag,))


def type_name(kind):
    """'module.qualname' of a type, as the harness reports it."""
    qualname = getattr(kind, "__qualname__", kind.__name__)
    return "%s.%s" % (kind.__module__, qualname)


#: Bounds on what one result may cost to describe: a candidate returning megabytes, a
#: million-item list or an int of a million digits gets a short description, not a huge reply.
MAX_NODES = 5000
MAX_TEXT = 65536
MAX_INT_BITS = 4096


class Budget(object):
    """How many more values one reply may describe."""

    def __init__(self, nodes=MAX_NODES):
        self.nodes = nodes

    def take(self):
        self.nodes -= 1
        return self.nodes >= 0


def too_large(value, what):
    return {"t": "object", "type": type_name(type(value)), "repr": "<%s: not described>" % what}


def encode(value, depth=0, budget=None):
    """Describe a Python value as tagged JSON (results). Anything the candidate controls (its
    repr, len, items, attributes) is guarded: a method that raises or never ends its data cannot
    break the reply, and the reply stays small (see MAX_NODES, MAX_TEXT, MAX_INT_BITS)."""
    budget = budget if budget is not None else Budget()
    if not budget.take():
        return too_large(value, "too many values")
    if depth > 6:
        return {"t": "object", "type": type_name(type(value)), "repr": "..."}
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, integer_types) and type(value) in integer_types:
        if abs(value).bit_length() > MAX_INT_BITS:
            return too_large(value, "an int of %d bits" % abs(value).bit_length())
        return {"t": "int", "v": int(value)}
    if type(value) is float:
        return {"t": "float", "v": value.hex()}
    if type(value) in string_types:
        if sys.version_info[0] == 2 and isinstance(value, bytes):  # pragma: no cover
            value = value.decode("utf-8", "replace")
        if len(value) > MAX_TEXT:
            return too_large(value, "a string of %d characters" % len(value))
        return {"t": "str", "v": value}
    if sys.version_info[0] > 2 and type(value) is bytes:
        if len(value) > MAX_TEXT:
            return too_large(value, "%d bytes" % len(value))
        return {"t": "bytes", "v": value.hex()}
    if type(value) in (tuple, list):
        if len(value) > MAX_NODES:
            return too_large(value, "a %s of %d items" % (type(value).__name__, len(value)))
        tag = "tuple" if type(value) is tuple else "list"
        return {"t": tag, "v": [encode(item, depth + 1, budget) for item in value]}
    described = {"t": "object", "type": type_name(type(value)), "repr": safe_repr(value)}
    try:
        kind = type(value)
        sequence = isinstance(value, tuple) or (hasattr(kind, "__len__") and hasattr(kind, "__getitem__") and not isinstance(value, dict))
        size = len(value) if sequence else None
        if size is not None and 0 <= size <= MAX_NODES:  # a tuple subclass, or (2.7) a struct sequence
            described["items"] = [encode(value[i], depth + 1, budget) for i in range(size)]
    except BaseException:
        pass
    fields = {}
    for name in RUSAGE_FIELDS:
        try:
            fields[name] = encode(getattr(value, name), depth + 1, budget)
        except BaseException:
            pass
    if fields:
        described["fields"] = fields
    if isinstance(value, BaseException):
        described["exception"] = describe_exception(value, None)
    return described


def format_exc():
    """The exception being handled, as Python prints it (traceback imported only then: about
    4 ms of every fresh session's start)."""
    import traceback

    return traceback.format_exc()


def safe_repr(value):
    try:
        text = repr(value)
        text = text[:400] if isinstance(text, string_types) else "<repr returned %s>" % type(text).__name__
    except BaseException as exc:  # a broken __repr__ is a finding, not a crash
        text = "<repr raised %s>" % type(exc).__name__
    return text


def describe_exception(exc, module):
    """type, mro, message and errno of an exception."""
    error_class = getattr(module, "error", None) if module is not None else None
    try:
        number = _exception_errno(exc)
    except BaseException:
        number = None
    return {
        "type": type(exc).__name__,
        "qualname": type_name(type(exc)),
        "mro": [kind.__name__ for kind in type(exc).__mro__],
        "message": safe_str(exc),
        "errno": number,
        "is_module_error": bool(isinstance(error_class, type) and isinstance(exc, error_class)),
    }


def _exception_errno(exc):
    """The errno an exception carries: .errno, or (Python 2's resource.error) args (errno, text)."""
    number = getattr(exc, "errno", None)
    if isinstance(number, integer_types):
        return int(number)
    args = tuple(getattr(exc, "args", ()))  # type: Tuple[Any, ...]
    if len(args) == 2 and isinstance(args[0], integer_types) and isinstance(args[1], string_types):
        return int(args[0])
    return None


def safe_str(exc):
    try:
        text = str(exc)
    except BaseException:
        return "<str raised>"
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "... (%d characters)" % len(text)
