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

import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from rckit.spec.model import (
    ENTRY_ID,
    INTERPRETER_ID,
    MIN_QUOTE_WORDS,
    MIN_REASON_WORDS,
    PLATFORM_TAGS,
    RULE_ID,
    STRENGTHS,
    WAIVER_KINDS,
    Citation,
    Edition,
    Entry,
    Observation,
    Rule,
    Source,
    Spec,
    SpecError,
    Waiver,
    parse_versions,
)
from rckit.spec.texts import FORMATS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["DATA_DIR", "Citation", "Edition", "Entry", "Observation", "Rule", "Source", "Spec", "SpecError", "load"]

DATA_DIR = Path(__file__).resolve().parent
TEXT_LOCATION = re.compile(r"^(seed:[^/]+|sid:/\S+)$")


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _source(owner: str, raw: Any, editions: dict[str, Edition], problems: list[str]) -> Source | None:
    if not isinstance(raw, dict):
        problems.append(f"{owner}: a source is a table: {{edition, quote}} or {{observed, run, printed}}")
        return None
    keys = set(raw)
    if keys == {"edition", "quote"}:
        edition, quote = str(raw["edition"]), str(raw["quote"])
        if edition not in editions:
            problems.append(f"{owner}: source cites unknown edition {edition!r}")
        if len(quote.split()) < MIN_QUOTE_WORDS:
            problems.append(f"{owner}: a quote from {edition} needs {MIN_QUOTE_WORDS}+ words of the edition")
        return Citation(edition, quote)
    if keys == {"observed", "run", "printed"}:
        interpreters = tuple(str(i) for i in raw["observed"]) if isinstance(raw["observed"], list) else ()
        bad = [i for i in interpreters if not INTERPRETER_ID.match(i)]
        if not interpreters or bad:
            problems.append(
                f"{owner}: observed names interpreters as 'cpython 3.11.7' or 'pypy 3.11.13' (got {raw['observed']!r})"
            )
        if not str(raw["run"]).strip() or not str(raw["printed"]).strip():
            problems.append(f"{owner}: an observation says what was run and what it printed")
        return Observation(interpreters, str(raw["run"]), str(raw["printed"]))
    problems.append(f"{owner}: source keys {sorted(keys)} are neither {{edition, quote}} nor {{observed, run, printed}}")
    return None


def _sources(owner: str, raw: Any, editions: dict[str, Edition], problems: list[str]) -> tuple[Source, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{owner}: needs a non-empty list of sources")
        return ()
    found = [_source(owner, item, editions, problems) for item in raw]
    return tuple(source for source in found if source is not None)


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
        if kind not in ("seed", "doc", "man"):
            problems.append(f"edition {eid}: unknown kind {kind!r}")
            continue
        text, fmt = str(item.get("text", "")), str(item.get("format", ""))
        if not TEXT_LOCATION.match(text):
            problems.append(f"edition {eid}: text must be 'seed:<file>' or 'sid:<absolute path>' (got {text!r})")
        if fmt not in FORMATS:
            problems.append(f"edition {eid}: format must be one of {sorted(FORMATS)}")
        if (kind == "seed") != text.startswith("seed:"):
            problems.append(f"edition {eid}: a seed edition, and only a seed, has its text in the seeds")
        editions[eid] = Edition(
            id=eid,
            kind=kind,
            title=item.get("title", ""),
            covers=covers,
            text=text,
            format=fmt,
            location=item.get("location"),
            seen=item.get("seen", ""),
            note=item.get("note", ""),
            rendering_of=item.get("rendering_of", ""),
        )
    for edition in editions.values():
        base = editions.get(edition.rendering_of)
        if edition.rendering_of and (base is None or base.kind != "seed" or edition.kind != "seed" or base.rendering_of):
            problems.append(f"edition {edition.id}: rendering_of must name another seed that is not itself a rendering")
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
    cited = {ref.edition for rule in rules.values() for ref in rule.sources if isinstance(ref, Citation)}
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
