"""LIMITS.* for setting limits. Everything here runs in a disposable child of the agent."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.sessions import Session
from rckit.conformance.support import strategies as S
from rckit.conformance.support.applicability import not_applicable
from rckit.conformance.support.limit_range import limit_range

rule = pytest.mark.rule


def _finite_hard(child: Session, number: int, name: str, infinity: int, floor_gap: int = 10) -> tuple[int, int]:
    """Make the child's hard limit finite (lowering it if needed); return the new (soft, hard).
    A resource whose hard limit leaves no room above its floor is not a usable example."""
    soft, hard = child.getrlimit(number)
    floor = S.SAFE_FLOORS.get(name, 0)
    if hard == infinity:
        hard = floor + 1000
    assume(hard >= floor + floor_gap)
    soft = hard if soft == infinity or soft > hard else soft
    assert child.call("setrlimit", number, (soft, hard)).returned
    return soft, hard


@rule("LIMITS.SET_ROUND_TRIP")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_set_round_trip(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """Any soft <= hard <= current hard is set exactly as asked."""
    info = candidate.info
    name, number = data.draw(S.settable_resources(info, group), label="resource")
    with candidate.isolated() as child:
        _, hard_now = child.getrlimit(number)
        pair = data.draw(S.limit_pair_under(name, hard_now, info.infinity, limit_range(info).max_finite), label="limits")
        outcome = child.call("setrlimit", number, pair)
        assert outcome.returned, f"setrlimit({name}, {pair}) {outcome}"
        assert child.getrlimit(number) == pair, f"{name}: set {pair}, read {child.getrlimit(number)}"


@rule("LIMITS.SET_RETURNS_NONE")
@given(data=st.data())
def test_limits_set_returns_none(candidate: Candidate, data: st.DataObject) -> None:
    """A successful setrlimit returns None."""
    name, number = data.draw(S.settable_resources(candidate.info), label="resource")
    with candidate.isolated() as child:
        outcome = child.call("setrlimit", number, child.getrlimit(number))
    assert outcome.returned and outcome.value is None, f"setrlimit({name}, current) {outcome}"


@rule("LIMITS.SOFT_MOVES_FREELY")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_soft_moves_freely(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """The soft limit can go down and up again below the hard limit, many times."""
    info = candidate.info
    name, number = data.draw(S.settable_resources(info, group), label="resource")
    with candidate.isolated() as child:
        _, hard = child.getrlimit(number)
        top = S.ceiling(name, limit_range(info).max_finite if hard == info.infinity else hard)
        floor = S.SAFE_FLOORS.get(name, 0)
        assume(top > floor)
        steps = data.draw(st.lists(st.integers(floor, top), min_size=2, max_size=5), label="soft values")
        for soft in steps:
            assert child.call("setrlimit", number, (soft, hard)).returned, f"{name}: soft {soft} under hard {hard}"
            assert child.getrlimit(number) == (soft, hard)


@rule("LIMITS.HARD_LOWERABLE")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_hard_lowerable_to_soft(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """The hard limit can be lowered to any value not below the soft limit, equal included."""
    info = candidate.info
    name, number = data.draw(S.settable_resources(info, group), label="resource")
    with candidate.isolated() as child:
        soft, hard = _finite_hard(child, number, name, info.infinity)
        lowered = data.draw(st.integers(soft, hard) | st.just(soft), label="new hard")
        outcome = child.call("setrlimit", number, (soft, lowered))
        assert outcome.returned, f"setrlimit({name}, ({soft}, {lowered})) {outcome}"
        assert child.getrlimit(number) == (soft, lowered)


@rule("LIMITS.HARD_RAISE_DENIED")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_hard_raise_denied(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """Unprivileged, asking for a higher hard limit raises ValueError and changes nothing."""
    info = candidate.info
    name, number = data.draw(S.settable_resources(info, group), label="resource")
    with candidate.isolated(unprivileged=True) as child:
        soft, hard = _finite_hard(child, number, name, info.infinity)
        top = limit_range(info).max_finite
        higher = data.draw(st.integers(hard + 1, max(hard + 1, top)) | st.just(info.infinity), label="new hard")
        outcome = child.call("setrlimit", number, (soft, higher))
        assert outcome.raised("ValueError"), f"setrlimit({name}, ({soft}, {higher})) above hard {hard}: {outcome}"
        assert child.getrlimit(number) == (soft, hard), "a refused setrlimit changed the limits"


@rule("LIMITS.HARD_RAISE_PRIVILEGED")
def test_limits_hard_raise_privileged(candidate: Candidate) -> None:
    """With the privilege, a lowered hard limit can be raised again, and up to RLIM_INFINITY."""
    if not candidate.info.privileged:
        not_applicable("the candidate's process cannot raise hard limits (no CAP_SYS_RESOURCE)")
    number = candidate.info.resource("RLIMIT_CORE")
    with candidate.isolated() as child:
        soft, hard = child.getrlimit(number)
        hard = 1000 if hard == candidate.info.infinity else hard
        soft = min(soft, hard) if soft != candidate.info.infinity else hard
        assert child.call("setrlimit", number, (soft, hard)).returned
        outcome = child.call("setrlimit", number, (soft, hard + 1))
        assert outcome.returned, f"privileged raise of the hard limit {outcome}"
        assert child.getrlimit(number) == (soft, hard + 1)
        outcome = child.call("setrlimit", number, (soft, candidate.info.infinity))
        assert outcome.returned, f"privileged request of an unlimited hard RLIMIT_CORE {outcome}"
        assert child.getrlimit(number) == (soft, candidate.info.infinity)


@rule("LIMITS.SOFT_ABOVE_HARD")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_soft_above_hard(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """soft > hard raises ValueError and leaves the limits as they were."""
    info = candidate.info
    name, number = data.draw(S.settable_resources(info, group), label="resource")
    with candidate.isolated() as child:
        before = child.getrlimit(number)
        _, hard_now = before
        max_finite = limit_range(info).max_finite
        top = max_finite if hard_now == info.infinity else hard_now
        hard = data.draw(st.integers(S.SAFE_FLOORS.get(name, 0), max(S.SAFE_FLOORS.get(name, 0), top - 1)), label="hard")
        soft = data.draw(st.integers(hard + 1, max_finite) | st.just(hard + 1) | st.just(info.infinity), label="soft")
        assume(hard <= top)
        outcome = child.call("setrlimit", number, (soft, hard))
        assert outcome.raised("ValueError"), f"setrlimit({name}, ({soft}, {hard})) {outcome}"
        assert child.getrlimit(number) == before


@rule("LIMITS.INFINITY_OVER_FINITE")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data(), which=st.sampled_from(["soft", "hard", "both"]))
def test_limits_infinity_over_finite_hard(candidate: Candidate, group: str, data: st.DataObject, which: str) -> None:
    """Unprivileged, RLIM_INFINITY as soft or hard over a finite hard limit raises ValueError."""
    info = candidate.info
    name, number = data.draw(S.settable_resources(info, group), label="resource")
    with candidate.isolated(unprivileged=True) as child:
        soft, hard = _finite_hard(child, number, name, info.infinity)
        pair = {"soft": (info.infinity, hard), "hard": (soft, info.infinity), "both": (info.infinity, info.infinity)}[which]
        outcome = child.call("setrlimit", number, pair)
        assert outcome.raised("ValueError"), f"setrlimit({name}, {pair}) with hard {hard}: {outcome}"
        assert child.getrlimit(number) == (soft, hard)


@rule("LIMITS.INFINITY_OVER_FINITE")
def test_limits_infinity_over_finite_system_limit(candidate: Candidate) -> None:
    """RLIM_INFINITY as the hard RLIMIT_NOFILE, whose system limit (nr_open) is finite, raises
    ValueError even where the process may raise hard limits (without that privilege, the finite
    hard limit refuses it first)."""
    info = candidate.info
    if info.nr_open is None:
        not_applicable("the candidate cannot read /proc/sys/fs/nr_open, so the system limit is unknown")
    number = info.resource("RLIMIT_NOFILE")
    with candidate.isolated() as child:
        before = child.getrlimit(number)
        outcome = child.call("setrlimit", number, (before[0], info.infinity))
        assert outcome.raised("ValueError"), (
            f"setrlimit(RLIMIT_NOFILE, (soft, RLIM_INFINITY)) over nr_open {info.nr_open}: {outcome}"
        )
        assert child.getrlimit(number) == before


def _unlimited_resource(child: Session, candidate: Candidate) -> tuple[str, int]:
    for name in ("RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_RSS", "RLIMIT_MEMLOCK"):
        if name in candidate.info.constants:
            number = candidate.info.resource(name)
            if child.getrlimit(number)[1] == candidate.info.infinity:
                return name, number
    not_applicable("no resource here has an unlimited hard limit")


@rule("LIMITS.INFINITY_MEANS_UNLIMITED")
def test_limits_infinity_requests_unlimited(candidate: Candidate) -> None:
    """With an unlimited hard limit, a soft limit of RLIM_INFINITY is set and read back as such."""
    infinity = candidate.info.infinity
    with candidate.isolated() as child:
        name, number = _unlimited_resource(child, candidate)
        assert child.call("setrlimit", number, (1024, infinity)).returned
        outcome = child.call("setrlimit", number, (infinity, infinity))
        assert outcome.returned, f"setrlimit({name}, (RLIM_INFINITY, RLIM_INFINITY)) {outcome}"
        assert child.getrlimit(number) == (infinity, infinity)


@rule("LIMITS.MINUS_ONE_MEANS_MAXIMUM")
def test_limits_minus_one_means_maximum(candidate: Candidate) -> None:
    """-1 as a limit value sets the maximum: it reads back as RLIM_INFINITY."""
    infinity = candidate.info.infinity
    with candidate.isolated() as child:
        name, number = _unlimited_resource(child, candidate)
        assert child.call("setrlimit", number, (1024, infinity)).returned
        outcome = child.call("setrlimit", number, (-1, -1))
        assert outcome.returned, f"setrlimit({name}, (-1, -1)) {outcome}"
        assert child.getrlimit(number) == (infinity, infinity)


@rule("LIMITS.SYSTEM_CEILING")
def test_limits_system_ceiling_nofile(candidate: Candidate) -> None:
    """RLIMIT_NOFILE above /proc/sys/fs/nr_open raises ValueError whatever the privilege."""
    ceiling = candidate.info.nr_open
    if ceiling is None:
        not_applicable("the candidate cannot read /proc/sys/fs/nr_open")
    number = candidate.info.resource("RLIMIT_NOFILE")
    with candidate.isolated() as child:
        before = child.getrlimit(number)
        outcome = child.call("setrlimit", number, (ceiling + 1, ceiling + 1))
        assert outcome.raised("ValueError"), f"setrlimit(RLIMIT_NOFILE, nr_open + 1) {outcome}"
        assert child.getrlimit(number) == before


@rule("LIMITS.AUDIT_SETRLIMIT")
def test_limits_audit_setrlimit(candidate: Candidate) -> None:
    """setrlimit raises the audit event resource.setrlimit with (resource, limits)."""
    number = candidate.info.resource("RLIMIT_CORE")
    with candidate.isolated() as child:
        limits = child.getrlimit(number)
        outcome = child.call("setrlimit", number, limits)
    assert outcome.returned, outcome
    assert list(outcome.audit) == [("resource.setrlimit", (number, limits))], f"audit events: {outcome.audit}"
