"""The atlas: one self-contained HTML page of what every candidate does with each rule, merged from
the JSON reports of one or many machines.

    python -m rckit.conformance atlas reports/*/conformance.json -o atlas.html

Each report is checked against ``schemas/report.schema.json``. A column is one candidate on one
machine: the same interpreter judged on two machines is two columns, each naming its machine. The
page (``templates/atlas.html.j2``, rendered with Jinja2) needs no network and no server: its data is
embedded as JSON and its filters are a few lines of script.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from packaging.version import InvalidVersion, Version
from rckit.conformance.outputs.report import python_shown
from rckit.conformance.support.json_files import SCHEMAS, JsonFileError, read_checked

__all__ = ["Atlas", "AtlasError", "Column", "load_report", "main", "merge", "render"]

SCHEMA_PATH = SCHEMAS / "report.schema.json"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: How the page shows each status: a glyph every common font has (no emoji), and a word.
GLYPHS = {"pass": "✓", "fail": "✗", "error": "‼", "xfail": "≈", "xpass": "!", "n/a": "\u2013", "waived": "∅", "not run": "·"}
WORDS = {
    "pass": "pass",
    "fail": "FAIL",
    "error": "error",
    "xfail": "known deviation",
    "xpass": "unexpected pass",
    "n/a": "n/a",
    "waived": "waived",
    "not run": "not run",
}
LABELS = {status: f"{GLYPHS[status]} {WORDS[status]}" for status in GLYPHS}
#: Statuses of a result that say something went wrong or differs from the documentation.
DEVIATING = ("fail", "error", "xfail", "xpass")


class AtlasError(JsonFileError):
    """A report that cannot go into the atlas (unreadable, or not in the report schema)."""


@dataclass(frozen=True)
class Column:
    """One candidate judged on one machine."""

    key: str
    candidate: str
    machine: str
    os: str
    arch: str
    kit_version: str
    report: str
    generated: str
    info: dict[str, Any]

    @property
    def interpreter(self) -> str:
        """The interpreter part of the candidate id (``pyenv-3.12.1``, ``chroot-sid/python3.15``)."""
        return self.candidate.split(":", 1)[0]

    @property
    def module(self) -> str:
        """The module judged (``resource``, ``rckit.reference.resource``)."""
        return self.candidate.split(":", 1)[1]

    def sort_key(self) -> tuple[Any, ...]:
        """Columns are grouped by implementation, then version, build, module, platform, machine."""
        try:
            version: Any = Version(str(self.info.get("python", "0")))
        except InvalidVersion:
            version = Version("0")
        return (
            str(self.info.get("implementation", "?")),
            version,
            str(self.info.get("build", "release")),
            self.module != "resource",
            str(self.info.get("platform", "?")),
            self.machine,
            self.candidate,
        )

    def to_json(self) -> dict[str, Any]:
        """What the page's script knows about the column."""
        info = self.info
        return {
            "key": self.key,
            "candidate": self.candidate,
            "interpreter": self.interpreter,
            "module": self.module,
            "implementation": str(info.get("implementation", "?")),
            "python": str(info.get("python", "?")),
            "python_shown": python_shown(info),
            "build": str(info.get("build", "release")),
            "platform": str(info.get("platform", "?")),
            "emulated": info.get("emulated"),
            "privileged": info.get("privileged"),
            "isolation": str(info.get("isolation", "fork")),
            "missing": dict(info.get("missing") or {}),
            "machine": self.machine,
            "os": self.os,
            "arch": self.arch,
            "kit_version": self.kit_version,
            "report": self.report,
            "generated": self.generated,
        }


@dataclass
class Atlas:
    """Rules x columns, with each cell's status and the results behind it."""

    rules: dict[str, dict[str, Any]]
    columns: list[Column]
    cells: dict[str, dict[str, dict[str, Any]]]
    evidence: dict[str, dict[str, list[dict[str, Any]]]]
    reports: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def machines(self) -> list[str]:
        """The machines the reports came from, in column order."""
        return list(dict.fromkeys(c.machine for c in self.columns))

    def status(self, rule_id: str, column: Column) -> str:
        """The cell's status (``not run`` when the column's report did not have the rule)."""
        return str(self.cells.get(rule_id, {}).get(column.key, {}).get("status", "not run"))


def load_report(path: Path) -> dict[str, Any]:
    """A report read and checked against the schema; :class:`AtlasError` says what is wrong."""
    try:
        return dict(read_checked(path, SCHEMA_PATH.name, what="not a conformance report of this kit's schema", shown=5))
    except JsonFileError as exc:
        raise AtlasError(str(exc)) from None


def _evidence(result: dict[str, Any]) -> dict[str, Any]:
    kept = {k: result[k] for k in ("test", "status", "reason", "duration") if result.get(k) not in (None, "")}
    for key in ("falsifying", "expectation"):  # the stored example is for repro, too big for the page
        if result.get(key):
            kept[key] = result[key]
    kept["nodeid"] = result["nodeid"]
    return kept


def merge(reports: Sequence[tuple[str, dict[str, Any]]]) -> Atlas:
    """One atlas of several reports (named by where they were read). The rules come from the
    newest report; a candidate judged twice on one machine keeps its newest report's column."""
    ordered = sorted(reports, key=lambda item: str(item[1]["meta"].get("generated", "")))
    rules: dict[str, dict[str, Any]] = {}
    columns: dict[str, Column] = {}
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    evidence: dict[str, dict[str, list[dict[str, Any]]]] = {}
    notes: list[str] = []
    for name, data in ordered:
        meta = data["meta"]
        rules.update(data["rules"])
        for cid, info in data["candidates"].items():
            key = f"{meta['machine']} {cid}"
            if key in columns:
                notes.append(f"{cid} on {meta['machine']}: {name} replaces {columns[key].report} (newer)")
                for per_rule in (cells, evidence):
                    for row in per_rule.values():
                        row.pop(key, None)
            columns[key] = Column(
                key, cid, meta["machine"], meta["os"], meta["arch"], meta["kit_version"], name, meta["generated"], info
            )
        for rid, row in data["matrix"].items():
            for cid, cell in row.items():
                cells.setdefault(rid, {})[f"{meta['machine']} {cid}"] = cell
        for result in data["results"]:
            key = f"{meta['machine']} {result['candidate']}"
            for rid in result["rules"]:
                evidence.setdefault(rid, {}).setdefault(key, []).append(_evidence(result))
    order = sorted(columns.values(), key=Column.sort_key)
    return Atlas(dict(sorted(rules.items())), order, cells, evidence, [name for name, _ in ordered], notes)


def _tests_of(atlas: Atlas) -> dict[str, list[str]]:
    tests: dict[str, set[str]] = {}
    for rid, row in atlas.evidence.items():
        for results in row.values():
            tests.setdefault(rid, set()).update(r["test"] for r in results)
    return {rid: sorted(names) for rid, names in tests.items()}


def page_data(atlas: Atlas) -> dict[str, Any]:
    """Everything the page's script reads: columns, rules (with the tests that check them), the
    status of every cell and the results behind every cell."""
    tests = _tests_of(atlas)
    return {
        "columns": [c.to_json() for c in atlas.columns],
        "rules": {rid: {**rule, "id": rid, "tests": tests.get(rid, [])} for rid, rule in atlas.rules.items()},
        "cells": {rid: {c.key: _cell(atlas, rid, c) for c in atlas.columns} for rid in atlas.rules},
        "evidence": {rid: _deviating(row) for rid, row in atlas.evidence.items()},
        "reports": atlas.reports,
        "symbols": LABELS,
    }


def _deviating(row: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Per column, the results worth showing as evidence: those that failed or deviate."""
    kept = {key: [r for r in results if r["status"] in DEVIATING] for key, results in row.items()}
    return {key: results for key, results in kept.items() if results}


def _cell(atlas: Atlas, rule_id: str, column: Column) -> dict[str, Any]:
    cell = atlas.cells.get(rule_id, {}).get(column.key, {})
    return {"status": atlas.status(rule_id, column), "reason": cell.get("reason", ""), "tests": cell.get("tests", [])}


def _groups(columns: list[Column], attribute: Any) -> list[tuple[str, int]]:
    """Runs of adjacent columns with the same label: the header's spans."""
    spans: list[tuple[str, int]] = []
    for column in columns:
        label = attribute(column)
        if spans and spans[-1][0] == label:
            spans[-1] = (label, spans[-1][1] + 1)
        else:
            spans.append((label, 1))
    return spans


def render(atlas: Atlas) -> str:
    """The atlas as one HTML page (no network needed)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("atlas.html.j2")
    columns = atlas.columns
    return template.render(
        atlas=atlas,
        columns=columns,
        data=page_data(atlas),
        symbols=LABELS,
        glyphs=GLYPHS,
        implementation_spans=_groups(columns, lambda c: str(c.info.get("implementation", "?"))),
        version_spans=_groups(columns, lambda c: f"{c.info.get('implementation', '?')} {python_shown(c.info)}"),
        several_machines=len(atlas.machines) > 1,
        counts=_counts(atlas),
    )


def _counts(atlas: Atlas) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for rid in atlas.rules:
        for column in atlas.columns:
            status = atlas.status(rid, column)
            counts[status] = counts.get(status, 0) + 1
    return [(status, counts[status]) for status in GLYPHS if status in counts]


def main(argv: Sequence[str] | None = None) -> int:
    """``atlas REPORT... -o FILE``: merge the reports and write the page; 2 for a bad report."""
    parser = argparse.ArgumentParser(prog="python -m rckit.conformance atlas", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT", help="conformance.json files (any machines)")
    parser.add_argument("-o", "--output", type=Path, default=Path("atlas.html"), help="the page to write (default: atlas.html)")
    args = parser.parse_args(argv)
    try:
        reports = [(str(path), load_report(path)) for path in args.reports]
    except AtlasError as exc:
        print(f"rckit atlas: {exc}", file=sys.stderr)
        return 2
    atlas = merge(reports)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(atlas), encoding="utf-8")
    for note in atlas.notes:
        print(f"rckit atlas: {note}", file=sys.stderr)
    machines = ", ".join(atlas.machines)
    print(f"{args.output}: {len(atlas.rules)} rules x {len(atlas.columns)} columns from {len(reports)} report(s) ({machines})")
    return 0
