"""Progress of a run: which candidate, how many tests done, time elapsed and left."""

from __future__ import annotations

import io
from pathlib import Path

from rckit.conformance.outputs.progress import HEARTBEAT, Progress, candidate_of, duration_text

from tests.conftest import run_suite


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_test_belongs_to_the_longest_candidate_id_in_its_parameters() -> None:
    ids = ["host:resource", "host:resource_x"]
    assert candidate_of("s.py::t[host:resource_x-general]", ids) == "host:resource_x"
    assert candidate_of("s.py::t[host:resource]", ids) == "host:resource"
    assert candidate_of("s.py::t", ids) is None
    assert duration_text(75) == "1m15s" and duration_text(3.25) == "3.2s"


def test_plain_lines_say_when_each_candidate_is_done_and_a_heartbeat_in_between() -> None:
    clock, out = Clock(), io.StringIO()
    progress = Progress("auto", ["a:resource", "b:resource"], stream=out, clock=clock)
    assert progress.mode == "lines", "not a terminal: plain lines"
    progress.expect([f"s::t{n}[a:resource]" for n in range(2)] + [f"s::t{n}[b:resource]" for n in range(4)])
    progress.result("a:resource", failed=False)
    clock.now += 2
    progress.result("a:resource", failed=True)
    assert out.getvalue() == "rckit: judged a:resource: 2 tests in 2.0s, 1 unexpected\n"
    clock.now += HEARTBEAT
    progress.result("b:resource", failed=False)
    last = out.getvalue().splitlines()[-1]
    elapsed = 2 + HEARTBEAT  # 3 of 6 tests done: as long again is left
    shown = duration_text(elapsed)
    assert last == f"rckit: [1/2 done] judging b:resource: 1/4 tests · {shown} elapsed · ~{shown} left"


def test_on_a_terminal_one_line_is_redrawn_and_cleared_at_the_end() -> None:
    clock, out = Clock(), Terminal()
    progress = Progress("auto", ["a:resource"], stream=out, clock=clock)
    progress.expect(["s::t1[a:resource]", "s::t2[a:resource]"])
    clock.now += 1
    progress.result("a:resource", failed=False)
    assert out.getvalue().startswith("\r\x1b[Krckit: [0/1 done] judging a:resource: 1/2 tests")
    progress.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_a_run_shows_its_progress_unless_quiet(tmp_path: Path, repo: Path) -> None:
    args = ["--impl", "resource", "-n", "2", "--report", str(tmp_path / "r"), "--", "-k", "constants"]
    shown = run_suite(*args, cwd=repo)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "rckit: judged host:resource: " in shown.stderr
    quiet = run_suite("-q", *args, cwd=repo)
    assert quiet.returncode == 0 and "rckit: judged" not in quiet.stderr + quiet.stdout
