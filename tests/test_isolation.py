"""Nothing a run does can change the harness's limits: the guard refuses, the snapshot notices."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rckit.conformance.harness.candidates import IsolationError, make_candidate
from rckit.conformance.harness.specs import CandidateSpec


@pytest.mark.parametrize(("fn", "args"), [("setrlimit", (4, (0, 0))), ("prlimit", (0, 4, (0, 0))), ("setrlimit", ())])
def test_limit_changing_calls_are_refused_outside_a_child(fn: str, args: tuple[object, ...]) -> None:
    candidate = make_candidate(CandidateSpec("resource"))
    with pytest.raises(IsolationError, match="isolated"):
        candidate.call(fn, *args)


def test_reading_calls_run_in_process_when_asked() -> None:
    candidate = make_candidate(CandidateSpec("resource", in_process=True))
    assert candidate.call("prlimit", 0, 4, None).returned or candidate.call("prlimit", 0, 4, None).raised("TypeError")
    assert candidate.call("getrlimit", 4).returned


def test_the_snapshot_notices_a_change() -> None:
    code = (
        "import resource\n"
        "from rckit.conformance.harness.own_limits import LimitsSnapshot\n"
        "snap = LimitsSnapshot.take()\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (soft - 1, hard))\n"
        "print(snap.changes())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "resource 7:" in done.stdout


def test_a_child_session_changes_only_itself() -> None:
    candidate = make_candidate(CandidateSpec("resource"))
    before = candidate.call("getrlimit", 4).value
    with candidate.isolated() as child:
        assert child.call("setrlimit", 4, (0, 0)).returned
        assert child.getrlimit(4) == (0, 0)
    assert candidate.call("getrlimit", 4).value == before
    candidate.close()


@pytest.mark.parametrize("as_object", [False, True])
def test_prlimit_on_a_foreign_process_is_refused(as_object: bool) -> None:
    """However the pid is spelled, a child session may not set another process's limits: in a
    PID namespace of its own the process does not exist for the candidate; without one the agent
    refuses the call."""
    from rckit.conformance.environments.containment import PID_NAMESPACES
    from rckit.conformance.harness.errors import AgentError
    from rckit.conformance.harness.values import IndexOnly

    bystander = subprocess.Popen(["sleep", "30"])
    try:
        before = Path(f"/proc/{bystander.pid}/limits").read_text()
        candidate = make_candidate(CandidateSpec("resource"))
        with candidate.isolated() as child:
            pid: object = IndexOnly(bystander.pid) if as_object else bystander.pid
            if PID_NAMESPACES:
                outcome = child.call("prlimit", pid, 4, (0, 0))
                assert outcome.raised("ProcessLookupError"), f"prlimit(bystander, CORE, (0, 0)) {outcome}"
            else:
                with pytest.raises(AgentError, match="refused: prlimit would set the limits of process"):
                    child.call("prlimit", pid, 4, (0, 0))
                assert child.call("prlimit", bystander.pid, 4).returned, "reading another process stays allowed"
        candidate.close()
        assert Path(f"/proc/{bystander.pid}/limits").read_text() == before
    finally:
        bystander.kill()
        bystander.wait()
