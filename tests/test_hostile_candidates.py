"""Candidates that misbehave (tests/candidates/) never break the run, never escape it, and are
judged for what they do: for each kind, the exit status, the time bound, the report, the message,
and that no process of theirs is left.

Time limits are shortened for these tests through the environment (RCKIT_CALL_TIMEOUT,
RCKIT_IMPORT_TIMEOUT, RCKIT_HANG_BUDGET); the bounds asserted are stated in terms of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rckit.conformance.environments.containment import PID_NAMESPACES

from tests.conftest import run_suite

CANDIDATES = Path(__file__).resolve().parent / "candidates"
SHORT = {"RCKIT_CALL_TIMEOUT": "2", "RCKIT_IMPORT_TIMEOUT": "5", "RCKIT_HANG_BUDGET": "6"}
#: What a quick run of the selected tests costs a well-behaved candidate here, at most.
NORMAL = 40.0


def processes(*needles: str) -> list[str]:
    """Command lines of running processes that contain any of ``needles``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if any(needle in cmdline for needle in needles):
                found.append(f"{entry}: {cmdline[:200]}")
    return found


def leftovers(run_dir: Path) -> list[str]:
    """Processes of one run, after a settling moment: its agents (staged under the run's TMPDIR)
    and anything they started (the escapee names the run's directory, its working directory)."""
    for _ in range(20):
        found = processes(str(run_dir))
        if not found:
            return []
        time.sleep(0.25)
    return found


def judge(
    tmp_path: Path, *modules: str, tests: str, extra_env: dict[str, str] | None = None, workers: str = "0", python: str = ""
) -> Any:
    """Run the CLI on ``modules`` (quick profile, the selected tests; in ``python`` if given) in
    ``tmp_path``, with its TMPDIR there too; returns (exit status, seconds, report or None, output)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    impls = [arg for module in modules for arg in ("--impl", module)] + (["--python", python] if python else [])
    env = dict(os.environ, TMPDIR=str(tmp_path), **SHORT, **(extra_env or {}))
    started = time.monotonic()
    done = run_suite(*impls, "--path", str(CANDIDATES), "--profile", "quick", "--report", str(tmp_path), "-n", workers,
                     "--", "-k", tests, cwd=tmp_path, env=env)  # fmt: skip
    seconds = time.monotonic() - started
    path = tmp_path / "conformance.json"
    report = json.loads(path.read_text()) if path.exists() else None
    return done.returncode, seconds, report, done.stdout + done.stderr


def cells(report: dict[str, Any], module: str) -> dict[str, str]:
    column = f"host:{module}"
    return {rule: by[column]["status"] for rule, by in report["matrix"].items() if column in by}


def reasons(report: dict[str, Any], module: str) -> str:
    return "\n".join(r["reason"] for r in report["results"] if r["candidate"] == f"host:{module}")


@pytest.mark.parametrize("module", ["chatty", "flood", "closes_stdio", "hangs_at_exit"])
def test_a_conforming_candidate_that_prints_floods_closes_stdio_or_leaves_a_thread_passes(tmp_path: Path, module: str) -> None:
    """Output at any volume, closed standard streams and a thread that never ends are not
    conformance failures: every selected rule passes, in normal time, and nothing is left."""
    code, seconds, report, output = judge(tmp_path, module, tests="get_pair or usage_field_types or pagesize")
    assert code == 0, output[-3000:]
    assert report is not None and set(cells(report, module).values()) <= {"pass", "n/a", "not run", "waived"}, output[-3000:]
    assert "pass" in cells(report, module).values()
    assert seconds < NORMAL, f"{module} took {seconds:.1f} s"
    assert not leftovers(tmp_path)


def test_a_module_whose_import_never_ends_stops_the_run_with_one_line(tmp_path: Path) -> None:
    code, seconds, _, output = judge(tmp_path, "hangs_at_import", tests="get_pair")
    assert code == 4, output[-3000:]
    assert "host:hangs_at_import: the module did not finish importing within 5 s" in output
    assert "Traceback" not in output and "INTERNALERROR" not in output
    assert seconds < 5 + 20, f"{seconds:.1f} s"
    assert not leftovers(tmp_path)


def test_a_call_that_never_returns_costs_the_hang_budget_in_all_not_per_test(tmp_path: Path) -> None:
    """getrusage never returns: the first usage tests fail at the call's time limit, the rest are
    not judged (errors, at once); the rules judged before stay judged; the run ends within the
    budget plus normal time."""
    tests = "pagesize or usage_field_types or usage_sixteen_items or usage_invalid_who or usage_immutable"
    code, seconds, report, output = judge(tmp_path, "hangs_in_getrusage", tests=tests)
    assert code == 1, output[-3000:]
    assert report is not None
    by_rule = cells(report, "hangs_in_getrusage")
    assert by_rule["PAGESIZE.SYSTEM_PAGE"] == "pass"
    assert by_rule["USAGE.FIELD_TYPES"] in ("fail", "error")
    assert "no reply within 2 s to call; agent killed" in reasons(report, "hangs_in_getrusage")
    assert "not judged: the candidate hung" in reasons(report, "hangs_in_getrusage")
    assert seconds < 6 + NORMAL, f"{seconds:.1f} s"
    assert not leftovers(tmp_path)


@pytest.mark.skipif(os.uname().machine != "x86_64" or not shutil.which("linux32"), reason="needs linux32 on x86_64")
@pytest.mark.parametrize("emulated", [True, False], ids=["another machine", "this machine"])
def test_another_machines_candidate_gets_stretched_time_limits(tmp_path: Path, emulated: bool) -> None:
    """A candidate whose interpreter reports another machine (as under qemu-user; here linux32
    makes it say i686) gets RCKIT_EMULATION_SLOWDOWN times the time limits: a 3-second call passes
    under a 2-second limit stretched 3 times, and hangs without the stretch."""
    python = f"linux32 {sys.executable}" if emulated else sys.executable
    tests = "usage_sixteen_items or usage_field_types"
    code, _, report, output = judge(tmp_path, "slow_getrusage", tests=tests, extra_env={"RCKIT_EMULATION_SLOWDOWN": "3"},
                                    python=python)  # fmt: skip
    assert report is not None, output[-3000:]
    statuses = {by[c]["status"] for by in report["matrix"].values() for c in by if c.endswith(":slow_getrusage")}
    if emulated:
        assert code == 0 and statuses - {"not run", "waived"} == {"pass"}, output[-3000:]
    else:
        assert code == 1 and "no reply within 2 s to call" in output, output[-3000:]


@pytest.mark.parametrize(
    ("module", "how"),
    [
        ("killed_in_call", "killed by SIGKILL"),
        ("segfaults_in_call", "killed by SIGSEGV"),
        ("exits_in_call", "exited (status 3)"),
        ("raises_base_exceptions", "raised KeyboardInterrupt: from getrlimit"),
    ],
)
def test_death_or_a_base_exception_in_a_call_fails_the_rule_not_the_run(tmp_path: Path, module: str, how: str) -> None:
    tests = "usage_field_types or limits_get_pair or set_returns_none"
    code, seconds, report, output = judge(tmp_path, module, tests=tests)
    assert code == 1, output[-3000:]
    assert report is not None and "fail" in cells(report, module).values(), output[-3000:]
    assert how in reasons(report, module) or how in output, reasons(report, module)[:3000]
    assert "INTERNALERROR" not in output
    assert seconds < NORMAL, f"{seconds:.1f} s"
    assert not leftovers(tmp_path)


def test_pathological_results_are_described_within_bounds(tmp_path: Path) -> None:
    """64 MiB of data, nesting 100000 deep, an int of a million bits, an object whose every
    dunder raises: failed rules, a small report, and the harness's memory stays small."""
    code, seconds, report, output = judge(tmp_path, "huge_results", tests="limits_get_pair or usage_field_types or pagesize")
    assert code == 1, output[-3000:]
    assert report is not None and "fail" in cells(report, "huge_results").values()
    assert (tmp_path / "conformance.json").stat().st_size < 4 << 20
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest process waited for
    assert peak_kib < 512 << 10, f"a process of the run peaked at {peak_kib} KiB"
    assert seconds < NORMAL + 20, f"{seconds:.1f} s"
    assert not leftovers(tmp_path)


@pytest.mark.skipif(not PID_NAMESPACES, reason="containing this candidate safely needs PID namespaces (root, unshare)")
def test_a_candidate_cannot_lower_the_limits_of_the_harness_or_its_ancestors(tmp_path: Path) -> None:
    """In a PID namespace of its own the candidate can name no process outside it: this test's
    own process (an ancestor of the harness) keeps its limits, and so does the harness."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    code, _, report, output = judge(tmp_path, "lowers_harness_limits", tests="get_pair or soft_le_hard")
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == before
    assert code == 0, output[-3000:]
    assert report is not None and report["meta"]["runner_limits_unchanged"] is True
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("namespace", [True, False], ids=["pid-namespace", "warden-only"])
def test_a_process_that_leaves_its_session_does_not_outlive_the_run(tmp_path: Path, namespace: bool) -> None:
    if namespace and not PID_NAMESPACES:
        pytest.skip("PID namespaces need root and unshare here")
    env = {} if namespace else {"RCKIT_NO_PID_NAMESPACE": "1"}
    code, _, _, output = judge(tmp_path, "escapes", tests="get_pair", extra_env=env)
    assert code == 0, output[-3000:]
    assert not leftovers(tmp_path), "the escapee survived"


def test_a_hostile_candidate_in_a_matrix_leaves_the_others_verdicts_alone(tmp_path: Path) -> None:
    tests = "get_pair or soft_le_hard or usage_field_types or pagesize or round_trip"
    _, _, alone, _ = judge(tmp_path / "alone", "resource", tests=tests, workers="2")
    modules = ["resource", "hangs_in_getrusage", "escapes", "flood"]
    if PID_NAMESPACES:
        modules.append("lowers_harness_limits")
    code, _, together, output = judge(tmp_path / "together", *modules, tests=tests, workers="2")
    assert code == 1, output[-3000:]
    assert alone is not None and together is not None
    assert cells(together, "resource") == cells(alone, "resource")
    assert not leftovers(tmp_path)


#: Starts the command line with Ctrl-C's default action, as a terminal's foreground job has it. A
#: background job of a script inherits SIGINT ignored, and an ignored signal stays ignored across
#: exec, so a kit test suite started with `&` would otherwise send a Ctrl-C nobody receives.
AS_IN_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('rckit.conformance', run_name='__main__', alter_sys=True)"
)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_run_leaves_no_agent_and_no_escapee(tmp_path: Path, how: signal.Signals) -> None:
    """A CI time limit (SIGTERM) or Ctrl-C (SIGINT) in the middle of a run: within seconds no
    agent, session or escaped process of the run is left."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS"))}
    env["TMPDIR"] = str(tmp_path)
    run = subprocess.Popen(
        [sys.executable, "-c", AS_IN_A_TERMINAL, "--impl", "escapes", "--impl", "hangs_in_getrusage",
         "--path", str(CANDIDATES), "--profile", "quick", "--report", str(tmp_path), "-n", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not processes(f"rckit-escapee-of-escapes:{tmp_path}") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes(str(tmp_path)), "the run never started its agents"
        time.sleep(1)
        run.send_signal(how)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert not leftovers(tmp_path)


def test_path_says_where_the_module_lives_in_process_and_in_an_agent(tmp_path: Path) -> None:
    """--path DIR finds a module that is on no import path, for an agent and in-process alike."""
    for extra in ([], ["--in-process"]):
        done = run_suite("--impl", "chatty", "--path", str(CANDIDATES), "--profile", "quick", "--report", str(tmp_path),
                         "-n", "0", *extra, "--", "-k", "get_pair", cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, (extra, (done.stdout + done.stderr)[-2000:])


def test_path_is_staged_into_a_chroot(tmp_path: Path) -> None:
    """For a chroot candidate the --path folder is copied inside, where its interpreter finds it."""
    from rckit.conformance.environments.chroots import chroot_dir, is_built

    if os.geteuid() != 0 or not is_built("sid"):
        pytest.skip("the sid chroot is not built here (as root: python -m rckit.conformance chroots build sid)")
    python = f"chroot {chroot_dir('sid')} /usr/bin/python3.15"
    done = run_suite("--python", python, "--impl", "chatty", "--path", str(CANDIDATES), "--profile", "quick",
                     "--report", str(tmp_path), "-n", "0", "--", "-k", "get_pair", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["matrix"]["LIMITS.GET_PAIR"]["chroot-sid/python3.15:chatty"]["status"] == "pass"


def test_a_chrooted_warden_ends_what_its_agent_left_when_the_agent_ends() -> None:
    """In a PID namespace whose /proc is mounted inside a chroot, the warden cannot list its
    children; when its command ends it still kills what the command left (here a child that
    sleeps 60 s) and exits, instead of waiting for it."""
    from rckit.conformance.environments import chroots
    from rckit.conformance.environments.containment import contained_argv

    if not PID_NAMESPACES:
        pytest.skip("PID namespaces need root and unshare here")
    if not chroots.is_built("sid"):
        pytest.skip("the sid chroot is not built (python -m nox -s build_chroots)")
    leaves_a_sleeper = "import os, time\nif os.fork() == 0:\n    time.sleep(60)\n"
    argv = contained_argv(["/usr/bin/python3", "-c", leaves_a_sleeper], str(chroots.chroot_dir("sid")))
    warden = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        assert warden.wait(timeout=20) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(warden.pid, signal.SIGKILL)
        warden.wait()
