"""The conformance report: rule x candidate -> pass / fail / known deviation / unexpected pass / n.a.

Built from per-test results, rendered three ways: terminal lines, JSON (schema in
``schemas/report.schema.json``) and a Markdown matrix.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rckit.spec import Spec
from rckit.spec.model import Citation, Source

__all__ = [
    "SCHEMA_ID",
    "STATUSES",
    "Report",
    "TestResult",
    "build",
    "machine",
    "python_shown",
    "terminal_lines",
    "write",
]

SCHEMA_ID = "https://rckit.invalid/schemas/report/1"
#: Aggregation order: the first status present among a rule's tests is the rule's status.
STATUSES: tuple[str, ...] = ("fail", "error", "xpass", "xfail", "pass", "n/a")
CELL_STATUSES = (*STATUSES, "waived", "not run")
SYMBOLS = {
    "pass": "✅ pass",
    "fail": "❌ FAIL",
    "error": "💥 error",
    "xfail": "⚠️ known",
    "xpass": "❗ xpass",
    "n/a": "– n/a",
    "waived": "🚫 waived",
    "not run": "· not run",
}


@dataclass
class TestResult:
    """One test on one candidate."""

    __test__ = False  # not a pytest test class

    nodeid: str
    test: str
    candidate: str
    rules: list[str]
    status: str
    reason: str = ""
    duration: float = 0.0
    #: The known deviation that made this test an expected failure: its file, reason and link.
    expectation: dict[str, str] | None = None
    #: What hypothesis printed about the falsifying example (its call and each draw), if any.
    falsifying: list[str] = field(default_factory=list)
    #: A failure's example (rckit.conformance.harness.exchanges): the steps that show it, for ``repro``.
    example: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as the report's JSON has it (no ``example`` key when there is none)."""
        data = asdict(self)
        if data["example"] is None:
            del data["example"]
        return data


@dataclass
class Report:
    """Everything a run found."""

    candidates: dict[str, dict[str, Any]]
    results: list[TestResult]
    matrix: dict[str, dict[str, dict[str, Any]]]
    summary: dict[str, dict[str, int]]
    rules: dict[str, dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def unexpected(self) -> list[TestResult]:
        """Results that make the run fail."""
        return [r for r in self.results if r.status in ("fail", "error")]

    def to_json(self) -> dict[str, Any]:
        """The JSON document (validates against schemas/report.schema.json)."""
        return {
            "$schema": SCHEMA_ID,
            "meta": self.meta,
            "candidates": self.candidates,
            "rules": self.rules,
            "matrix": self.matrix,
            "summary": self.summary,
            "results": [r.to_json() for r in self.results],
        }


def _cell(spec: Spec, rule_id: str, results: list[TestResult]) -> dict[str, Any]:
    if not results:
        waiver = spec.rules[rule_id].waiver
        return {"status": "waived" if waiver else "not run", "tests": [], "reason": waiver.reason if waiver else ""}
    present = {r.status for r in results}
    status = next(s for s in STATUSES if s in present)
    reasons = sorted({r.reason for r in results if r.status == status and r.reason})
    tests = sorted({r.test for r in results if r.status == status})
    return {"status": status, "tests": tests, "reason": "; ".join(reasons)[:600]}


def build(spec: Spec, results: list[TestResult], candidates: dict[str, dict[str, Any]], meta: dict[str, Any]) -> Report:
    """Aggregate test results into the rule x candidate matrix."""
    by_cell: dict[tuple[str, str], list[TestResult]] = {}
    for result in results:
        for rule_id in result.rules:
            by_cell.setdefault((rule_id, result.candidate), []).append(result)
    matrix = {
        rule_id: {cid: _cell(spec, rule_id, by_cell.get((rule_id, cid), [])) for cid in candidates}
        for rule_id in sorted(spec.rules)
    }
    summary = {cid: dict(Counter(matrix[r][cid]["status"] for r in matrix)) for cid in candidates}
    rules = {rid: _rule_summary(spec, rid) for rid in sorted(spec.rules)}
    meta = {"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), **machine(), **meta}
    return Report(candidates, sorted(results, key=lambda r: (r.candidate, r.nodeid)), matrix, summary, rules, meta)


def _rule_summary(spec: Spec, rule_id: str) -> dict[str, Any]:
    """What a report says of a rule: statement, strength, range, sources and the errata about it,
    so that a report read elsewhere (the atlas, another machine's kit) needs no spec at hand."""
    rule = spec.rules[rule_id]
    return {
        "statement": rule.statement,
        "strength": rule.strength,
        "versions": str(rule.versions) or "all",
        "platforms": list(rule.platforms),
        "waiver": rule.waiver.reason if rule.waiver else None,
        "sources": [_source(spec, source) for source in rule.sources],
        "errata": [
            {"id": entry.id, "kind": entry.kind, "claim": entry.claim, "finding": entry.finding}
            for entry in sorted(spec.entries.values(), key=lambda e: e.id)
            if rule_id in entry.rules
        ],
    }


def _source(spec: Spec, source: Source) -> dict[str, Any]:
    if isinstance(source, Citation):
        edition = spec.editions[source.edition]
        return {"edition": source.edition, "title": edition.title, "location": edition.location, "quote": source.quote}
    return {"observed": list(source.interpreters), "run": source.run, "printed": source.printed}


def machine() -> dict[str, str]:
    """Which machine, OS and kit made a report: what merging reports from several machines needs."""
    try:
        kit = importlib.metadata.version("resource-conformance-kit")
    except importlib.metadata.PackageNotFoundError:
        kit = "unknown"
    return {
        "machine": os.environ.get("RCKIT_MACHINE") or platform.node() or "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "kit_version": kit,
    }


def python_shown(info: dict[str, Any]) -> str:
    """The Python version of a candidate as reports show it, a debug build marked as such."""
    version = str(info.get("python", "?"))
    return f"{version} (debug)" if info.get("build") == "debug" else version


def terminal_lines(report: Report) -> list[str]:
    """A compact summary for the terminal: counts per candidate, then every unexpected result."""
    lines = []
    width = max((len(c) for c in report.candidates), default=10)
    for cid, info in report.candidates.items():
        counts = report.summary.get(cid, {})
        shown = "  ".join(f"{SYMBOLS[s].split(' ', 1)[1]} {counts[s]}" for s in CELL_STATUSES if counts.get(s))
        interpreter = f"{info.get('implementation', '?')} {python_shown(info)}"
        lines.append(f"{cid:<{width}}  {interpreter:<24} {shown}")
        if info.get("isolation") == "spawn" or info.get("missing"):
            lacks = f"; lacks {_lacks(info)}" if info.get("missing") else ""
            lines.append(f"{'':<{width}}  isolation: {info.get('isolation', 'fork')}{lacks}")
    lines += _not_judged_here(report)
    for status, title in (
        ("fail", "UNEXPECTED FAILURES"),
        ("error", "ERRORS"),
        ("xpass", "UNEXPECTED PASSES (a known deviation is gone)"),
    ):
        rows = [
            (rid, cid, cell) for rid, cells in report.matrix.items() for cid, cell in cells.items() if cell["status"] == status
        ]
        if rows:
            lines.append(f"{title}:")
            lines += [
                f"  {rid} on {cid}: {', '.join(cell['tests'])} {('- ' + cell['reason'][:150]) if cell['reason'] else ''}"
                for rid, cid, cell in rows
            ]
    return lines


#: n/a reasons that say a rule does not apply to a candidate's version or platform (the rule's
#: own range), as opposed to what this machine or interpreter lacks to judge it.
_OUT_OF_RANGE = re.compile(r"^n/a: \S+ (holds for Python|concerns) ")


def _not_judged_here(report: Report) -> list[str]:
    """Rules that apply but could not be judged here (the interpreter or the machine lacks
    something: a capability, a compiler, privilege), one line per reason with the rules and how
    many candidates it concerns."""
    by_reason: dict[str, tuple[set[str], set[str]]] = {}
    for rule_id, cells in report.matrix.items():
        for cid, cell in cells.items():
            if cell["status"] == "n/a" and cell["reason"] and not _OUT_OF_RANGE.match(cell["reason"]):
                rules, candidates = by_reason.setdefault(cell["reason"], (set(), set()))
                rules.add(rule_id)
                candidates.add(cid)
    if not by_reason:
        return []
    lines = ["NOT JUDGED HERE (n/a: what the interpreter or this machine lacks):"]
    for reason, (rules, candidates) in sorted(by_reason.items()):
        shown = reason.removeprefix("n/a: ")[:150]
        lines.append(f"  {', '.join(sorted(rules))} on {len(candidates)} candidate(s): {shown}")
    return lines


def _to_markdown(report: Report) -> str:
    """The rule x candidate matrix as Markdown, with candidate details and the deviations."""
    cids = list(report.candidates)
    out = [
        "# resource conformance report",
        "",
        f"Generated {report.meta.get('generated', '')} by `{report.meta.get('command', 'rckit')}`.",
        "",
    ]
    out += [
        "## Candidates",
        "",
        "| column | interpreter | implementation | Python | module | platform | privileged | emulated | isolation | lacks |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, cid in enumerate(cids, 1):
        info = report.candidates[cid]
        interpreter, module = cid.split(":", 1)
        out.append(
            f"| C{n} | {interpreter} | {info.get('implementation', '?')} | {python_shown(info)} | `{module}` | "
            f"{info.get('platform', '?')} | {info.get('privileged')} | {info.get('emulated')} | "
            f"{info.get('isolation', 'fork')} | {_lacks(info)} |"
        )
    out += [
        "",
        "## Summary",
        "",
        "| column | " + " | ".join(SYMBOLS[s] for s in CELL_STATUSES) + " |",
        "|---" * (len(CELL_STATUSES) + 1) + "|",
    ]
    for n, cid in enumerate(cids, 1):
        counts = report.summary.get(cid, {})
        out.append(f"| C{n} | " + " | ".join(str(counts.get(s, 0)) for s in CELL_STATUSES) + " |")
    out += [
        "",
        "## Matrix",
        "",
        "| rule | strength | " + " | ".join(f"C{n}" for n in range(1, len(cids) + 1)) + " |",
        "|---|---|" + "---|" * len(cids),
    ]
    for rid, cells in report.matrix.items():
        out.append(f"| {rid} | {report.rules[rid]['strength']} | " + " | ".join(SYMBOLS[cells[c]["status"]] for c in cids) + " |")
    groups: dict[tuple[str, str, str, str], list[int]] = {}
    for rid, cells in report.matrix.items():
        for n, cid in enumerate(cids, 1):
            cell = cells[cid]
            if cell["status"] in ("fail", "error", "xfail", "xpass"):
                groups.setdefault((rid, cell["status"], ", ".join(cell["tests"]), cell["reason"]), []).append(n)
    if groups:
        out += ["", "## Deviations and failures", "", "| rule | columns | status | tests | reason |", "|---|---|---|---|---|"]
        for (rid, status, tests, reason), columns in groups.items():
            shown = reason.replace("|", "\\|").replace("\n", " ")
            out.append(f"| {rid} | {_column_ranges(columns)} | {SYMBOLS[status]} | {tests} | {shown} |")
    waived = [(rid, r["waiver"]) for rid, r in report.rules.items() if r["waiver"]]
    if waived:
        out += ["", "## Waived rules", "", "| rule | why it has no test |", "|---|---|"]
        out += [f"| {rid} | {why} |" for rid, why in waived]
    return "\n".join(out) + "\n"


def _lacks(info: dict[str, Any]) -> str:
    """What a candidate's interpreter lacks of what the kit probes, and why (a dash for nothing)."""
    missing = info.get("missing") or {}
    return "; ".join(f"{name} ({why})" for name, why in sorted(missing.items())).replace("|", "\\|") or "–"


def _column_ranges(columns: list[int]) -> str:
    """Column numbers as short ranges: [1, 2, 3, 5] -> "C1\u2013C3, C5" (an en dash)."""
    runs: list[list[int]] = []
    for n in sorted(columns):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"C{run[0]}" if len(run) == 1 else f"C{run[0]}–C{run[-1]}" for run in runs)


def write(report: Report, directory: Path) -> tuple[Path, Path]:
    """Write conformance.json and conformance.md into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "conformance.json", directory / "conformance.md"
    json_path.write_text(json.dumps(report.to_json(), indent=1) + "\n")
    md_path.write_text(_to_markdown(report))
    return json_path, md_path
