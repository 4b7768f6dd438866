"""The suite fails deliberately broken candidates (tests/candidates/), for the right rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_suite

CANDIDATES = Path(__file__).resolve().parent / "candidates"


def judge(tmp_path: Path, module: str, tests: str, *extra: str) -> tuple[int, dict[str, str], str]:
    """Run the suite on ``module`` from tests/candidates (selected tests, quick profile); exit
    code, rule -> status."""
    done = run_suite(
        "--impl", module, "--path", str(CANDIDATES), "--profile", "quick", "--report", str(tmp_path), "-n", "0", *extra,
        "--", "-k", tests, cwd=tmp_path,
    )  # fmt: skip
    report = (
        json.loads((tmp_path / "conformance.json").read_text()) if (tmp_path / "conformance.json").exists() else {"matrix": {}}
    )
    column = f"{'in-process' if '--in-process' in extra else 'host'}:{module}"
    cells = {rule: cells[column]["status"] for rule, cells in report["matrix"].items() if column in cells}
    return done.returncode, cells, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "tests", "broken_rule"),
    [
        ("returns_errors", "invalid_resource_get or get_pair", "LIMITS.INVALID_RESOURCE"),
        ("shared_buffer", "thread_safe_getrlimit or get_pair", "MODULE.THREAD_SAFE"),
        ("wrong_constants", "constants", "CONSTANTS.RLIMIT_C_VALUES"),
        ("wrong_constants", "constants", "CONSTANTS.ONLY_DEFINED"),
        ("pages_maxrss", "maxrss or field_types", "USAGE.MAXRSS_UNIT"),
    ],
)
def test_broken_candidate_fails_its_rule(tmp_path: Path, module: str, tests: str, broken_rule: str) -> None:
    code, cells, output = judge(tmp_path, module, tests)
    assert code == 1, output[-3000:]
    assert cells.get(broken_rule) == "fail", f"{broken_rule}: {cells.get(broken_rule)}\n{output[-3000:]}"
    assert "pass" in cells.values(), "the other selected rules should still pass"


def test_a_candidate_that_changes_the_harness_limits_in_process_is_named(tmp_path: Path) -> None:
    """Imported into the harness (only on request), the meddler lowers the harness's own limits:
    the test it did it in fails naming it, and the run fails."""
    code, _, output = judge(tmp_path, "meddler", "get_pair or soft_le_hard", "--in-process")
    assert code == 1, output[-3000:]
    assert "in-process:meddler changed the limits of the harness or its parent" in output, output[-3000:]
