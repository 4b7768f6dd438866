"""Wiring for the conformance tests: candidates as parameters, rules, expectations, isolation.

Every test in this folder takes the ``candidate`` fixture and carries ``@pytest.mark.rule(...)``.
Before a test runs, its rules are checked against the candidate's Python version and platform
(n/a when they do not apply) and the known deviations of platforms/expectations are attached
(expected failures). Hypothesis profiles come from ``--rckit-profile``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from rckit.conformance.harness import exchanges
from rckit.conformance.harness.candidates import Candidate, Registry
from rckit.conformance.harness.own_limits import LimitsSnapshot
from rckit.conformance.plugin import EXPECTATION_PROPERTY, PROPERTY, specs_key
from rckit.conformance.support import expectations
from rckit.conformance.support.applicability import not_applicable, why_not_applicable
from rckit.spec import load

#: Hypothesis profiles (--rckit-profile): examples per property, and reproducible or not.
PROFILES = {
    "quick": {"max_examples": 8, "stateful_step_count": 8, "derandomize": True, "database": None},
    "default": {"max_examples": 25, "stateful_step_count": 15, "derandomize": True, "database": None},
    "thorough": {"max_examples": 200, "stateful_step_count": 40},
}
_relaxed = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture]
for _name, _options in PROFILES.items():
    settings.register_profile(f"rckit-{_name}", deadline=None, suppress_health_check=_relaxed, **_options)  # type: ignore[arg-type]

registry_key = pytest.StashKey[Registry]()
deviations_key = pytest.StashKey[list[expectations.Deviation]]()


@pytest.hookimpl(trylast=True)  # after the plugin's own pytest_configure made the candidate list
def pytest_configure(config: pytest.Config) -> None:
    settings.load_profile("rckit-" + config.getoption("--rckit-profile"))
    config.stash[registry_key] = Registry({spec.id: spec for spec in config.stash[specs_key]})
    try:
        config.stash[deviations_key] = expectations.load(extra=[Path(f) for f in config.getoption("rckit_expectations")])
    except expectations.ExpectationsError as exc:
        raise pytest.UsageError(f"rckit: {exc}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    if registry_key in config.stash:
        config.stash[registry_key].close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "candidate" in metafunc.fixturenames:
        ids = [spec.id for spec in metafunc.config.stash[specs_key]]
        metafunc.parametrize("candidate", ids, indirect=True, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every conformance test names rules, and only rules the spec has."""
    rules = load().rules
    problems = []
    for item in items:
        ids = [rid for mark in item.iter_markers("rule") for rid in mark.args]
        if not ids:
            problems.append(f"{item.nodeid}: names no rule (add @pytest.mark.rule(...))")
        problems += [f"{item.nodeid}: unknown rule {rid}" for rid in ids if rid not in rules]
    if problems:
        raise pytest.UsageError("conformance tests must name spec rules:\n  " + "\n  ".join(sorted(set(problems))))


@pytest.fixture(scope="session")
def candidate(request: pytest.FixtureRequest) -> Candidate:
    """The implementation under test (one test parameter per candidate)."""
    return request.config.stash[registry_key].get(request.param)


@pytest.fixture(scope="session", autouse=True)
def _harness_limits_unchanged() -> Iterator[None]:
    """Fails the last test of the session if anything changed this process's own limits."""
    snapshot = LimitsSnapshot.take()
    yield
    changes = snapshot.changes()
    assert not changes, "the run changed the harness's limits: " + "; ".join(changes)


@pytest.fixture(autouse=True)
def _harness_left_alone(candidate: Candidate) -> Iterator[None]:
    """Fails the test, naming the candidate, if the harness's limits or its parent's changed while
    it ran (what a PID namespace does not prevent, this detects); restores what can be."""
    mine, parent = LimitsSnapshot.take(), LimitsSnapshot.of_parent()
    yield
    changes = mine.changes() + (parent.changes() if parent else [])
    if changes:
        mine.restore()
        if parent:
            parent.restore()
        pytest.fail(f"{candidate.id} changed the limits of the harness or its parent: " + "; ".join(changes))


@pytest.fixture(autouse=True)
def _rules_apply(request: pytest.FixtureRequest, candidate: Candidate) -> None:
    """n/a when the test's rules do not apply; attach known deviations; label the result."""
    node = request.node
    spec = load()
    rule_ids = tuple(rid for mark in node.iter_markers("rule") for rid in mark.args)
    info = candidate.info.summary()
    node.user_properties.append((PROPERTY, json.dumps({"candidate": candidate.id, "rules": rule_ids, "info": info})))
    reason = why_not_applicable([spec.rule(rid) for rid in rule_ids], candidate)
    if reason:
        not_applicable(reason)
    if candidate.budget.exhausted:  # it hung before: not judged any further (the test that hung failed)
        pytest.fail(f"{candidate.id}: {candidate.budget.refusal()}", pytrace=False)
    test_name = node.name  # with its parameters, e.g. test_x[host:resource-address-space]
    known = expectations.matching(request.config.stash[deviations_key], candidate, rule_ids, test_name)
    if known:  # the first is the one reported, with the file it came from
        first = known[0]
        node.user_properties.append(
            (EXPECTATION_PROPERTY, json.dumps({"source": first.source, "reason": first.reason, "link": first.link}))
        )
    for deviation in known:
        node.add_marker(pytest.mark.xfail(reason=f"{deviation.reason} ({deviation.link})", strict=False))
    if known:
        _without_shrinking(request, getattr(node, "obj", None))


#: What hypothesis does to a failing example that a known deviation makes no use of: its verdict
#: is the same for the first failing example as for the smallest (and the report keeps the
#: example hypothesis replays at the end either way). Shrinking was about half the time of the
#: known deviations, most of them under qemu.
_SHRINKING = (Phase.shrink, Phase.explain)


def _without_shrinking(request: pytest.FixtureRequest, test: object) -> None:
    """Run this item of a @given test without shrinking (the function is shared by the items of
    every candidate: its settings are restored when the item ends). Hypothesis keeps a test's
    settings in a private attribute; where it has none, the item shrinks as before."""
    current = getattr(test, "_hypothesis_internal_use_settings", None)
    if not isinstance(current, settings):
        return
    phases = tuple(phase for phase in current.phases if phase not in _SHRINKING)
    setattr(test, "_hypothesis_internal_use_settings", settings(current, phases=phases))  # noqa: B010
    request.addfinalizer(lambda: setattr(test, "_hypothesis_internal_use_settings", current))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Record the candidate's protocol exchanges during the test (its last hypothesis example);
    when it fails, attach them, the assertion and how to run the candidate to its report."""
    exchanges.wrap_examples(getattr(item, "obj", None))
    recorder = exchanges.start()
    try:
        return (yield)
    except BaseException as exc:
        candidate = getattr(item, "funcargs", {}).get("candidate")
        if isinstance(candidate, Candidate) and not isinstance(exc, pytest.skip.Exception):
            if not recorder.assertion:
                recorder.assertion = exchanges.first_lines(exc)
            item.user_properties.append((exchanges.PROPERTY, json.dumps(_stored_example(recorder, candidate))))
        raise
    finally:
        exchanges.stop()


def _stored_example(recorder: exchanges.Recorder, candidate: Candidate) -> dict[str, object]:
    stored = recorder.example()
    stored["module"] = candidate.spec.module
    stored["python"] = list(candidate.spec.python or (sys.executable,))
    stored["paths"] = list(candidate.spec.paths)
    # The module's RLIMIT_*, RUSAGE_* and RLIM_* integers, as it described itself before the test.
    stored["constants"] = dict(sorted(candidate.info.constants.items()))
    return stored
