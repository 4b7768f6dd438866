"""Values crossing the candidate protocol: tagged JSON arguments out, outcomes back.

Arguments are ordinary Python values (int, float, str, bytes, None, bool, tuple, list, dict) or one
of the markers below for objects that must be built inside the candidate's interpreter. Results
come back as plain values, or as :class:`Foreign` for anything else (struct_rusage, an exception
instance a buggy candidate returned, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Attr",
    "Exploding",
    "Foreign",
    "IndexOnly",
    "IntOnly",
    "IntSubclass",
    "Iter",
    "Opaque",
    "Outcome",
    "Pid",
    "Raised",
    "Uncomparable",
    "decode",
    "encode",
    "outcome_from_reply",
]


@dataclass(frozen=True)
class Attr:
    """The candidate module's own attribute ``name`` (RLIM_INFINITY, RLIMIT_CORE, ...)."""

    name: str


@dataclass(frozen=True)
class IndexOnly:
    """An object that is an integer only through ``__index__``."""

    value: int


@dataclass(frozen=True)
class IntOnly:
    """An object with ``__int__`` but no ``__index__`` (floats behave like this too)."""

    value: int


@dataclass(frozen=True)
class IntSubclass:
    """An int subclass whose ``__index__``/``__int__`` return 99; its value is ``value``."""

    value: int


@dataclass(frozen=True)
class Iter:
    """A one-shot iterator over ``items`` (not a sequence)."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Opaque:
    """A plain ``object()``."""


@dataclass(frozen=True)
class Exploding:
    """An object whose ``__iter__`` and ``__index__`` raise RuntimeError."""


@dataclass(frozen=True)
class Uncomparable:
    """An object whose ``==`` and ``!=`` raise RuntimeError (CPython never compares arguments)."""


@dataclass(frozen=True)
class Pid:
    """The pid of the process that makes the call (``self``) or of its parent (``parent``)."""

    which: str = "self"


def encode(value: Any) -> dict[str, Any]:
    """A Python value or marker as tagged JSON for the agent."""
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": value}
    if isinstance(value, float):
        return {"t": "float", "v": value.hex()}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, bytes):
        return {"t": "bytes", "v": value.hex()}
    if value is None:
        return {"t": "none"}
    if isinstance(value, tuple):
        return {"t": "tuple", "v": [encode(item) for item in value]}
    if isinstance(value, list):
        return {"t": "list", "v": [encode(item) for item in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    simple = {Attr: "attr", IndexOnly: "index", IntOnly: "intlike", IntSubclass: "intsub"}
    if isinstance(value, Attr):
        return {"t": "attr", "name": value.name}
    if type(value) in simple:
        return {"t": simple[type(value)], "v": value.value}
    if isinstance(value, Iter):
        return {"t": "iter", "v": [encode(item) for item in value.items]}
    if isinstance(value, Opaque):
        return {"t": "object"}
    if isinstance(value, Exploding):
        return {"t": "exploding"}
    if isinstance(value, Uncomparable):
        return {"t": "uncomparable"}
    if isinstance(value, Pid):
        return {"t": "pid", "which": value.which}
    raise TypeError(f"cannot send {value!r} to a candidate")


@dataclass(frozen=True)
class Foreign:
    """A value with no plain equivalent: its type, repr, tuple items and ru_* fields if any."""

    type: str
    repr: str
    items: tuple[Any, ...] | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    exception: Raised | None = None

    def __len__(self) -> int:
        return len(self.items or ())

    def __getitem__(self, index: int) -> Any:
        if self.items is None:
            raise TypeError(f"{self.type} is not a sequence")
        return self.items[index]


def decode(obj: dict[str, Any]) -> Any:
    """Tagged JSON from the agent back to a Python value (or :class:`Foreign`)."""
    tag = obj["t"]
    value: Any = obj.get("v")
    if tag in ("int", "bool", "str"):
        return value
    if tag == "float":
        return float.fromhex(value)
    if tag == "bytes":
        return bytes.fromhex(value)
    if tag == "none":
        return None
    if tag == "tuple":
        return tuple(decode(item) for item in value)
    if tag == "list":
        return [decode(item) for item in value]
    if tag == "object":
        exc = obj.get("exception")
        return Foreign(
            type=obj["type"],
            repr=obj.get("repr", ""),
            items=tuple(decode(item) for item in obj["items"]) if "items" in obj else None,
            fields={name: decode(item) for name, item in obj.get("fields", {}).items()},
            exception=Raised.from_json(exc) if exc else None,
        )
    raise ValueError(f"unknown tag {tag!r} from the agent")


@dataclass(frozen=True)
class Raised:
    """An exception as the candidate raised it."""

    type: str
    qualname: str
    classes: tuple[str, ...]  # the names along its MRO (not 'mro': type.mro would be its default)
    message: str
    errno: int | None
    is_module_error: bool

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Raised:
        """Build from the agent's description."""
        return cls(
            type=raw["type"],
            qualname=raw["qualname"],
            classes=tuple(raw["mro"]),
            message=raw["message"],
            errno=raw.get("errno"),
            is_module_error=bool(raw.get("is_module_error")),
        )

    def is_a(self, *names: str) -> bool:
        """True if the exception is an instance of a class with one of these names."""
        return any(name in self.classes for name in names)


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned a value, raised, or the function was missing."""

    kind: Literal["return", "raise", "missing"]
    value: Any = None
    exception: Raised | None = None
    warnings: tuple[tuple[str, str, str], ...] = ()  # (category, message, file it points at)
    audit: tuple[tuple[str, Any], ...] = ()

    @property
    def returned(self) -> bool:
        """The call returned normally."""
        return self.kind == "return"

    def raised(self, *names: str) -> bool:
        """The call raised an instance of one of the named exception classes."""
        return self.exception is not None and self.exception.is_a(*names)

    def describe(self) -> str:
        """One line for assertion messages."""
        if self.kind == "raise" and self.exception is not None:
            return f"raised {self.exception.type}: {self.exception.message}"
        if self.kind == "missing":
            return "the function does not exist"
        shown = self.value.repr if isinstance(self.value, Foreign) else repr(self.value)
        return f"returned {shown}"

    def __str__(self) -> str:
        return self.describe()


def outcome_from_reply(raw: dict[str, Any]) -> Outcome:
    """An :class:`Outcome` from the agent's reply to a call."""
    kind = raw["outcome"]
    return Outcome(
        kind=kind,
        value=decode(raw["value"]) if kind == "return" else None,
        exception=Raised.from_json(raw["exception"]) if kind == "raise" else None,
        warnings=tuple((c, m, where) for c, m, where in raw.get("warnings", ())),
        audit=tuple((event, decode(args)) for event, args in raw.get("audit", ())),
    )
