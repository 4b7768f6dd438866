"""The conformance suite judged by mutants of the reference (mutation/suite_campaign.py): every
surviving mutant of mutation/suite-results.json has a checked verdict in
mutation/suite-survivors.toml, the docs state the score the recorded campaign gives, and a few
recorded catches are judged again with today's suite, so that a change that weakens a property
shows up here."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from rckit.spec import load as load_spec

from tests.conftest import run_suite

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the harness runs on 3.10 too
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "mutation" / "suite-results.json"
TRIAGE = REPO / "mutation" / "suite-survivors.toml"
GROUPS = {"cpython": "CPython's path", "pypy": "the cffi backend"}
#: What the kit does with a mutant that counts as caught: a failed rule, a refusal to judge a
#: module that does not import, or (never seen) a stage that hung.
CAUGHT = ("killed", "refused", "timeout")
#: The verdicts a survivor may have; the first two are not counted in the score.
VERDICTS = {
    "undocumented": "no edition or later document promises the behaviour the mutant changed",
    "equivalent": "the suite cannot observe the change, by construction",
    "gap-closed": "a rule or property was added or strengthened, and judging it again caught it",
}
NOT_COUNTED = {"undocumented", "equivalent"}
#: Recorded catches judged again by every run of the tests, each with the rule that must fail:
#: kills of the first campaign and two gaps it closed, so that weakening one of these properties
#: fails a test.
PINNED = {
    "26aa21048238": "USAGE.PICKLE",  # struct_rusage refuses its own (sequence, dict) form
    "367c3f1699cb": "LIMITS.LIMITS_LENGTH",  # the C int range collapses to [-2**31, 0]
    "0bb994fea8d6": "PRLIMIT.NO_SUCH_PROCESS",  # prlimit counts two arguments as too many
    "385063567476": "PRLIMIT.PID_TYPE",  # prlimit's converting path breaks on a read
    "1f64710479d2": "USAGE.REPR",  # struct_rusage's repr raises
}


def load() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    results = json.loads(RESULTS.read_text())
    triage = {entry["id"]: entry for entry in tomllib.loads(TRIAGE.read_text())["survivor"]}
    return results, triage


def survivors(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for group in GROUPS for s in results.get(group, {}).get("survivors", [])]


def score(results: dict[str, Any], triage: dict[str, dict[str, Any]], group: str) -> tuple[int, int]:
    """(caught now, counted) for one group: caught by the campaign or, after a gap was closed,
    by judging again; counted, the behaviour-changing mutants but the undocumented and
    equivalent ones."""
    found = results[group]
    later = sum(1 for s in found["survivors"] if s.get("now") in CAUGHT)
    not_counted = sum(1 for s in found["survivors"] if triage[s["id"]]["verdict"] in NOT_COUNTED)
    return found["caught"] + later, found["behaviour_changing"] - not_counted


def test_every_survivor_has_one_verdict_with_a_reason() -> None:
    results, triage = load()
    assert sorted(s["id"] for s in survivors(results)) == sorted(triage), (
        "suite-survivors.toml and suite-results.json name different mutants"
    )
    for entry in triage.values():
        assert entry["verdict"] in VERDICTS, entry
        assert len(entry["reason"].split()) >= 10, f"{entry['id']}: say why in a sentence or two"


def test_each_triaged_mutant_names_its_place_in_the_reference() -> None:
    results, triage = load()
    for survivor in survivors(results):
        entry = triage[survivor["id"]]
        assert (entry["module"], entry["line"]) == (survivor["module"], survivor["line"])
        assert (REPO / survivor["module"]).is_file()


def test_a_closed_gap_names_the_rule_that_now_fails() -> None:
    results, triage = load()
    rules = set(load_spec().rules)
    for survivor in survivors(results):
        entry = triage[survivor["id"]]
        if entry["verdict"] == "gap-closed":
            assert survivor.get("now") in CAUGHT, f"{survivor['id']}: judged again, it still survives"
            assert entry["rule"] in rules, entry
            assert entry["rule"] in survivor["now_rules"], f"{survivor['id']}: {entry['rule']} did not fail it"
        else:
            assert survivor.get("now", "survived") == "survived", (
                f"{survivor['id']} is caught now: it is no longer {entry['verdict']}"
            )


def test_an_undocumented_verdict_quotes_the_docs() -> None:
    _, triage = load()
    for entry in triage.values():
        if entry["verdict"] == "undocumented":
            assert entry["basis"] in ("message-words", "not-promised"), entry
            assert entry.get("docs"), f"{entry['id']}: quote what the docs say (or that they are silent) about it"


def test_a_message_words_verdict_is_what_the_differential_test_found() -> None:
    """Only the words of a message differ: without them the differential test saw no difference."""
    results, triage = load()
    for survivor in survivors(results):
        entry = triage[survivor["id"]]
        if entry.get("basis") == "message-words":
            assert survivor["without_messages"] == "same", f"{survivor['id']}: {survivor['difference']}"
        else:
            assert survivor["without_messages"] == "differs" and "now" in survivor, (
                f"{survivor['id']}: a survivor that changes more than a message's words is judged again"
            )


def test_the_sample_is_the_campaigns_seeded_sample() -> None:
    results, _ = load()
    method = results["method"]
    assert method["seed"] and method["reference_digest"]
    for group in GROUPS:
        found = results[group]
        assert found["sampled"] <= found["mutants"]
        assert found["behaviour_changing"] == len(found["judged"])
        assert found["caught"] == sum(1 for j in found["judged"] if j["outcome"] in CAUGHT)
        assert {s["id"] for s in found["survivors"]} == {j["id"] for j in found["judged"] if j["outcome"] == "survived"}
    assert results["pypy"]["sampled"] == results["pypy"]["mutants"], "the cffi backend is judged whole"


def test_the_suite_catches_at_least_95_percent_of_the_counted_mutants() -> None:
    results, triage = load()
    for group in GROUPS:
        caught, counted = score(results, triage, group)
        assert caught >= 0.95 * counted, f"{group}: {caught} of {counted}"


def test_the_docs_state_the_score_of_the_recorded_campaign() -> None:
    results, triage = load()
    page = " ".join((REPO / "docs" / "testing.md").read_text().split())
    for group, name in GROUPS.items():
        caught, counted = score(results, triage, group)
        stated = re.search(name + r": the conformance suite catches (\d+) of the (\d+) counted mutants", page, re.IGNORECASE)
        assert stated, f"docs/testing.md states no suite score for {name}"
        assert (int(stated[1]), int(stated[2])) == (caught, counted)


def applied(text: str, diff: str) -> str:
    """``text`` with each hunk of a unified ``diff`` applied where its context is found (once)."""
    hunks = re.split(r"^@@[^\n]*\n", diff, flags=re.MULTILINE)[1:]
    for hunk in hunks:
        lines = hunk.splitlines(keepends=True)
        before = "".join(line[1:] for line in lines if line[:1] in (" ", "-"))
        after = "".join(line[1:] for line in lines if line[:1] in (" ", "+"))
        assert text.count(before) == 1, "the mutated code has changed since the campaign: pin another mutant"
        text = text.replace(before, after)
    return text


def mutated_reference(folder: Path, module: str, diff: str) -> Path:
    """A folder to put first on PYTHONPATH whose ``rckit/reference`` is the reference with
    ``diff`` applied to ``module`` (the rest of ``rckit`` is found where it is installed)."""
    shutil.copytree(REPO / "reference", folder / "rckit" / "reference", ignore=shutil.ignore_patterns("__pycache__"))
    target = folder / "rckit" / module
    target.write_text(applied(target.read_text(), diff))
    return folder


@pytest.mark.parametrize(("mutant", "rule"), sorted(PINNED.items()))
def test_a_pinned_mutant_is_still_caught_by_its_rule(tmp_path: Path, mutant: str, rule: str) -> None:
    results, _ = load()
    judged = {j["id"]: j for j in results["cpython"]["judged"]}
    later = {s["id"]: s.get("now_rules", []) for s in results["cpython"]["survivors"]}
    assert rule in judged[mutant]["rules"] + later.get(mutant, []), "the campaign recorded another rule"
    folder = mutated_reference(tmp_path / "tree", judged[mutant]["module"], judged[mutant]["diff"])
    env = dict(os.environ, PYTHONPATH=str(folder))
    done = run_suite(
        "--impl",
        "rckit.reference.resource",
        "--profile",
        "quick",
        "-n",
        "0",
        "--report",
        str(tmp_path / "report"),
        cwd=tmp_path,
        env=env,
    )
    report = json.loads((tmp_path / "report" / "conformance.json").read_text())
    cell = report["matrix"][rule]["host:rckit.reference.resource"]
    assert done.returncode == 1 and cell["status"] == "fail", done.stdout[-2000:]
