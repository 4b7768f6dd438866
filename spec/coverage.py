"""The editions sentence by sentence, and which rules encode each: the coverage tables.

``spec/sentences/<edition>.toml`` lists the units (sentences, or table rows run together) of one
edition. For a seed the table is complete: every sentence, in order, each either encoded by rules
and errata, or not checkable, or checkable but unencoded, with the reason written down. For any
other edition it holds the excerpts that rules cite, so citations are checked without the document.

    python -m rckit.spec.coverage             # the coverage of every edition
    python -m rckit.spec.coverage --check     # exit 1 on any problem (texts checked where present)
    python -m rckit.spec.coverage draft py27  # a table for an edition, from its text and the quotes

:func:`problems` ties the tables to the spec both ways: each quote must be in its edition's table,
inside units that name the quoting rule, and each unit must be quoted by every rule it names. With
the edition's text at hand (the seeds directory, the sid chroot) each unit must also be in the text,
and a complete table must be exactly the text's units.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rckit.spec import DATA_DIR, Citation, Edition, Entry, Rule, Spec, load, texts
from rckit.spec.model import MIN_REASON_WORDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "COVERAGE_DIR",
    "Table",
    "Unit",
    "draft",
    "edition_text",
    "load_tables",
    "main",
    "problems",
    "summary",
    "text_roots",
]

COVERAGE_DIR = DATA_DIR / "sentences"
#: Between the excerpts of an incomplete table, so that no quote can run from one into the next.
_EXCERPT_BREAK = " \u2016 "


@dataclass(frozen=True)
class Unit:
    """One sentence (or table) of an edition and what encodes it, or why nothing does."""

    text: str
    encoded_by: tuple[str, ...] = ()
    not_checkable: str = ""
    unencoded: str = ""

    @property
    def state(self) -> str:
        """``encoded``, ``not checkable`` or ``unencoded``."""
        return "encoded" if self.encoded_by else "not checkable" if self.not_checkable else "unencoded"


@dataclass
class Table:
    """The coverage table of one edition."""

    edition: str
    units: list[Unit] = field(default_factory=list)

    def spans(self, complete: bool) -> list[tuple[int, int]]:
        """(start, end) of each unit in :meth:`joined`."""
        spans, at = [], 0
        gap = 1 if complete else len(_EXCERPT_BREAK)
        for unit in self.units:
            spans.append((at, at + len(unit.text)))
            at += len(unit.text) + gap
        return spans

    def joined(self, complete: bool) -> str:
        """The units as one text: the edition's words if the table is complete."""
        return (" " if complete else _EXCERPT_BREAK).join(unit.text for unit in self.units)

    def units_quoted(self, quote: str, complete: bool) -> list[list[int]]:
        """For each place ``quote`` occurs, the indexes of the units it overlaps."""
        joined, spans, needle = self.joined(complete), self.spans(complete), texts.normalize(quote)
        found, start = [], joined.find(needle)
        while start >= 0 and needle:
            end = start + len(needle)
            found.append([i for i, (a, b) in enumerate(spans) if a < end and start < b])
            start = joined.find(needle, start + 1)
        return found


def load_tables(directory: Path = COVERAGE_DIR) -> dict[str, Table]:
    """Every coverage table, by edition id."""
    tables = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        table = Table(str(raw.get("edition", path.stem)))
        for item in raw.get("unit", []):
            table.units.append(
                Unit(
                    text=texts.normalize(str(item.get("text", ""))),
                    encoded_by=tuple(str(i) for i in item.get("encoded_by", ())),
                    not_checkable=str(item.get("not_checkable", "")),
                    unencoded=str(item.get("unencoded", "")),
                )
            )
        tables[path.stem] = table
    return tables


def text_roots(seeds: Path | None = None, sid: Path | None = None) -> dict[str, Path]:
    """Where edition texts are looked for: ``seed`` (RCKIT_SEEDS, else ../shared/seeds beside the
    working directory's repository) and ``sid`` (the sid chroot, if built)."""
    if seeds is None:
        seeds = Path(os.environ["RCKIT_SEEDS"]) if os.environ.get("RCKIT_SEEDS") else Path.cwd().parent / "shared" / "seeds"
    if sid is None:
        from rckit.conformance.environments.chroots import chroot_dir, is_built

        sid = chroot_dir("sid") if is_built("sid") else Path("/nonexistent")
    return {"seed": seeds, "sid": sid}


def edition_text(edition: Edition, roots: dict[str, Path]) -> str | None:
    """The edition's words with paragraphs kept (see :func:`rckit.spec.texts.words`), or None if
    its text is not on this machine."""
    where, _, path = edition.text.partition(":")
    root = roots.get(where)
    if root is None:
        return None
    full = root / path.lstrip("/")
    return texts.words(full, edition.format) if full.is_file() else None


def _contiguous(edition: Edition) -> bool:
    """The table's units follow each other in the text (a complete table of an original edition)."""
    return edition.complete and not edition.rendering_of


def _citations(spec: Spec) -> list[tuple[str, Citation]]:
    owners: list[Rule | Entry] = [*spec.rules.values(), *spec.entries.values()]
    return [(owner.id, source) for owner in owners for source in owner.sources if isinstance(source, Citation)]


def problems(spec: Spec, tables: dict[str, Table], roots: dict[str, Path] | None = None) -> list[str]:
    """Everything wrong between the spec, the tables and (where present) the editions' texts."""
    found: list[str] = []
    ids = set(spec.rules) | set(spec.entries)
    citations = _citations(spec)
    for name, table in sorted(tables.items()):
        if table.edition != name or name not in spec.editions:
            found.append(f"sentences/{name}.toml: names edition {table.edition!r}, not a known edition with this file name")
    for edition in spec.editions.values():
        if edition.id not in tables and (edition.complete or any(c.edition == edition.id for _, c in citations)):
            found.append(
                f"{edition.id}: cited or a seed, but has no coverage table (python -m rckit.spec.coverage draft {edition.id})"
            )
    for owner, citation in citations:
        quoted, cited = tables.get(citation.edition), spec.editions.get(citation.edition)
        if quoted is None or cited is None:
            continue
        places = quoted.units_quoted(citation.quote, _contiguous(cited))
        if not places:
            found.append(f"{owner}: quote not in {citation.edition}'s coverage table: {citation.quote!r}")
        elif not any(all(owner in quoted.units[i].encoded_by for i in place) for place in places):
            found.append(f"{owner}: quotes {citation.edition} {citation.quote!r} but the unit(s) there do not list it")
    for name, table in sorted(tables.items()):
        described = spec.editions.get(name)
        if described is None:
            continue
        found += _unit_problems(described, table, ids, citations)
        if roots is not None:
            found += _text_problems(described, table, roots, tables.get(described.rendering_of))
    return found


def _unit_problems(edition: Edition, table: Table, ids: set[str], citations: list[tuple[str, Citation]]) -> list[str]:
    found = []
    quoted: dict[str, list[int]] = {}
    for owner, citation in citations:
        if citation.edition == edition.id:
            for place in table.units_quoted(citation.quote, _contiguous(edition)):
                quoted.setdefault(owner, []).extend(place)
    for index, unit in enumerate(table.units):
        where = f"sentences/{edition.id}.toml unit {index + 1} ({unit.text[:50]!r})"
        states = [bool(unit.encoded_by), bool(unit.not_checkable), bool(unit.unencoded)]
        if sum(states) != 1:
            found.append(f"{where}: needs exactly one of encoded_by, not_checkable, unencoded")
        if not edition.complete and not unit.encoded_by:
            found.append(f"{where}: an excerpt of a non-seed edition is there because a rule cites it")
        if unit.unencoded and len(unit.unencoded.split()) < MIN_REASON_WORDS:
            found.append(f"{where}: 'unencoded' needs a written reason of {MIN_REASON_WORDS}+ words")
        for owner in unit.encoded_by:
            if owner not in ids:
                found.append(f"{where}: encoded_by names unknown rule or entry {owner!r}")
            elif index not in quoted.get(owner, []):
                found.append(f"{where}: lists {owner}, which quotes nothing of this unit")
    return found


def _own_units(edition: Edition, words: str, base: Table | None) -> list[str]:
    """The edition's units, less those its base edition's table has (for another rendering)."""
    shared = {unit.text for unit in base.units} if base is not None and edition.rendering_of else set()
    return [unit for unit in texts.units(words) if unit not in shared]


def _text_problems(edition: Edition, table: Table, roots: dict[str, Path], base: Table | None) -> list[str]:
    words = edition_text(edition, roots)
    if words is None:
        return []
    if edition.complete:
        actual = _own_units(edition, words, base)
        listed = [unit.text for unit in table.units]
        if actual != listed:
            pairs = enumerate(zip(actual, listed, strict=False))
            first = next((i for i, (a, b) in pairs if a != b), min(len(actual), len(listed)))
            text = actual[first] if first < len(actual) else "(end of text)"
            return [f"sentences/{edition.id}.toml: differs from the edition at unit {first + 1}: the text has {text!r}"]
        return []
    normal = texts.normalize(words)
    return [
        f"sentences/{edition.id}.toml: excerpt not in the edition's text: {unit.text!r}"
        for unit in table.units
        if unit.text not in normal
    ]


def draft(spec: Spec, edition_id: str, words: str, old: Table | None = None, base: Table | None = None) -> str:
    """A coverage table for an edition, as TOML: its units (all of them for a seed, less those of
    ``base`` for another rendering; the ones quoted otherwise), each with the rules quoting it;
    reasons carried over from ``old`` where the sentence is unchanged."""
    edition = spec.editions[edition_id]
    units = _own_units(edition, words, base)
    probe = Table(edition_id, [Unit(text) for text in units])
    owners: dict[int, list[str]] = {}
    for owner, citation in _citations(spec):
        if citation.edition == edition_id:
            for place in probe.units_quoted(citation.quote, True)[:1]:
                for index in place:
                    owners.setdefault(index, []).append(owner)
    kept = {unit.text: unit for unit in (old.units if old else [])}
    rows = [(text, owners.get(i, [])) for i, text in enumerate(units)] if edition.complete else _excerpts(units, owners)
    if edition.complete:
        scope = "every sentence of the edition, in order" + (
            f", except those it shares with {edition.rendering_of}" if edition.rendering_of else ""
        )
    else:
        scope = "the excerpts of the edition that rules and errata quote"
    out = [
        f"# Coverage of {edition_id}: {edition.title}",
        f"# Lists {scope}. encoded_by: the rules and errata quoting it;",
        "# not_checkable / unencoded: why no rule does. Regenerate (keeping the reasons) with",
        f"# python -m rckit.spec.coverage draft {edition_id}",
        f'edition = "{edition_id}"',
        "",
    ]
    for text, by in rows:
        out += ["[[unit]]", f"text = {json.dumps(text, ensure_ascii=False)}"]
        previous = kept.get(text)
        if by:
            out.append(f"encoded_by = {json.dumps(sorted(set(by)))}")
        elif previous and previous.not_checkable:
            out.append(f"not_checkable = {json.dumps(previous.not_checkable, ensure_ascii=False)}")
        else:
            reason = previous.unencoded if previous and previous.unencoded else "TODO"
            out.append(f"unencoded = {json.dumps(reason, ensure_ascii=False)}")
        out.append("")
    return "\n".join(out)


def _excerpts(units: list[str], owners: dict[int, list[str]]) -> list[tuple[str, list[str]]]:
    """Runs of consecutive quoted units, each run as one excerpt."""
    rows: list[tuple[str, list[str]]] = []
    previous = -2
    for index in sorted(owners):
        if index == previous + 1 and rows:
            text, by = rows[-1]
            rows[-1] = (f"{text} {units[index]}", by + owners[index])
        else:
            rows.append((units[index], list(owners[index])))
        previous = index
    return rows


def summary(spec: Spec, tables: dict[str, Table]) -> list[str]:
    """One line per edition: units, and how many are encoded, not checkable, unencoded."""
    lines = []
    for edition in sorted(spec.editions.values(), key=lambda e: (not e.complete, e.id)):
        table = tables.get(edition.id)
        if table is None:
            continue
        states = [unit.state for unit in table.units]
        rules = {owner for unit in table.units for owner in unit.encoded_by}
        if edition.complete:
            shared = f" (besides those it shares with {edition.rendering_of})" if edition.rendering_of else ""
            lines.append(
                f"{edition.id:<22} {len(states):>3} sentences{shared}: {states.count('encoded'):>3} encoded "
                f"(by {len(rules)} rules/errata), {states.count('not checkable'):>2} not checkable, "
                f"{states.count('unencoded'):>2} unencoded with a reason"
            )
        else:
            lines.append(f"{edition.id:<22} {len(states):>3} excerpts cited by {len(rules)} rules/errata")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: the summary, ``--check``, or ``draft EDITION``."""
    parser = argparse.ArgumentParser(prog="python -m rckit.spec.coverage", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 on any problem")
    parser.add_argument("--seeds", type=Path, help="the seeds directory (default: RCKIT_SEEDS or ../shared/seeds)")
    parser.add_argument("command", nargs="*", help="draft EDITION: print a coverage table for EDITION")
    args = parser.parse_args(argv)
    spec, tables, roots = load(), load_tables(), text_roots(args.seeds)
    if args.command[:1] == ["draft"] and len(args.command) == 2:
        edition = spec.editions[args.command[1]]
        words = edition_text(edition, roots)
        if words is None:
            print(f"the text of {edition.id} ({edition.text}) is not on this machine", file=sys.stderr)
            return 2
        print(draft(spec, edition.id, words, tables.get(edition.id), tables.get(edition.rendering_of)))
        return 0
    for line in summary(spec, tables):
        print(line)
    absent = [e.id for e in spec.editions.values() if e.id in tables and edition_text(e, roots) is None]
    if absent:
        print(f"texts not on this machine (tables checked against the spec only): {', '.join(absent)}")
    found = problems(spec, tables, roots)
    for problem in found:
        print(f"PROBLEM {problem}")
    return 1 if found and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
