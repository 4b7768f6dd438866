"""``struct_rusage``: a tuple subclass that behaves like CPython's struct sequence of that name."""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Dict, Tuple

from rckit.reference import _behaviour as B
from rckit.reference._ffi import RUSAGE_FIELDS

__all__ = ["make_struct_rusage"]

TYPE_NAME = "resource.struct_rusage"

# Our own one-line descriptions of the fields (see the table in the documentation).
FIELD_DOCS = (
    "CPU time spent in user mode, in seconds",
    "CPU time spent in the kernel, in seconds",
    "peak resident set size (platform unit)",
    "integral shared memory size",
    "integral unshared data size",
    "integral unshared stack size",
    "page faults served without I/O",
    "page faults that needed I/O",
    "times swapped out",
    "block input operations",
    "block output operations",
    "IPC messages sent",
    "IPC messages received",
    "signals delivered",
    "voluntary context switches",
    "involuntary context switches",
)

_MISSING: Any = object()


def _parse_new_args(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Any, Any]:
    """The (sequence, dict) arguments of struct_rusage(sequence, dict={}), checked in CPython's
    order: too many arguments, then each parameter in turn (given twice, or missing), then a
    keyword that names no parameter."""
    given = len(args) + len(kwargs)
    if given > 2:
        raise TypeError("structseq() takes at most 2 arguments (%d given)" % given)
    values = []
    for position, name in enumerate(("sequence", "dict")):
        if position < len(args):
            if name in kwargs:
                raise TypeError("argument for structseq() given by name ('%s') and position (%d)" % (name, position + 1))
            values.append(args[position])
        elif name in kwargs:
            values.append(kwargs[name])
        elif position == 0:
            raise TypeError("structseq() missing required argument 'sequence' (pos 1)")
        else:
            values.append(_MISSING)
    unknown = [key for key in kwargs if key not in ("sequence", "dict")]
    if unknown:
        raise TypeError(B.unexpected_keyword("structseq", unknown[0]))
    return values[0], values[1]


def make_struct_rusage(module: str) -> type:
    """Build the struct_rusage type, its ``__module__`` set to ``module`` so instances pickle."""
    n = len(RUSAGE_FIELDS)

    class struct_rusage(tuple):  # type: ignore[type-arg]
        """struct_rusage: the result of getrusage().

        A tuple of 16 items (ru_utime, ru_stime, ru_maxrss, ..., ru_nivcsw) whose items are
        also readable as attributes of those names.
        """

        __slots__ = ()
        n_fields = n
        n_sequence_fields = n
        n_unnamed_fields = 0

        def __new__(cls, *args: Any, **kwargs: Any) -> struct_rusage:
            sequence, mapping = _parse_new_args(args, kwargs)
            if isinstance(sequence, list):  # CPython reads a list's or tuple's own items, whatever
                sequence = list.copy(sequence)  # a subclass says its __len__ or __iter__ are
            elif isinstance(sequence, tuple):
                sequence = list(tuple.__iter__(sequence))
            else:  # CPython converts the sequence first
                try:
                    iterator = iter(sequence)
                except TypeError:  # only "not iterable" is reworded; errors while iterating pass
                    raise TypeError("constructor requires a sequence") from None
                sequence = list(iterator)
            if mapping is not _MISSING and not isinstance(mapping, dict):
                raise TypeError("%s() takes a dict as second arg, if any" % TYPE_NAME)
            if len(sequence) != n:
                raise TypeError("%s() takes a %d-sequence (%d-sequence given)" % (TYPE_NAME, n, len(sequence)))
            if B.STRICT_STRUCT_DICT and mapping is not _MISSING and mapping:
                raise TypeError("%s() got duplicate or unexpected field name(s)" % TYPE_NAME)
            return tuple.__new__(cls, sequence)

        def __init_subclass__(cls, **kwargs: Any) -> None:
            raise TypeError("type '%s' is not an acceptable base type" % TYPE_NAME)

        def __repr__(self) -> str:
            body = ", ".join("%s=%r" % pair for pair in zip(RUSAGE_FIELDS, self))
            return "%s(%s)" % (TYPE_NAME, body)

        def __reduce__(self) -> Tuple[Any, ...]:
            return (type(self), (tuple(self), {}))

        def __setattr__(self, name: str, value: object) -> None:
            if name in RUSAGE_FIELDS:
                raise AttributeError("readonly attribute")
            raise AttributeError("'%s' object has no attribute '%s'%s" % (TYPE_NAME, name, B.NO_DICT_SUFFIX))

        def __delattr__(self, name: str) -> None:
            if name in RUSAGE_FIELDS:
                raise AttributeError("readonly attribute")
            raise AttributeError("'%s' object has no attribute '%s'%s" % (TYPE_NAME, name, B.NO_DICT_SUFFIX))

    for index, (name, doc) in enumerate(zip(RUSAGE_FIELDS, FIELD_DOCS)):
        setattr(struct_rusage, name, property(itemgetter(index), doc=doc))
    if B.MATCH_ARGS:
        setattr(struct_rusage, "__match_args__", RUSAGE_FIELDS)  # noqa: B010 - mypy forbids the assignment
    if B.REPLACE:

        def __replace__(self: Any, **changes: Any) -> Any:
            unknown = [name for name in changes if name not in RUSAGE_FIELDS]
            if unknown:
                raise TypeError("Got unexpected field name(s): %r" % unknown)
            return tuple.__new__(type(self), [changes.get(name, value) for name, value in zip(RUSAGE_FIELDS, self)])

        setattr(struct_rusage, "__replace__", __replace__)  # noqa: B010 - mypy forbids the assignment
    # The slots did their work (no instance __dict__); CPython's type does not list __slots__.
    del struct_rusage.__slots__
    struct_rusage.__module__ = module
    struct_rusage.__qualname__ = "struct_rusage"
    return struct_rusage
