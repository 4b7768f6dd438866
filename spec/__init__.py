"""The documented rules of Python's ``resource`` module, as data.

>>> from rckit.spec import load
>>> spec = load()
>>> spec.rule("LIMITS.SOFT_LE_HARD").strength
'must'

The data files are ``editions.toml`` (the documents cited), ``rules/<area>.toml`` (one file per part
of the rule space) and ``errata.toml``. :func:`load` validates everything and raises
:class:`SpecError` listing every problem at once.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from rckit.spec.model import (
    ENTRY_ID,
    MIN_REASON_WORDS,
    PLATFORM_TAGS,
    RULE_ID,
    STRENGTHS,
    WAIVER_KINDS,
    Edition,
    Entry,
    Rule,
    SourceRef,
    Spec,
    SpecError,
    Waiver,
    parse_versions,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["DATA_DIR", "Edition", "Entry", "Rule", "SourceRef", "Spec", "SpecError", "load"]

DATA_DIR = Path(__file__).resolve().parent


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _sources(owner: str, raw: Any, editions: dict[str, Edition], problems: list[str]) -> tuple[SourceRef, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{owner}: needs a non-empty list of sources")
        return ()
    refs = []
    for text in raw:
        try:
            ref = SourceRef.parse(str(text))
        except ValueError as exc:
            problems.append(f"{owner}: {exc}")
            continue
        if ref.edition not in editions:
            problems.append(f"{owner}: source cites unknown edition {ref.edition!r}")
        refs.append(ref)
    return tuple(refs)


def _editions(raw: dict[str, Any], problems: list[str]) -> dict[str, Edition]:
    editions: dict[str, Edition] = {}
    for item in raw.get("edition", []):
        eid = item.get("id", "?")
        if eid in editions:
            problems.append(f"edition {eid}: duplicate id")
        try:
            covers = parse_versions(item.get("covers", ""))
        except ValueError as exc:
            problems.append(f"edition {eid}: {exc}")
            continue
        kind = item.get("kind")
        if kind not in ("seed", "doc", "man", "source"):
            problems.append(f"edition {eid}: unknown kind {kind!r}")
            continue
        if kind == "seed" and not item.get("file"):
            problems.append(f"edition {eid}: a seed edition names its file")
        editions[eid] = Edition(
            id=eid,
            kind=kind,
            title=item.get("title", ""),
            covers=covers,
            file=item.get("file"),
            location=item.get("location"),
            note=item.get("note", ""),
        )
    return editions


def _waiver(owner: str, raw: Any, problems: list[str]) -> Waiver | None:
    if raw is None:
        return None
    kind, reason = raw.get("kind"), str(raw.get("reason", ""))
    if kind not in WAIVER_KINDS:
        problems.append(f"{owner}: waiver kind {kind!r} is not one of {sorted(WAIVER_KINDS)}")
    if len(reason.split()) < MIN_REASON_WORDS:
        problems.append(f"{owner}: a waiver needs a written reason of {MIN_REASON_WORDS}+ words")
    return Waiver(str(kind), reason)


def _rules(path: Path, editions: dict[str, Edition], problems: list[str]) -> list[Rule]:
    area = path.stem.upper()
    rules = []
    for item in _read(path).get("rule", []):
        rid = str(item.get("id", "?"))
        owner = f"rule {rid} ({path.name})"
        if not rid.startswith(area + "."):
            problems.append(f"{owner}: id must start with {area}. (the file's area)")
        if not RULE_ID.match(rid):
            problems.append(f"{owner}: id must look like AREA.NAME in capitals")
        if item.get("strength") not in STRENGTHS:
            problems.append(f"{owner}: strength must be one of {sorted(STRENGTHS)}")
        platforms = tuple(item.get("platforms", ()))
        if not platforms or not set(platforms) <= PLATFORM_TAGS:
            problems.append(f"{owner}: platforms must be a non-empty subset of {sorted(PLATFORM_TAGS)}")
        if len(str(item.get("statement", "")).split()) < 5:
            problems.append(f"{owner}: needs a statement")
        try:
            versions = parse_versions(str(item.get("versions", "")))
        except ValueError as exc:
            problems.append(f"{owner}: {exc}")
            continue
        rules.append(
            Rule(
                id=rid,
                statement=str(item.get("statement", "")),
                strength=item.get("strength", "must"),
                versions=versions,
                platforms=platforms,
                sources=_sources(owner, item.get("sources"), editions, problems),
                waiver=_waiver(owner, item.get("waiver"), problems),
            )
        )
    return rules


def _entries(raw: dict[str, Any], editions: dict[str, Edition], rules: dict[str, Rule], problems: list[str]) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for item in raw.get("entry", []):
        eid = str(item.get("id", "?"))
        owner = f"entry {eid}"
        if eid in entries:
            problems.append(f"{owner}: duplicate id")
        if not ENTRY_ID.match(eid):
            problems.append(f"{owner}: id must be ERRATUM.* or CLARIFY.*")
        kind = item.get("kind")
        if kind not in ("erratum", "clarification") or eid.startswith("ERRATUM") != (kind == "erratum"):
            problems.append(f"{owner}: kind must be 'erratum' for ERRATUM.* and 'clarification' for CLARIFY.*")
        evidence = tuple(str(e) for e in item.get("evidence", ()))
        if not evidence:
            problems.append(f"{owner}: an erratum or clarification needs evidence")
        linked = tuple(str(r) for r in item.get("rules", ()))
        for rid in linked:
            if rid not in rules:
                problems.append(f"{owner}: links unknown rule {rid!r}")
        if not linked:
            problems.append(f"{owner}: must name the rules that encode its finding")
        entries[eid] = Entry(
            id=eid,
            kind=kind,
            sources=_sources(owner, item.get("sources"), editions, problems),
            claim=str(item.get("claim", "")),
            finding=str(item.get("finding", "")),
            evidence=evidence,
            rules=linked,
        )
    return entries


def load_from(directory: Path) -> Spec:
    """Read and validate the specification stored in ``directory``; raise :class:`SpecError`."""
    problems: list[str] = []
    editions = _editions(_read(directory / "editions.toml"), problems)
    rules: dict[str, Rule] = {}
    for path in sorted((directory / "rules").glob("*.toml")):
        for rule in _rules(path, editions, problems):
            if rule.id in rules:
                problems.append(f"rule {rule.id}: duplicate id")
            rules[rule.id] = rule
    entries = _entries(_read(directory / "errata.toml"), editions, rules, problems)
    cited = {ref.edition for rule in rules.values() for ref in rule.sources}
    for edition in editions.values():
        if edition.kind == "seed" and edition.id not in cited:
            problems.append(f"edition {edition.id}: a seed edition that no rule cites")
    if problems:
        raise SpecError(problems)
    return Spec(editions=editions, rules=rules, entries=entries)


@lru_cache(maxsize=1)
def load() -> Spec:
    """The kit's specification (cached): every rule, edition and erratum, validated."""
    return load_from(DATA_DIR)
