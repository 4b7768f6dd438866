"""The atlas: reports from several machines merge into one page that needs no network."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from rckit.conformance.outputs.atlas import AtlasError, load_report, merge, page_data, render
from rckit.conformance.outputs.report import TestResult, build
from rckit.conformance.tools.cli import main as cli_main
from rckit.spec import load

INFO = {"implementation": "cpython", "python": "3.11.7", "platform": "linux-x86_64-glibc", "privileged": False, "emulated": False}
PYPY = INFO | {"implementation": "pypy", "python": "3.9.16"}


def report(machine: str, results: list[TestResult], candidates: dict[str, dict[str, Any]], generated: str) -> dict[str, Any]:
    """A report as a machine named ``machine`` would write it."""
    meta = {"command": "x", "profile": "quick", "runner_limits_unchanged": True}
    data = build(load(), results, candidates, meta).to_json()
    data["meta"] |= {"machine": machine, "generated": generated, "os": "Linux 6.1", "arch": "x86_64"}
    return data


def result(candidate: str, status: str, rule: str = "LIMITS.GET_PAIR", **extra: Any) -> TestResult:
    fields: dict[str, Any] = {"reason": f"why {status}"} | extra
    return TestResult(nodeid=f"s::t[{candidate}]", test="t", candidate=candidate, rules=[rule], status=status, **fields)


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_the_same_candidate_on_two_machines_is_two_columns_each_naming_its_machine() -> None:
    a = report("box-a", [result("host:resource", "pass")], {"host:resource": INFO}, "2026-11-30T10:00:00+00:00")
    b = report("box-b", [result("host:resource", "fail")], {"host:resource": INFO}, "2026-11-30T11:00:00+00:00")
    atlas = merge([("a.json", a), ("b.json", b)])
    assert [(c.machine, c.candidate) for c in atlas.columns] == [("box-a", "host:resource"), ("box-b", "host:resource")]
    assert [atlas.status("LIMITS.GET_PAIR", c) for c in atlas.columns] == ["pass", "fail"]
    assert atlas.machines == ["box-a", "box-b"]


def test_a_candidate_judged_twice_on_one_machine_keeps_the_newer_report_and_says_so() -> None:
    old = report("box", [result("host:resource", "fail")], {"host:resource": INFO}, "2026-11-30T10:00:00+00:00")
    new = report("box", [result("host:resource", "pass")], {"host:resource": INFO}, "2026-11-30T12:00:00+00:00")
    atlas = merge([("new.json", new), ("old.json", old)])
    assert len(atlas.columns) == 1 and atlas.columns[0].report == "new.json"
    assert atlas.status("LIMITS.GET_PAIR", atlas.columns[0]) == "pass"
    assert atlas.notes == ["host:resource on box: new.json replaces old.json (newer)"]


def test_columns_are_grouped_by_implementation_then_version() -> None:
    candidates = {"pypy3:resource": PYPY, "py312:resource": INFO | {"python": "3.12.1"}, "py311:resource": INFO}
    atlas = merge([("r.json", report("box", [], candidates, "2026-11-30T10:00:00+00:00"))])
    assert [c.candidate for c in atlas.columns] == ["py311:resource", "py312:resource", "pypy3:resource"]


def test_a_deviation_carries_its_evidence_into_the_page() -> None:
    known = result(
        "pypy3:resource",
        "xfail",
        "LIMITS.INVALID_RESOURCE",
        expectation={"source": "mine.json", "reason": "returns the error", "link": "https://example.invalid/1"},
        falsifying=["Failing test case: t(", "Draw 1 (resource): -1"],
    )
    data = page_data(merge([("r.json", report("box", [known], {"pypy3:resource": PYPY}, "2026-11-30T10:00:00+00:00"))]))
    (evidence,) = data["evidence"]["LIMITS.INVALID_RESOURCE"]["box pypy3:resource"]
    assert evidence["expectation"]["source"] == "mine.json"
    assert evidence["falsifying"] == ["Failing test case: t(", "Draw 1 (resource): -1"]
    assert data["cells"]["LIMITS.INVALID_RESOURCE"]["box pypy3:resource"]["status"] == "xfail"
    assert "t" in data["rules"]["LIMITS.INVALID_RESOURCE"]["tests"]
    assert data["rules"]["LIMITS.INVALID_RESOURCE"]["sources"], "a rule opens its sources"


def test_the_page_needs_no_network_and_escapes_what_candidates_say() -> None:
    hostile = result("host:resource", "fail", reason="</script><script>alert(1)</script>")
    page = render(merge([("r.json", report("box", [hostile], {"host:resource": INFO}, "2026-11-30T10:00:00+00:00"))]))
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", page), "nothing is loaded from elsewhere"
    assert "<script>alert(1)" not in page
    embedded = re.search(r'<script type="application/json" id="atlas-data">(.*?)</script>', page, re.S)
    assert embedded and json.loads(embedded.group(1))["columns"][0]["candidate"] == "host:resource"


def test_a_report_outside_the_schema_is_refused_with_its_path(tmp_path: Path) -> None:
    data = report("box", [], {"host:resource": INFO}, "2026-11-30T10:00:00+00:00")
    del data["meta"]["machine"]
    path = write(tmp_path, "old.json", data)
    with pytest.raises(AtlasError, match=r"(?s)old\.json: not a conformance report.*meta: 'machine' is a required property"):
        load_report(path)


def test_the_cli_writes_one_page_from_several_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(
        tmp_path,
        "a.json",
        report("box-a", [result("host:resource", "pass")], {"host:resource": INFO}, "2026-11-30T10:00:00+00:00"),
    )
    b = write(
        tmp_path,
        "b.json",
        report("box-b", [result("pypy3:resource", "xfail")], {"pypy3:resource": PYPY}, "2026-11-30T11:00:00+00:00"),
    )
    assert cli_main(["atlas", str(a), str(b), "-o", str(tmp_path / "out" / "atlas.html")]) == 0
    assert f"{len(load().rules)} rules x 2 columns from 2 report(s) (box-a, box-b)" in capsys.readouterr().out
    page = (tmp_path / "out" / "atlas.html").read_text()
    assert page.count('class="cell c1 ') == len(load().rules)
    broken = write(tmp_path, "broken.json", {"meta": {}})
    assert cli_main(["atlas", str(broken)]) == 2
    assert "broken.json: not a conformance report" in capsys.readouterr().err
