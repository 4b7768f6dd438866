"""Judging without fork: every limit-changing example in a fresh process of the candidate's
interpreter (spawn mode), chosen where the interpreter cannot fork and on request anywhere.

The forkless interpreter is the harness's own CPython with ``os.fork`` taken away
(tests/forkless.py), as GraalPy has it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_suite
from tests.forkless import interpreter_without

REFERENCE = "rckit.reference.resource"
#: The rules whose subject is fork itself: n/a where the interpreter cannot fork.
ABOUT_FORK = {"EFFECTS.INHERITED_BY_FORK"}


@pytest.fixture(scope="module")
def forkless(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CPython without os.fork, os.forkpty and os.fork1."""
    return interpreter_without(tmp_path_factory.mktemp("forkless"), "python-nofork")


def _run(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """The CLI on both candidates (quick profile); exit status, report, output."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    done = run_suite(*args, "--profile", "quick", "--report", str(tmp_path), "-n", "2", "-q", cwd=tmp_path)
    path = tmp_path / "conformance.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    return done.returncode, report, done.stdout + done.stderr


def _statuses(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(test id without the candidate, module) -> status."""
    found = {}
    for result in report["results"]:
        module = result["candidate"].split(":", 1)[1]
        test_id = result["nodeid"].replace(f"[{result['candidate']}-", "[").replace(f"[{result['candidate']}]", "")
        found[(test_id, module)] = result["status"]
    return found


def test_a_forkless_interpreter_is_judged_every_rule_pass_or_na_with_reason(tmp_path: Path, forkless: Path) -> None:
    """Both candidates in a CPython that cannot fork: no unexpected result, no "cannot be
    judged"; the report names the isolation mode and what the interpreter lacks; a rule is n/a
    for want of fork only when its subject is fork."""
    code, report, output = _run(tmp_path, "--python", str(forkless))
    assert code == 0, output[-3000:]
    assert set(report["candidates"]) == {"python-nofork:resource", f"python-nofork:{REFERENCE}"}, output[-3000:]
    for cid, info in report["candidates"].items():
        assert info["isolation"] == "spawn", info
        assert info["capabilities"]["fork"] is False and info["capabilities"]["spawn"] is True, info
        assert info["missing"] == {"fork": "os has no fork"}, info
        cells = {rule: by[cid] for rule, by in report["matrix"].items()}
        assert {cell["status"] for cell in cells.values()} <= {"pass", "n/a", "waived"}, output[-3000:]
        assert all(cell["reason"] for cell in cells.values() if cell["status"] in ("n/a", "waived")), cells
        for_fork = {rule for rule, cell in cells.items() if "cannot fork" in cell["reason"]}
        assert for_fork == ABOUT_FORK, for_fork
        assert cells["EFFECTS.INHERITED_BY_FORK"]["reason"] == "n/a: the interpreter cannot fork (os has no fork)"
        # The rules whose experiments make processes are judged, not excused.
        for rule in ("EFFECTS.NPROC", "USAGE.CHILDREN_MATCH_WAIT4", "EFFECTS.SURVIVE_EXEC", "EFFECTS.CPU_SIGXCPU"):
            assert cells[rule]["status"] in ("pass", "n/a") and "fork" not in cells[rule]["reason"], (rule, cells[rule])


def test_spawn_mode_gives_every_test_the_status_fork_mode_gives(tmp_path: Path) -> None:
    """This CPython (it can fork) judged both ways: the same status for every test id of both
    candidates, only the isolation the report names differs."""
    fork_code, forked, fork_output = _run(tmp_path / "fork", "--isolation", "fork")
    spawn_code, spawned, spawn_output = _run(tmp_path / "spawn", "--isolation", "spawn")
    assert fork_code == 0, fork_output[-3000:]
    assert spawn_code == 0, spawn_output[-3000:]
    assert {info["isolation"] for info in forked["candidates"].values()} == {"fork"}
    assert {info["isolation"] for info in spawned["candidates"].values()} == {"spawn"}
    by_fork, by_spawn = _statuses(forked), _statuses(spawned)
    assert len(by_fork) > 200, "both runs judged the whole suite"
    differ = {
        key: (by_fork.get(key), by_spawn.get(key))
        for key in by_fork.keys() | by_spawn.keys()
        if by_fork.get(key) != by_spawn.get(key)
    }
    assert not differ, differ


def test_an_interpreter_without_threads_is_judged_with_the_thread_rules_na(tmp_path: Path) -> None:
    """Without threading (nor _thread) the agent still starts; the rules that need a thread say
    n/a with the reason, EFFECTS.FSIZE is judged from the main thread, and nothing fails."""
    python = interpreter_without(
        tmp_path, "python-nothreads", "import sys\nsys.modules['threading'] = None\nsys.modules['_thread'] = None\n"
    )
    code, report, output = _run(tmp_path / "run", "--python", str(python), "--impl", "resource")
    assert code == 0, output[-3000:]
    info = report["candidates"]["python-nothreads:resource"]
    assert info["missing"] == {"threads": "no threading module"} and info["isolation"] == "fork", info
    cells = {rule: by["python-nothreads:resource"] for rule, by in report["matrix"].items()}
    without = {rule for rule, cell in cells.items() if "cannot start threads" in cell["reason"]}
    assert without == {"MODULE.THREAD_SAFE", "USAGE.SELF_ALL_THREADS", "USAGE.THREAD_ONLY_CALLER", "USAGE.THREAD_MATCHES_TASK"}
    assert cells["EFFECTS.FSIZE"]["status"] == "pass", cells["EFFECTS.FSIZE"]


def test_fork_asked_for_where_the_interpreter_cannot_fork_stops_the_run(tmp_path: Path, forkless: Path) -> None:
    code, _, output = _run(tmp_path, "--python", str(forkless), "--impl", "resource", "--isolation", "fork")
    assert code == 4, output[-3000:]
    assert "python-nofork:resource: --isolation fork was asked for, but the interpreter cannot fork (os has no fork)" in output, (
        output[-3000:]
    )


@pytest.mark.parametrize(("isolation", "expected"), [("auto", "fork"), ("spawn", "spawn")])
def test_an_in_process_candidate_reports_how_its_sessions_are_made(isolation: str, expected: str) -> None:
    """Described in the harness (which forks), its sessions still come from an agent: the
    report says how that agent makes them."""
    from rckit.conformance.harness.candidates import InProcessCandidate
    from rckit.conformance.harness.specs import CandidateSpec

    candidate = InProcessCandidate(CandidateSpec("resource", None, in_process=True, isolation=isolation))
    try:
        assert candidate.info.isolation == expected
        with candidate.isolated() as child:
            assert child.getrlimit(4) == candidate.call("getrlimit", 4).value
        assert candidate.agent.ok("describe")["isolation"] == expected
    finally:
        candidate.close()
