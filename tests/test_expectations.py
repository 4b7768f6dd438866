"""The known-deviation data is well-formed and names real rules and tests; matching is precise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rckit.conformance.support import expectations
from rckit.conformance.tools.traceability import collect
from rckit.spec import load

from tests.conftest import run_suite


def test_every_deviation_names_a_known_rule_and_test() -> None:
    spec = load()
    tests = {name for names in collect(spec).tests_by_rule.values() for name in names}
    for deviation in expectations.load():
        assert deviation.rule in spec.rules, deviation
        if deviation.test is not None:
            assert deviation.test.split("[")[0] in tests, deviation
        assert deviation.link.startswith("https://"), deviation
        assert len(deviation.reason.split()) >= 8, deviation


class FakeInfo:
    implementation = "pypy"
    version = "3.9.16"
    platform_id = "linux-aarch64-glibc"
    emulated = True
    privileged = False


class FakeCandidate:
    info = FakeInfo()

    class spec:
        module = "resource"


def deviation(**fields: Any) -> expectations.Deviation:
    base: dict[str, Any] = {"rule": "R.X", "reason": "r", "link": "l", "when": {}, "test": None, "source": "t"}
    return expectations.Deviation(**(base | fields))


@pytest.mark.parametrize(
    ("fields", "test", "applies"),
    [
        ({}, "test_a[c]", True),
        ({"rule": "R.Y"}, "test_a[c]", False),
        ({"test": "test_a"}, "test_a[c-general]", True),
        ({"test": "test_b"}, "test_a[c-general]", False),
        ({"test": "test_a[*address-space*]"}, "test_a[c-address-space]", True),
        ({"test": "test_a[*address-space*]"}, "test_a[c-general]", False),
        ({"when": {"python": ">=3.9,<3.10"}}, "test_a", True),
        ({"when": {"python": ">=3.10"}}, "test_a", False),
        ({"when": {"implementation": "cpython"}}, "test_a", False),
        ({"when": {"platform": "linux-*-glibc", "emulated": True}}, "test_a", True),
        ({"when": {"emulated": False}}, "test_a", False),
    ],
)
def test_matching(fields: dict[str, Any], test: str, applies: bool) -> None:
    assert deviation(**fields).applies(FakeCandidate(), ("R.X",), test) is applies  # type: ignore[arg-type]


def write_expectations(tmp_path: Path, entries: Any) -> Path:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"deviations": entries}))
    return path


def test_the_kit_s_own_files_match_the_published_schema() -> None:
    schema = json.loads(expectations.SCHEMA_PATH.read_text())
    for path in sorted(expectations.EXPECTATIONS_DIR.glob("*.json")):
        jsonschema.validate(json.loads(path.read_text()), schema)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"rule": "LIMITS.GET_PAIR", "reason": "a reason long enough"}, r"deviations/0: 'link' is a required property"),
        (
            {"rule": "LIMITS.GET_PAIR", "reason": "a reason long enough", "link": "x://y", "when": {"os": "linux"}},
            r"'os' was unexpected",
        ),
        (
            {"rule": "not-an-id", "reason": "a reason long enough", "link": "x://y"},
            r"deviations/0/rule: 'not-an-id' does not match",
        ),
        (
            {"rule": "LIMITS.GET_PAIR", "reason": "a reason long enough", "link": "x://y", "when": {"python": "3.x"}},
            r"'3.x' is not PEP 440",
        ),
    ],
)
def test_a_malformed_user_entry_is_named_with_its_file_and_place(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    path = write_expectations(tmp_path, [entry])
    with pytest.raises(expectations.ExpectationsError, match=rf"(?s)mine\.json.*{message}"):
        expectations.load(extra=[path])


def test_a_user_file_turns_a_failure_into_a_known_deviation_and_the_report_names_the_file(tmp_path: Path, repo: Path) -> None:
    mine = write_expectations(
        tmp_path,
        [{"rule": "LIMITS.INVALID_RESOURCE", "when": {"module": "returns_errors"}, "reason": "returns, not raises, on purpose",
          "link": "tests/candidates/returns_errors.py"}],
    )  # fmt: skip
    args = ["--impl", "returns_errors", "--path", "tests/candidates", "-n", "0", "-q", "--report", str(tmp_path / "r")]
    run = run_suite(*args, "--expectations", str(mine), "--", "-k", "invalid_resource_get", cwd=repo)
    assert run.returncode == 0, run.stdout + run.stderr
    (known,) = [r for r in json.loads((tmp_path / "r" / "conformance.json").read_text())["results"] if r["status"] == "xfail"]
    assert known["expectation"] == {
        "source": str(mine),
        "reason": "returns, not raises, on purpose",
        "link": "tests/candidates/returns_errors.py",
    }
    assert any(line.startswith("Draw 1 (resource):") for line in known["falsifying"]), known["falsifying"]
    without = run_suite(*args, "--", "-k", "invalid_resource_get", cwd=repo)
    assert without.returncode == 1, "without the file the same failure is unexpected"


def test_a_malformed_user_file_stops_the_run_with_one_clear_line(tmp_path: Path, repo: Path) -> None:
    mine = tmp_path / "mine.json"
    mine.write_text("{not json")
    run = run_suite("--impl", "resource", "-n", "0", "--expectations", str(mine), "--report", str(tmp_path / "r"), cwd=repo)
    assert run.returncode == 4 and f"rckit: {mine}: not JSON" in run.stderr, run.stderr
