"""Traceability: which conformance tests check which rule, and the gate over it.

    python -m rckit.conformance trace            # the rule <-> test table with coverage
    python -m rckit.conformance trace --check    # exit 1 if the gate fails

The gate fails when a rule has neither a test nor a waiver with a written reason, when a waived
rule has tests after all (a stale waiver), when a conformance test names no rule or an unknown
one, or when a rule's quote and the edition coverage tables (spec/sentences/) disagree. Beside the
rule coverage it prints the edition coverage: how many sentences of each seed rules encode.
Tests are found by collecting the suite with pytest, so the table is what actually runs.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field

import pytest
from rckit.spec import Spec, load
from rckit.spec.coverage import load_tables, summary
from rckit.spec.coverage import problems as edition_problems

__all__ = ["Trace", "collect", "main"]


@dataclass
class Trace:
    """Rules -> test functions, and what is wrong with the mapping."""

    tests_by_rule: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[tuple[str, list[str]]] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)

    def problems(self, spec: Spec) -> list[str]:
        """Everything the gate rejects."""
        found = []
        for rule_id, rule in sorted(spec.rules.items()):
            tests = self.tests_by_rule.get(rule_id, [])
            if not tests and rule.waiver is None:
                found.append(f"{rule_id}: no test and no waiver")
            if tests and rule.waiver is not None:
                found.append(f"{rule_id}: waived ({rule.waiver.kind}) but tested by {', '.join(tests)}; drop the waiver")
        found += [f"{test}: names unknown rule(s) {ids}" for test, ids in self.unknown]
        found += [f"{test}: names no rule" for test in self.unlabelled]
        return found


class _Collector:
    def __init__(self) -> None:
        self.items: list[tuple[str, tuple[str, ...]]] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            ids = tuple(rid for mark in item.iter_markers("rule") for rid in mark.args)
            self.items.append((item.nodeid.split("[")[0], ids))
        items.clear()  # nothing to run; also keeps the suite's own checks from aborting collection


def collect(spec: Spec | None = None) -> Trace:
    """Collect the suite and map its tests to rule ids."""
    from rckit.conformance.tools.cli import SUITE

    spec = spec or load()
    collector = _Collector()
    with redirect_stdout(io.StringIO()):
        pytest.main(
            [str(SUITE), "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--candidate=resource"],
            plugins=[collector],
        )
    trace = Trace()
    for nodeid, ids in dict(collector.items).items():
        name = nodeid.split("::")[-1]
        if not ids:
            trace.unlabelled.append(name)
        bad = [rid for rid in ids if rid not in spec.rules]
        if bad:
            trace.unknown.append((name, bad))
        for rid in ids:
            tests = trace.tests_by_rule.setdefault(rid, [])
            if name not in tests:
                tests.append(name)
    return trace


def table(spec: Spec, trace: Trace) -> str:
    """The rule <-> test table and the coverage line."""
    lines = [f"{'rule':34} {'tests':>5}  tests (or waiver)"]
    for rule_id, rule in sorted(spec.rules.items()):
        tests = trace.tests_by_rule.get(rule_id, [])
        shown = (
            ", ".join(tests)
            if tests
            else (f"WAIVED [{rule.waiver.kind}] {rule.waiver.reason[:70]}..." if rule.waiver else "-- NONE --")
        )
        lines.append(f"{rule_id:34} {len(tests):>5}  {shown}")
    tested = sum(1 for rid in spec.rules if trace.tests_by_rule.get(rid))
    waived = sum(1 for rule in spec.rules.values() if rule.waiver is not None)
    lines.append(
        f"\n{tested} of {len(spec.rules)} rules have tests ({100 * tested / len(spec.rules):.0f}%); "
        f"{waived} waived with a reason; "
        f"{sum(len(t) for t in trace.tests_by_rule.values())} test-rule links."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table; with --check, exit 1 when the gate fails."""
    parser = argparse.ArgumentParser(prog="python -m rckit.conformance trace", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if any rule is untested and unwaived, or any test is unlabelled"
    )
    args = parser.parse_args(argv)
    spec = load()
    trace = collect(spec)
    print(table(spec, trace))
    tables = load_tables()
    print("\nEdition coverage (spec/sentences/; python -m rckit.spec.coverage checks the texts themselves):")
    for line in summary(spec, tables):
        print(f"  {line}")
    problems = trace.problems(spec) + edition_problems(spec, tables)
    for problem in problems:
        print(f"GATE: {problem}")
    if args.check and problems:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
