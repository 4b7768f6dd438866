"""benchmarks/bench.py runs and prints what it promises. No timing is judged: it is a benchmark."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rckit.conformance.environments.discovery import discover

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"
#: "getrlimit   368.5   980.2   2.66x   580.1   1.69x  getrlimit(RLIMIT_NOFILE)"
LINE = re.compile(r"^(\w+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)x\s+(\d+\.\d+)\s+(\d+\.\d+)x\s+\1\(")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="resource exists only on POSIX")


def expected_calls() -> set[str]:
    """The calls the script measures here: prlimit only where both modules have it."""
    # Imported here, after the POSIX skip: neither module exists elsewhere.
    import resource

    import rckit.reference.resource as reference

    calls = {"getrlimit", "setrlimit", "getrusage"}
    if hasattr(resource, "prlimit") and hasattr(reference, "prlimit"):
        calls.add("prlimit")
    return calls


def run_script(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS"))}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def table(output: str) -> dict[str, tuple[float, ...]]:
    """{call: (C ns, reference ns, ratio, floor ns, floor ratio)} from the table lines of ``output``."""
    rows = {}
    for line in output.splitlines():
        match = LINE.match(line)
        if match:
            rows[match.group(1)] = tuple(float(match[i]) for i in range(2, 7))
    return rows


def test_table_has_a_line_per_call_with_positive_numbers() -> None:
    output = run_script("--quick").stdout
    rows = table(output)
    assert set(rows) == expected_calls(), output
    for name, (c_ns, ref_ns, ratio, floor_ns, floor_ratio) in rows.items():
        assert min(c_ns, ref_ns, ratio, floor_ns, floor_ratio) > 0, (name, output)
    header = output.splitlines()[0]
    assert sys.implementation.name in header
    assert ".".join(map(str, sys.version_info[:2])) in header
    assert re.search(r"reference backend: (ctypes|cffi)\b", header), header


def test_json_holds_the_results(tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    run_script("--quick", "--json", str(path))
    document = json.loads(path.read_text())
    assert document["format"] == "rckit-benchmark/1"
    [run] = document["runs"]
    assert run["backend"] in ("ctypes", "cffi")
    assert run["implementation"] == sys.implementation.name
    assert set(run["results"]) == expected_calls()
    for name, result in run["results"].items():
        assert result["name"] == name
        assert result["statement"].startswith(name + "(")
        assert min(result["c_ns"], result["reference_ns"]) > 0
        assert result["ratio"] == pytest.approx(result["reference_ns"] / result["c_ns"])
        assert result["floor_ratio"] == pytest.approx(result["reference_ns"] / result["floor_ns"])


def test_markdown_table() -> None:
    output = run_script("--quick", "--markdown").stdout
    rows = [line for line in output.splitlines() if line.startswith("| `")]
    assert {row.split("`")[1].split("(")[0] for row in rows} == expected_calls(), output


def test_all_interpreters_lists_what_it_skipped(tmp_path: Path) -> None:
    path = tmp_path / "all.json"
    output = run_script("--all-interpreters", "--quick", "--json", str(path), timeout=900).stdout
    found, notes = discover()
    assert "=== SKIPPED interpreters:" in output
    assert "=== Summary" in output
    for note in notes:
        assert note in output
    skipped = [i.label for i in found if not i.runs_reference or i.label.startswith("chroot-")]
    for label in skipped:
        assert f"SKIPPED {label}:" in output
    document = json.loads(path.read_text())
    assert document["failed"] == []
    measured = {run["label"] for run in document["runs"]}
    assert measured == {i.label for i in found} - set(skipped)
    for run in document["runs"]:
        assert run["results"], run


SUITE_SCRIPT = SCRIPT.parent / "suite_bench.py"


def test_the_suite_benchmark_splits_a_candidate_s_time(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(SUITE_SCRIPT), "--impl", "resource", "-k", "limits_get", "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS"))},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (timing,) = json.loads(figures.read_text())
    assert timing["candidate"] == "host:resource" and timing["exit_status"] == 0
    assert timing["tests"] >= 5 and timing["examples"] > timing["tests"], "hypothesis's examples are counted"
    assert timing["harness_cpu"] > 0 and timing["candidate_cpu"] > 0, "both processes' CPU is read"
    assert 0 < timing["in_examples"] <= timing["in_tests"] < timing["wall"]
    assert timing["waiting"] >= 0
    assert "host:resource" in done.stdout.splitlines()[1]
