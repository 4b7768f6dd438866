"""The shape of the specification: editions, rules and errata, and their validation.

The data lives in TOML next to this module (``editions.toml``, ``rules/*.toml``, ``errata.toml``);
:func:`rckit.spec.load` reads it into the frozen classes below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Union

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "INTERPRETER_ID",
    "MIN_QUOTE_WORDS",
    "PLATFORM_TAGS",
    "STRENGTHS",
    "WAIVER_KINDS",
    "Citation",
    "Edition",
    "Entry",
    "Observation",
    "Rule",
    "Source",
    "Spec",
    "SpecError",
    "VersionRange",
    "Waiver",
]

Strength = Literal["must", "may", "platform-defined"]
STRENGTHS: frozenset[str] = frozenset({"must", "may", "platform-defined"})

#: ``unix`` means every Unix platform; the others are ``sys.platform`` families.
PLATFORM_TAGS: frozenset[str] = frozenset({"unix", "linux", "darwin", "freebsd", "netbsd", "openbsd", "illumos"})

#: Why a rule may have no test. ``pending`` is only for rules whose test is still to be written.
WAIVER_KINDS: frozenset[str] = frozenset({"pending", "no-candidate", "not-observable", "unsafe-to-observe"})

RULE_ID = re.compile(r"^[A-Z]+\.[A-Z0-9_]+$")
ENTRY_ID = re.compile(r"^(ERRATUM|CLARIFY)\.[A-Z0-9_]+$")
MIN_REASON_WORDS = 8


class SpecError(ValueError):
    """The specification data is malformed; the message lists every problem found.

    >>> raise SpecError(["rule X: no source"])
    Traceback (most recent call last):
    rckit.spec.model.SpecError: 1 problem(s) in the specification:
      rule X: no source
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the specification:\n{lines}")


@dataclass(frozen=True)
class VersionRange:
    """Python versions: PEP 440 specifier sets joined by ``||``, a version being in the range when
    any of them contains it. Behaviour that changed in patch releases of two branches at once needs
    the union (``"<3.13.7 || ==3.14.0"``); the empty string means every version.

    >>> "3.14.0" in VersionRange.parse("<3.13.7 || ==3.14.0")
    True
    >>> "3.13.7" in VersionRange.parse("<3.13.7 || ==3.14.0")
    False
    """

    alternatives: tuple[SpecifierSet, ...]

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        """Parse ``"spec || spec ..."``; ValueError names the part that is not PEP 440."""
        parts = [part.strip() for part in text.split("||")]
        if len(parts) > 1 and not all(parts):
            raise ValueError(f"versions {text!r} has an empty alternative around '||'")
        alternatives = []
        for part in parts:
            try:
                alternatives.append(SpecifierSet(part))
            except InvalidSpecifier as exc:
                raise ValueError(f"versions {text!r} is not a PEP 440 specifier set (or several joined by '||')") from exc
        return cls(tuple(alternatives))

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, (str, Version)):
            return False
        return any(spec.contains(version, prereleases=True) for spec in self.alternatives)

    def __str__(self) -> str:
        return " || ".join(str(spec) for spec in self.alternatives)


@dataclass(frozen=True)
class Edition:
    """A document that rules cite: a seed edition, a later doc, a man page or a changelog.

    ``text`` says where its words are on a machine that has them: ``seed:<file>`` in the seeds
    directory, or ``sid:<path>`` inside the Debian sid chroot (which installs the documentation
    packages); ``format`` says how to read them (see :data:`rckit.spec.texts.FORMATS`).
    ``rendering_of`` names the seed this one is another rendering of: its coverage table lists only
    the sentences the other's lacks.
    """

    id: str
    kind: Literal["seed", "doc", "man"]
    title: str
    covers: VersionRange
    text: str
    format: str
    location: str | None = None
    seen: str = ""
    note: str = ""
    rendering_of: str = ""

    @property
    def complete(self) -> bool:
        """A seed's coverage table lists every sentence; other editions list the ones cited."""
        return self.kind == "seed"


#: How an observation names an interpreter: implementation and exact Python version.
INTERPRETER_ID = re.compile(r"^(cpython|pypy) \d+\.\d+\.\d+$")
MIN_QUOTE_WORDS = 2


@dataclass(frozen=True)
class Citation:
    """Words of an edition that a rule or erratum relies on, quoted verbatim (whitespace and
    typography normalised; see :func:`rckit.spec.texts.normalize`)."""

    edition: str
    quote: str

    def __str__(self) -> str:
        return f'{self.edition}: "{self.quote}"'


@dataclass(frozen=True)
class Observation:
    """Behaviour that no document states, seen on real interpreters: ``run`` is a Python
    expression evaluated with ``resource`` imported, ``printed`` what :mod:`rckit.spec.observe`
    printed for it on every interpreter in ``interpreters`` ("cpython 3.11.7", "pypy 3.11.13")."""

    interpreters: tuple[str, ...]
    run: str
    printed: str

    def __str__(self) -> str:
        return f"observed on {', '.join(self.interpreters)}: {self.run} -> {self.printed}"


#: Where a statement comes from.
Source = Union[Citation, Observation]  # noqa: UP007 - a runtime alias, evaluated on Python 3.8 too


@dataclass(frozen=True)
class Waiver:
    """A written reason why a rule has no test."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Rule:
    """One normative statement: what must hold, where, from which Python version, and why."""

    id: str
    statement: str
    strength: Strength
    versions: VersionRange
    platforms: tuple[str, ...]
    sources: tuple[Source, ...]
    waiver: Waiver | None = None

    @property
    def area(self) -> str:
        """The part of the rule space, the id's prefix (``LIMITS`` for ``LIMITS.GET_PAIR``)."""
        return self.id.split(".", 1)[0]

    def holds_for_version(self, python_version: str) -> bool:
        """True if the rule applies to a candidate claiming this Python version."""
        return Version(python_version) in self.versions

    def holds_for_platform(self, platform: str) -> bool:
        """True if the rule applies on this platform family (``linux``, ``darwin``, ...)."""
        return "unix" in self.platforms or platform in self.platforms


@dataclass(frozen=True)
class Entry:
    """An erratum (the docs are wrong) or a clarification (the docs are silent or ambiguous)."""

    id: str
    kind: Literal["erratum", "clarification"]
    sources: tuple[Source, ...]
    claim: str
    finding: str
    evidence: tuple[str, ...]
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    """The whole specification, indexed by id."""

    editions: dict[str, Edition]
    rules: dict[str, Rule]
    entries: dict[str, Entry]

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError names the unknown id."""
        try:
            return self.rules[rule_id]
        except KeyError:
            raise KeyError(f"unknown rule id {rule_id!r}") from None

    def seeds(self) -> list[Edition]:
        """The seed editions, in id order."""
        return sorted((e for e in self.editions.values() if e.kind == "seed"), key=lambda e: e.id)


def parse_versions(text: str) -> VersionRange:
    """Parse a rule's version range; the empty string means every version."""
    return VersionRange.parse(text)


def check_version(text: str) -> None:
    """Raise ValueError unless ``text`` is a PEP 440 version."""
    try:
        Version(text)
    except InvalidVersion as exc:
        raise ValueError(f"{text!r} is not a version") from exc
