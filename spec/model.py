"""The shape of the specification: editions, rules and errata, and their validation.

The data lives in TOML next to this module (``editions.toml``, ``rules/*.toml``, ``errata.toml``);
:func:`rckit.spec.load` reads it into the frozen classes below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = [
    "PLATFORM_TAGS",
    "STRENGTHS",
    "WAIVER_KINDS",
    "Edition",
    "Entry",
    "Rule",
    "SourceRef",
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
    """A document that rules cite: a seed edition, a later doc, a man page or a source file."""

    id: str
    kind: Literal["seed", "doc", "man", "source"]
    title: str
    covers: VersionRange
    file: str | None = None
    location: str | None = None
    note: str = ""


@dataclass(frozen=True)
class SourceRef:
    """Where a statement comes from: an edition id and the section (or passage) within it."""

    edition: str
    section: str

    @classmethod
    def parse(cls, text: str) -> SourceRef:
        """Parse ``"edition#section"``; the section is required."""
        edition, sep, section = text.partition("#")
        if not sep or not edition or not section.strip():
            raise ValueError(f"source {text!r} is not of the form 'edition#section'")
        return cls(edition, section.strip())

    def __str__(self) -> str:
        return f"{self.edition}#{self.section}"


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
    sources: tuple[SourceRef, ...]
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
    sources: tuple[SourceRef, ...]
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
