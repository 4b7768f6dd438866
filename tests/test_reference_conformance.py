"""The main job passes here: this machine's resource and the reference, quick profile, no
unexpected result (known deviations are allowed; they come from platforms/expectations)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.conftest import run_suite

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "conformance" / "schemas" / "report.schema.json").read_text())


def test_host_and_reference_conform(tmp_path: Path) -> None:
    done = run_suite("--profile", "quick", "--report", str(tmp_path), "-n", "2", cwd=tmp_path)
    report = json.loads((tmp_path / "conformance.json").read_text())
    jsonschema.validate(report, SCHEMA)
    unexpected = [
        (r["candidate"], r["test"], r["reason"][:200]) for r in report["results"] if r["status"] in ("fail", "error", "xpass")
    ]
    assert not unexpected, unexpected
    assert done.returncode == 0, done.stdout[-3000:]
    assert report["meta"]["runner_limits_unchanged"] is True
    assert set(report["candidates"]) == {"host:resource", "host:rckit.reference.resource"}
    assert (tmp_path / "conformance.md").read_text().startswith("# resource conformance report")
