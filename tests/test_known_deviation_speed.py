"""A known deviation is confirmed, not shrunk: hypothesis stops at the first failing example of a
test that an expectation covers (the verdict is the same; shrinking was about half the time of
the matrix's known deviations). A failure nobody expected is still shrunk."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import run_suite

CANDIDATES = Path(__file__).resolve().parent / "candidates"
TEST = "test_limits_set_round_trip and general"


def _sessions(tmp_path: Path, *extra: str) -> tuple[str, int]:
    """Judge hard_follows_soft on LIMITS.SET_ROUND_TRIP: its status and how many child sessions
    (one per example run) the run forked."""
    log = tmp_path / "traffic.jsonl"
    done = run_suite(
        "--impl", "hard_follows_soft", "--path", str(CANDIDATES), "--report", str(tmp_path), "-n", "0", *extra,
        "--", "-k", TEST, cwd=tmp_path, env={**os.environ, "RCKIT_PROTOCOL_LOG": str(log)},
    )  # fmt: skip
    report = json.loads((tmp_path / "conformance.json").read_text())
    statuses = {r["status"] for r in report["results"] if r["test"] == "test_limits_set_round_trip"}
    assert len(statuses) == 1, (statuses, done.stdout[-2000:])
    messages = [json.loads(line) for line in log.read_text().splitlines()]
    forks = sum(1 for m in messages if m["direction"] == "request" and m["message"].get("op") == "fork")
    return statuses.pop(), forks


def test_a_known_deviation_stops_at_its_first_failing_example(tmp_path: Path) -> None:
    (tmp_path / "unexpected").mkdir()
    status, shrunk = _sessions(tmp_path / "unexpected")
    assert status == "fail" and shrunk > 4, f"{status}: a failure nobody expected ran {shrunk} examples"
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"deviations": [{
        "rule": "LIMITS.SET_ROUND_TRIP", "test": "test_limits_set_round_trip[*]", "when": {"module": "hard_follows_soft"},
        "reason": "the hard limit follows the soft one", "link": "https://example.org/hard-follows-soft",
    }]}))  # fmt: skip
    (tmp_path / "known").mkdir()
    status, confirmed = _sessions(tmp_path / "known", "--expectations", str(mine))
    # The examples that passed, the first failure, and hypothesis's final replay of it.
    assert status == "xfail" and confirmed < shrunk, f"{status}: the known deviation ran {confirmed} examples, against {shrunk}"
