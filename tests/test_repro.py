"""``python -m rckit.conformance repro``: the reproducer of a failure, run by the candidate's own
interpreter, shows the deviation again and exits 1; run where the deviation is absent, it says so
and exits 0.

The examples are made afresh here by judging a deliberately broken candidate and real interpreters
with known deviations; the last test runs every reproducer of the committed example report
(``docs/example-report.json``, or the report named by ``RCKIT_EXAMPLE_REPORT``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rckit.conformance.harness.specs import split_chroot
from rckit.conformance.outputs.repro.command import FAILED, ReproError, failures
from rckit.conformance.outputs.repro.rerun import Ran, run
from rckit.conformance.outputs.repro.script import Failure, render

from tests.conftest import REPO, run_suite

CANDIDATES = Path(__file__).resolve().parent / "candidates"
SCHEMA = json.loads((REPO / "conformance" / "schemas" / "report.schema.json").read_text())
EXAMPLE_REPORT = Path(os.environ.get("RCKIT_EXAMPLE_REPORT", REPO / "docs" / "example-report.json"))


def pyenv_python(version: str) -> str | None:
    """pyenv's CPython ``version``, if installed."""
    if shutil.which("pyenv") is None:
        return None
    done = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True, check=False)
    python = Path(done.stdout.strip()) / "bin" / "python"
    return str(python) if done.returncode == 0 and python.exists() else None


def require(command: list[str]) -> None:
    """Skip, saying which, unless the interpreter command (a chroot's included) is on this machine."""
    root, argv = split_chroot(command)
    present = Path(root + argv[0]).exists() if root else shutil.which(argv[0]) is not None
    if not present:
        pytest.skip(f"NOT TESTED: {shlex.join(command)} is not on this machine")


def judge(tmp_path: Path, *args: str, tests: str) -> dict[str, Any]:
    """Run the selected tests of the suite (its own process) and return the JSON report."""
    done = run_suite(*args, "--report", str(tmp_path), "-n", "0", "--", "-k", tests, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    report: dict[str, Any] = json.loads((tmp_path / "conformance.json").read_text())
    return report


def failures_of(report: dict[str, Any]) -> list[Failure]:
    """Every failure and known deviation of the report, one per failing test."""
    found = []
    for result in report["results"]:
        if result["status"] in FAILED:
            for rule in result["rules"]:
                test = result["nodeid"].split("::")[-1]
                found += [f for f in failures(report, rule, result["candidate"]) if f.test == test][:1]
    return found


def reproduce(failure: Failure) -> tuple[str, Ran]:
    """The failure's script, and what it did run by the failure's interpreter."""
    script = render(failure)
    return script, run(failure, script)


def assert_reproduces(failure: Failure) -> None:
    script, ran = reproduce(failure)
    where = f"{failure.rule} on {failure.candidate} ({failure.test})"
    assert ran.reproduced, f"{where} did not reproduce (exit {ran.returncode}):\n{ran.output[-3000:]}\n--- script:\n{script}"
    assert f"deviates from {failure.rule}: {failure.statement}" in ran.output


# --- the script itself -------------------------------------------------------------------------

ODD_ARGUMENTS = [
    {"t": "index", "v": 4},
    {"t": "intlike", "v": 4},
    {"t": "intsub", "v": 4},
    {"t": "exploding"},
    {"t": "object"},
    {"t": "iter", "v": [{"t": "int", "v": 0}, {"t": "attr", "name": "RLIM_INFINITY"}]},
    {"t": "float", "v": float("inf").hex()},
    {"t": "float", "v": (1.5).hex()},
    {"t": "str", "v": "d\u00e9j\u00e0"},
    {"t": "bytes", "v": "00ff"},
    {"t": "list", "v": [{"t": "none"}, {"t": "bool", "v": True}]},
    {"t": "tuple", "v": [{"t": "int", "v": 2**70}]},
    {"t": "pid", "which": "self"},
]


def odd_example() -> dict[str, Any]:
    """An example with every kind of argument, a grandchild, an allocation and an action that is
    not replayed (its outcomes are made up: the script must run, not reproduce)."""
    returned = {"ok": {"outcome": "return", "value": {"t": "none"}, "warnings": [], "audit": []}}
    limits = {"t": "tuple", "v": [{"t": "int", "v": 0}, {"t": "int", "v": -1}]}
    steps: list[dict[str, Any]] = [
        {"session": 0, "op": "call", "fn": "getrlimit", "args": [arg], "kwargs": {}, "reply": returned} for arg in ODD_ARGUMENTS
    ]
    steps += [
        {"session": 0, "op": "attr", "name": "RLIM_INFINITY", "reply": {"ok": {"present": True, "value": {"t": "int", "v": -1}}}},
        {
            "session": 0,
            "op": "error_class",
            "reply": {
                "ok": {
                    "present": True,
                    "is_class": True,
                    "is_exception": True,
                    "is_oserror": True,
                    "mro": ["OSError", "Exception", "BaseException", "object"],
                }
            },
        },
        {"session": 1, "parent": 0, "op": "fork", "reply": {"ok": {"pid": 10}}},
        {"session": 1, "op": "call", "fn": "setrlimit", "args": [{"t": "int", "v": 4}, limits], "kwargs": {}, "reply": returned},
        {"session": 2, "parent": 1, "op": "fork", "reply": {"ok": {"pid": 11}}},
        {"session": 2, "op": "act", "action": "allocate", "params": {"bytes": 4096}, "reply": {"ok": {"memory_error": False}}},
        {"session": 2, "op": "exit", "reply": {"ended": {"pid": 11, "exit_code": 0, "signal": None, "core_dumped": False}}},
        {"session": 1, "op": "act", "action": "proc_limits", "params": {"pid": "self"}, "reply": {"ok": {"available": True}}},
        {"session": 1, "op": "exit", "reply": {"ended": {"pid": 10, "exit_code": 0, "signal": None, "core_dumped": False}}},
        {"session": 0, "op": "call", "fn": "getrusage", "args": [{"t": "int", "v": 0}], "kwargs": {}, "reply": returned},
    ]
    constants = {"RLIMIT_CORE": 4, "RLIMIT_NOFILE": 7, "RLIMIT_OFILE": 7, "RLIM_INFINITY": -1, "RUSAGE_SELF": 0}
    return {"steps": steps, "assertion": "made up", "module": "resource", "python": [sys.executable], "constants": constants}


def test_the_script_runs_on_python_2_and_3_with_odd_arguments(tmp_path: Path) -> None:
    """Every kind of argument the protocol carries becomes source that Python 2.7 and 3 run; calls
    in a child (and a grandchild) stay there; made-up outcomes are reported as not reproduced."""
    failure = Failure("LIMITS.GET_PAIR", "statement", "host:resource", "test_x", "fail", "", odd_example())
    script = render(failure)
    assert "step(1, lambda: resource.getrlimit(IndexOnly(4)))" in script
    assert "step(16, lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, resource.RLIM_INFINITY)))" in script
    assert "step(19, lambda: resource.getrusage(resource.RUSAGE_SELF))" in script
    assert "class Exploding(object):" in script and "if fork(2):" in script
    assert '# not replayed: the kit\'s "proc_limits" action' in script
    path = tmp_path / "repro.py"
    path.write_text(script)
    pythons = [sys.executable]
    python27 = pyenv_python("2.7.18")
    if python27 is None:
        print("NOT TESTED: the script under Python 2.7 (pyenv 2.7.18 is not on this machine)")
    else:
        pythons.append(python27)
    for python in pythons:
        done = subprocess.run([python, str(path)], capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, f"{python}:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"{python}:\n{done.stderr}"
        assert "NOT REPRODUCED: step(s) 1, 2," in done.stdout, done.stdout
        assert "17. allocating 4096 bytes worked" in done.stdout, done.stdout
        assert "1. resource.getrlimit(IndexOnly(4)) " in done.stdout, done.stdout
        assert "15. resource.error is " in done.stdout, done.stdout


def test_the_cli_prints_the_script_or_says_why_not(tmp_path: Path) -> None:
    report = {
        "candidates": {"host:resource": {"implementation": "cpython", "python": "3", "platform": "linux"}},
        "rules": {},
        "results": [
            {"nodeid": "t.py::test_x[host:resource]", "test": "test_x", "candidate": "host:resource",
             "rules": ["LIMITS.GET_PAIR"], "status": "xfail", "reason": "known", "duration": 0.0, "example": odd_example()},
        ],
    }  # fmt: skip
    path = tmp_path / "conformance.json"
    path.write_text(json.dumps(report))
    base = [sys.executable, "-m", "rckit.conformance", "repro", str(path)]
    done = subprocess.run([*base, "LIMITS.GET_PAIR", "host:resource"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("#!/usr/bin/env python"), done.stderr
    assert "Known deviation:\n    known" in done.stdout
    compile(done.stdout, "repro.py", "exec")
    for args, words in (
        (["LIMITS.GET_PAIR", "pypy3:resource"], "no candidate 'pypy3:resource'"),
        (["LIMITS.SOFT_LE_HARD", "host:resource"], "LIMITS.SOFT_LE_HARD did not fail on host:resource"),
    ):
        done = subprocess.run([*base, *args], capture_output=True, text=True, check=False)
        assert done.returncode == 2 and words in done.stderr, done.stderr
    del report["results"][0]["example"]  # type: ignore[index]
    with pytest.raises(ReproError, match="stores no example"):
        failures(report, "LIMITS.GET_PAIR", "host:resource")


# --- examples made afresh ------------------------------------------------------------------------


def test_a_broken_candidate_s_failures_reproduce_and_only_there(tmp_path: Path) -> None:
    """returns_errors returns the ValueError it should raise; wrong_constants has a macOS constant:
    their reproducers show it, and the same script on the real module says it does not reproduce."""
    report = judge(
        tmp_path, "--impl", "returns_errors", "--impl", "wrong_constants", "--path", str(CANDIDATES), "--profile", "quick",
        tests="invalid_resource_get or only_defined",
    )  # fmt: skip
    jsonschema.validate(report, SCHEMA)
    found = {(f.rule, f.candidate): f for f in failures_of(report)}
    # Only the last example is kept: the shrunk one, a single call (not every example hypothesis tried).
    assert [s["fn"] for s in found["LIMITS.INVALID_RESOURCE", "host:returns_errors"].example["steps"]] == ["getrlimit"]
    assert set(found) == {("LIMITS.INVALID_RESOURCE", "host:returns_errors"), ("CONSTANTS.ONLY_DEFINED", "host:wrong_constants")}
    for failure in found.values():
        assert_reproduces(failure)
    failure = found["LIMITS.INVALID_RESOURCE", "host:returns_errors"]
    script = render(failure).replace("import returns_errors as resource", "import resource")
    ran = run(failure, script)
    assert ran.returncode == 0 and "NOT REPRODUCED: step(s) 1 " in ran.output, ran.output


def test_a_state_machine_s_failure_reproduces_from_its_shrunk_run_alone(tmp_path: Path) -> None:
    """The stateful model fails hard_follows_soft; the stored example is the one run hypothesis
    shrank to (one child, dropped to an unprivileged user once), and its reproducer shows it."""
    report = judge(tmp_path, "--impl", "hard_follows_soft", "--path", str(CANDIDATES), "--profile", "quick", tests="stateful")
    (failure,) = [f for f in failures_of(report) if f.rule == "LIMITS.SET_ROUND_TRIP"]
    steps = failure.example["steps"]
    assert [s["op"] for s in steps].count("fork") == 1, steps
    assert [s.get("action") for s in steps].count("drop_privileges") == 1, steps
    assert failure.example["assertion"].startswith("RLIMIT_"), failure.example["assertion"]
    assert_reproduces(failure)


INTERPRETERS = [
    pytest.param(
        "/usr/bin/pypy3",
        "invalid_resource or float or value_str or invalid_who or audit or getrusage_syscall_error or documented_present",
        id="pypy3",
    ),
    pytest.param("pyenv:3.12.1", "pid_beyond", id="cpython-3.12.1"),
    pytest.param("chroot /var/cache/rckit/chroots/sid /usr/bin/pypy3", "invalid_resource_get or invalid_who", id="sid-pypy3"),
    pytest.param(
        "chroot /var/cache/rckit/chroots/arm64 /usr/bin/python3",
        "as_limits_allocation or (set_round_trip and address) or (hard_raise_denied and address) or uncached_file_counts_major",
        id="arm64-qemu-python3",
    ),
]


@pytest.mark.parametrize(("command", "tests"), INTERPRETERS)
def test_known_deviations_of_real_interpreters_reproduce(tmp_path: Path, command: str, tests: str) -> None:
    """The known deviations of real interpreters, judged afresh: each reproducer shows its deviation."""
    if command.startswith("pyenv:"):
        python = pyenv_python(command.split(":", 1)[1])
        if python is None:
            pytest.skip(f"NOT TESTED: pyenv CPython {command.split(':', 1)[1]} is not on this machine")
        command = python
    require(shlex.split(command))
    report = judge(tmp_path, "--python", command, "--impl", "resource", tests=tests)
    found = failures_of(report)
    assert found, f"no failure with an example in {sorted((r['test'], r['status']) for r in report['results'])}"
    for failure in found:
        assert_reproduces(failure)


# --- the committed example report ------------------------------------------------------------------


def _example_results() -> list[Any]:
    if not EXAMPLE_REPORT.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"NOT TESTED: {EXAMPLE_REPORT} does not exist"), id="none")]
    report = json.loads(EXAMPLE_REPORT.read_text())
    results = [r for r in report["results"] if r["status"] in FAILED]
    if not any("example" in r for r in results):
        reason = f"NOT TESTED: {EXAMPLE_REPORT} stores no examples yet (regenerate it with this version of the kit)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-examples")]
    return [pytest.param(r, id=f"{r['candidate']}::{r['test']}::{r['rules'][0]}") for r in results]


@pytest.mark.parametrize("result", _example_results())
def test_every_reproducer_of_the_example_report_reproduces(result: dict[str, Any]) -> None:
    """Each failure of the example report, by its reproducer, with its candidate's interpreter here."""
    report = json.loads(EXAMPLE_REPORT.read_text())
    assert result.get("example"), "the report stores no example for this failure"
    test = result["nodeid"].split("::")[-1]
    failure = next(f for f in failures(report, result["rules"][0], result["candidate"]) if f.test == test)
    require(list(failure.example["python"]))
    script, ran = reproduce(failure)
    if "SHOWN_BY_LAST_STEP = False" in script and "\nNOT SHOWN: " in ran.output and ran.returncode == 0:
        pytest.xfail(f"the step that shows it is a kit action the script does not replay:\n{ran.output[-500:]}")
    assert ran.reproduced, f"exit {ran.returncode}:\n{ran.output[-3000:]}\n--- script:\n{script}"


def test_a_failure_found_without_fork_reproduces_without_fork(tmp_path: Path) -> None:
    """In a CPython without os.fork (as GraalPy), a failure found in spawn mode gets a script whose
    children are the script run again for their session; it reproduces there, with the
    unprivileged child of the stateful model too."""
    from tests.forkless import interpreter_without

    python = interpreter_without(tmp_path, "python-nofork")
    report = judge(
        tmp_path, "--python", str(python), "--impl", "hard_follows_soft", "--path", str(CANDIDATES),
        "--profile", "quick", tests="soft_moves_freely or stateful",
    )  # fmt: skip
    assert {info["isolation"] for info in report["candidates"].values()} == {"spawn"}
    found = {f.rule: f for f in failures_of(report)}
    assert {"LIMITS.SOFT_MOVES_FREELY", "LIMITS.SET_ROUND_TRIP"} <= set(found), sorted(found)
    for rule in ("LIMITS.SOFT_MOVES_FREELY", "LIMITS.SET_ROUND_TRIP"):
        script, ran = reproduce(found[rule])
        assert "if fork(" in script and "has no attribute 'fork'" not in ran.output, ran.output
        assert ran.reproduced, f"{rule} did not reproduce (exit {ran.returncode}):\n{ran.output[-3000:]}\n--- script:\n{script}"
