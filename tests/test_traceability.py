"""The traceability gate: every rule has a test or a written waiver; every conformance test names
known rules. The gate itself can fail."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from rckit.conformance.tools.traceability import Trace, collect
from rckit.spec import load


def test_the_gate_passes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rckit.conformance.tools.traceability", "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "rules have tests" in done.stdout
    assert "Edition coverage" in done.stdout
    for seed in ("py22", "py23", "py27", "py27-text", "pymotw"):
        assert re.search(rf"^  {re.escape(seed)} +\d+ sentences.*encoded", done.stdout, re.M), seed


def test_every_rule_is_tested_or_waived() -> None:
    spec = load()
    trace = collect(spec)
    assert trace.problems(spec) == []
    assert sum(1 for rid in spec.rules if trace.tests_by_rule.get(rid)) >= len(spec.rules) - 5


def test_the_gate_reports_each_kind_of_problem() -> None:
    spec = load()
    waived = next(r.id for r in spec.rules.values() if r.waiver is not None)
    trace = Trace(
        tests_by_rule={
            rid: ["t"] for rid in spec.rules if rid not in ("PAGESIZE.SYSTEM_PAGE",) and spec.rules[rid].waiver is None
        }
        | {waived: ["t2"]},
        unknown=[("test_bogus", ["NO.SUCH_RULE"])],
        unlabelled=["test_anonymous"],
    )
    problems = trace.problems(spec)
    assert "PAGESIZE.SYSTEM_PAGE: no test and no waiver" in problems
    assert any(p.startswith(f"{waived}: waived") for p in problems)
    assert any("NO.SUCH_RULE" in p for p in problems)
    assert "test_anonymous: names no rule" in problems


def test_an_unlabelled_conformance_test_stops_the_run(tmp_path: Path, repo: Path) -> None:
    """The suite's own collection refuses a test without @pytest.mark.rule."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text((repo / "conformance" / "suite" / "conftest.py").read_text())
    (suite / "test_unlabelled.py").write_text("def test_nothing(candidate):\n    assert candidate\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-q"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "names no rule" in done.stdout + done.stderr
