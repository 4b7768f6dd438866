"""The committed mutation results and their triage agree (issue 10): every surviving mutant of
mutation/results.json has a verdict in mutation/survivors.toml with a reason, each verdict fits
what the runs recorded, and docs/testing.md states the score those runs give."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the harness runs on 3.10 too
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "mutation" / "results.json"
TRIAGE = REPO / "mutation" / "survivors.toml"
#: What a verdict may say, and the outcome the fast command must have given it when judged again.
VERDICTS = {
    "equivalent": "survived",  # no input on any platform tells it apart
    "removed": "gone",  # the code it mutated is gone
    "platform": "survived",  # only a platform that does not run here tells it apart
    "unreachable": "survived",  # an error path no platform here reaches
    "version": "survived",  # only an interpreter outside the fast command tells it apart (--full kills it)
    "gap-closed": "killed",  # a test gap, closed: judging it again kills it
}
NOT_COUNTED = {"equivalent", "removed"}


def load() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    results = json.loads(RESULTS.read_text())
    triage = {entry["id"]: entry for entry in tomllib.loads(TRIAGE.read_text())["survivor"]}
    return results, triage


GROUPS = ("cpython", "pypy")


def survivors(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The survivors of every group judged (CPython's path, and the cffi backend PyPy uses)."""
    return [s for group in GROUPS for s in results.get(group, {}).get("survivors", [])]


def score(results: dict[str, Any], triage: dict[str, dict[str, Any]], group: str) -> tuple[int, int, int, int]:
    """(killed now, judged, not counted, killed by the whole differential) for one group: killed
    by the fast command, before or after a gap was closed; not counted, the equivalent and
    removed mutants; and the survivors that only another interpreter kills."""
    found = results[group]
    killed_later = sum(1 for s in found["survivors"] if s["outcome"] == "killed")
    not_counted = sum(1 for s in found["survivors"] if triage[s["id"]]["verdict"] in NOT_COUNTED)
    by_full = sum(1 for s in found["survivors"] if s.get("killed_by_full"))
    return found["killed"] + killed_later, found["judged"], not_counted, by_full


def test_every_survivor_has_one_verdict_with_a_reason() -> None:
    results, triage = load()
    ids = [s["id"] for s in survivors(results)]
    assert sorted(ids) == sorted(triage), "survivors.toml and results.json name different mutants"
    for entry in triage.values():
        assert entry["verdict"] in VERDICTS, entry
        assert len(entry["reason"].split()) >= 8, f"{entry['id']}: say why in a sentence"


@pytest.mark.parametrize("verdict", sorted(VERDICTS))
def test_each_verdict_fits_what_the_runs_recorded(verdict: str) -> None:
    results, triage = load()
    for survivor in survivors(results):
        if triage[survivor["id"]]["verdict"] != verdict:
            continue
        assert survivor["outcome"] == VERDICTS[verdict], survivor["id"]
        if verdict == "version":
            assert survivor.get("killed_by_full") is True, f"{survivor['id']}: no run of another version killed it"


def test_each_triaged_mutant_names_its_place_in_the_reference() -> None:
    results, triage = load()
    for survivor in survivors(results):
        entry = triage[survivor["id"]]
        assert (entry["module"], entry["line"]) == (survivor["module"], survivor["line"])
        assert (REPO / survivor["module"]).is_file() or entry["verdict"] == "removed"


def test_the_docs_state_the_scores_of_the_committed_runs() -> None:
    results, triage = load()
    page = " ".join((REPO / "docs" / "testing.md").read_text().split())
    for group, name in (("cpython", "CPython's path"), ("pypy", "the cffi backend")):
        killed, judged, not_counted, by_full = score(results, triage, group)
        fast = re.search(name + r": the fast command kills (\d+) of the (\d+) non-equivalent mutants", page, re.IGNORECASE)
        full = re.search(name + r": [^.]*?whole differential test, (\d+) of (\d+)", page, re.IGNORECASE)
        assert fast and full, f"docs/testing.md states no mutation score for {name}"
        assert (int(fast[1]), int(fast[2])) == (killed, judged - not_counted)
        assert (int(full[1]), int(full[2])) == (killed + by_full, judged - not_counted)
