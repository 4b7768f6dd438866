"""The report: aggregation per rule and candidate, the three renderings, the JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from rckit.conformance.outputs.report import TestResult, build, terminal_lines, write
from rckit.conformance.plugin import classify
from rckit.spec import load

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "conformance" / "schemas" / "report.schema.json").read_text())
INFO = {"implementation": "cpython", "python": "3.11.7", "platform": "linux-x86_64-glibc", "privileged": False, "emulated": False}


def result(test: str, status: str, rule: str = "LIMITS.GET_PAIR", candidate: str = "host:resource") -> TestResult:
    return TestResult(
        nodeid=f"suite::{test}", test=test, candidate=candidate, rules=[rule], status=status, reason=f"why {test}", duration=0.1
    )


@pytest.mark.parametrize(
    ("statuses", "cell"),
    [
        (["pass", "pass"], "pass"),
        (["pass", "fail"], "fail"),
        (["xfail", "pass"], "xfail"),
        (["xfail", "xpass"], "xpass"),
        (["n/a"], "n/a"),
        (["error", "xfail"], "error"),
    ],
)
def test_a_rule_takes_the_worst_status_of_its_tests(statuses: list[str], cell: str) -> None:
    report = build(
        load(),
        [result(f"t{n}", s) for n, s in enumerate(statuses)],
        {"host:resource": INFO},
        {"command": "x", "profile": "quick", "runner_limits_unchanged": True},
    )
    assert report.matrix["LIMITS.GET_PAIR"]["host:resource"]["status"] == cell


def test_untested_rules_show_as_waived_or_not_run() -> None:
    report = build(load(), [], {"host:resource": INFO}, {"command": "x", "profile": "quick", "runner_limits_unchanged": True})
    assert report.matrix["EFFECTS.RSS"]["host:resource"]["status"] == "waived"
    assert report.matrix["LIMITS.GET_PAIR"]["host:resource"]["status"] == "not run"


def test_json_validates_and_markdown_has_the_matrix(tmp_path: Path) -> None:
    results = [
        result("a", "pass"),
        result("b", "fail", "USAGE.FIELD_TYPES"),
        result("c", "xfail", "LIMITS.SOFT_LE_HARD", "pypy3:resource"),
    ]
    report = build(
        load(),
        results,
        {"host:resource": INFO, "pypy3:resource": INFO | {"implementation": "pypy"}},
        {"command": "x", "profile": "default", "runner_limits_unchanged": True},
    )
    json_path, md_path = write(report, tmp_path)
    jsonschema.validate(json.loads(json_path.read_text()), SCHEMA)
    markdown = md_path.read_text()
    assert "| LIMITS.GET_PAIR | must | ✅ pass | · not run |" in markdown
    assert "❌ FAIL" in markdown and "⚠️ known" in markdown
    assert any("USAGE.FIELD_TYPES on host:resource" in line for line in terminal_lines(report))
    assert [r.status for r in report.unexpected()] == ["fail"]


class Report:
    """Just enough of pytest.TestReport for classify()."""

    def __init__(self, when: str, outcome: str, longrepr: object = None, wasxfail: str | None = None) -> None:
        self.when, self.outcome, self.longrepr = when, outcome, longrepr
        self.passed, self.failed, self.skipped = outcome == "passed", outcome == "failed", outcome == "skipped"
        if wasxfail is not None:
            self.wasxfail = wasxfail


@pytest.mark.parametrize(
    ("report", "status"),
    [
        (Report("call", "passed"), "pass"),
        (Report("call", "failed", "boom"), "fail"),
        (Report("call", "skipped", ("f.py", 1, "Skipped: n/a: not here")), "n/a"),
        (Report("setup", "skipped", ["f.py", 1, "Skipped: n/a: not here"]), "n/a"),
        (Report("call", "skipped", ("f.py", 1, "Skipped: something else")), "error"),
        (Report("call", "skipped", None, wasxfail="known"), "xfail"),
        (Report("call", "passed", None, wasxfail="known"), "xpass"),
        (Report("setup", "failed", "broken fixture"), "error"),
        (Report("teardown", "passed"), None),
    ],
)
def test_classify(report: Report, status: str | None) -> None:
    assert classify(report)[0] == status  # type: ignore[arg-type]


def test_a_debug_build_is_a_column_of_its_own_and_says_so(tmp_path: Path) -> None:
    """Two builds of one version (release, debug) are two candidates the report tells apart."""
    debug = INFO | {"python": "3.15.2", "build": "debug"}
    candidates = {"chroot-sid/python3.15:resource": INFO | {"python": "3.15.2", "build": "release"},
                  "chroot-sid/python3.15d:resource": debug}  # fmt: skip
    meta = {"command": "x", "profile": "quick", "runner_limits_unchanged": True}
    report = build(load(), [result("a", "pass", candidate=c) for c in candidates], candidates, meta)
    json_path, md_path = write(report, tmp_path)
    jsonschema.validate(json.loads(json_path.read_text()), SCHEMA)
    markdown = md_path.read_text()
    assert "| C2 | chroot-sid/python3.15d | cpython | 3.15.2 (debug) | `resource` |" in markdown
    assert "| C1 | chroot-sid/python3.15 | cpython | 3.15.2 | `resource` |" in markdown
    assert any("cpython 3.15.2 (debug)" in line for line in terminal_lines(report))


def test_a_deviation_shared_by_several_columns_is_one_markdown_row_naming_them(tmp_path: Path) -> None:
    candidates = {f"c{n}:resource": INFO for n in range(1, 6)}
    results = [result("a", "xfail", candidate=c) for c in ("c1:resource", "c2:resource", "c3:resource", "c5:resource")]
    results.append(result("a", "pass", candidate="c4:resource"))
    report = build(load(), results, candidates, {"command": "x", "profile": "quick", "runner_limits_unchanged": True})
    _, md_path = write(report, tmp_path)
    rows = [line for line in md_path.read_text().splitlines() if line.startswith("| LIMITS.GET_PAIR | C")]
    assert rows == ["| LIMITS.GET_PAIR | C1\u2013C3, C5 | ⚠️ known | a | why a |"]


def test_a_report_names_the_machine_and_kit_that_made_it() -> None:
    report = build(load(), [], {"host:resource": INFO}, {"command": "x", "profile": "quick", "runner_limits_unchanged": True})
    meta = report.to_json()["meta"]
    assert meta["machine"] and meta["os"] and meta["arch"] and meta["kit_version"]
    assert report.to_json()["rules"]["LIMITS.GET_PAIR"]["sources"][0]["edition"]


def test_a_spawned_candidate_names_its_isolation_and_what_it_lacks_everywhere(tmp_path: Path) -> None:
    """The JSON (valid), the Markdown and the terminal say how the candidate was isolated and
    what its interpreter lacks; the terminal lists the rules n/a for want of something here,
    not those outside their version range."""
    info = INFO | {"isolation": "spawn", "capabilities": {"fork": False, "threads": True}, "missing": {"fork": "os has no fork"}}
    fork_rule = TestResult("suite::f", "f", "graalpy:resource", ["EFFECTS.INHERITED_BY_FORK"], "n/a",
                           "n/a: the interpreter cannot fork (os has no fork)")  # fmt: skip
    old_rule = TestResult("suite::o", "o", "graalpy:resource", ["USAGE.PLAIN_TUPLE"], "n/a",
                          "n/a: USAGE.PLAIN_TUPLE holds for Python <2.3; the candidate is 3.11.7")  # fmt: skip
    report = build(
        load(),
        [fork_rule, old_rule],
        {"graalpy:resource": info},
        {"command": "x", "profile": "quick", "runner_limits_unchanged": True},
    )
    json_path, md_path = write(report, tmp_path)
    jsonschema.validate(json.loads(json_path.read_text()), SCHEMA)
    assert "| spawn | fork (os has no fork) |" in md_path.read_text()
    lines = terminal_lines(report)
    assert "isolation: spawn; lacks fork (os has no fork)" in "\n".join(lines)
    assert "  EFFECTS.INHERITED_BY_FORK on 1 candidate(s): the interpreter cannot fork (os has no fork)" in lines
    assert not any("PLAIN_TUPLE" in line for line in lines)
