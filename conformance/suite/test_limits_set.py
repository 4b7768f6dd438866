"""LIMITS.* for setting limits. Everything here runs in a disposable child of the agent."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.sessions import Session
from rckit.conformance.support import strategies as S
from rckit.conformance.support.applicability import not_applicable
from rckit.conformance.support.limit_range import limit_range

rule = pytest.mark.rule


@contextlib.contextmanager
def _settable(
    candidate: Candidate, data: st.DataObject, group: str = "general", *, finite: bool = False, unprivileged: bool = False
) -> Iterator[tuple[Session, str, int, tuple[int, int]]]:
    """A disposable child (``unprivileged``: without the privilege to raise hard limits), a
    resource of ``group`` it may set, drawn from ``data``, and its limits: (child, name, number,
    (soft, hard)). With ``finite``, the hard limit is made finite first (see _finite_hard)."""
    name, number = data.draw(S.settable_resources(candidate.info, group), label="resource")
    with candidate.isolated(unprivileged=unprivileged) as child:
        limits = child.getrlimit(number)
        yield child, name, number, _finite_hard(child, name, number, limits, candidate.info.infinity) if finite else limits


def _setrlimit_leaves(
    child: Session, name: str, number: int, limits: object, left: tuple[int, int], *, refused: bool = False
) -> None:
    """setrlimit(number, limits) returns, or with ``refused`` raises ValueError, and the limits
    then read ``left``."""
    outcome = child.call("setrlimit", number, limits)
    if refused:
        assert outcome.raised("ValueError"), (
            f"setrlimit({name}, {limits}) {outcome}, expected ValueError; limits read {left} before"
        )
    else:
        assert outcome.returned, f"setrlimit({name}, {limits}) {outcome}"
    now = child.getrlimit(number)
    assert now == left, f"{name}: {'a refused ' if refused else ''}setrlimit({limits}) left {now}, not {left}"


def _finite_hard(child: Session, name: str, number: int, limits: tuple[int, int], infinity: int) -> tuple[int, int]:
    """Make the child's hard limit, now ``limits[1]``, finite (lowering it if needed); return the
    new (soft, hard). A resource whose hard limit leaves no room above its floor is not a usable
    example."""
    soft, hard = limits
    floor = S.SAFE_FLOORS.get(name, 0)
    if hard == infinity:
        hard = floor + 1000
    assume(hard >= floor + 10)
    soft = hard if soft == infinity or soft > hard else soft
    assert child.call("setrlimit", number, (soft, hard)).returned
    return soft, hard


@rule("LIMITS.SET_ROUND_TRIP")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_set_round_trip(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """Any soft <= hard <= current hard is set exactly as asked."""
    info = candidate.info
    with _settable(candidate, data, group) as (child, name, number, (_, hard_now)):
        pair = data.draw(S.limit_pair_under(name, hard_now, info.infinity, limit_range(info).max_finite), label="limits")
        _setrlimit_leaves(child, name, number, pair, pair)


@rule("LIMITS.SET_RETURNS_NONE")
@given(data=st.data())
def test_limits_set_returns_none(candidate: Candidate, data: st.DataObject) -> None:
    """A successful setrlimit returns None."""
    with _settable(candidate, data) as (child, name, number, current):
        outcome = child.call("setrlimit", number, current)
    assert outcome.returned and outcome.value is None, f"setrlimit({name}, current) {outcome}"


@rule("LIMITS.SOFT_MOVES_FREELY")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_soft_moves_freely(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """The soft limit can go down and up again below the hard limit, many times."""
    info = candidate.info
    with _settable(candidate, data, group) as (child, name, number, (_, hard)):
        top = S.ceiling(name, limit_range(info).max_finite if hard == info.infinity else hard)
        floor = S.SAFE_FLOORS.get(name, 0)
        assume(top > floor)
        steps = data.draw(st.lists(st.integers(floor, top), min_size=2, max_size=5), label="soft values")
        for soft in steps:
            _setrlimit_leaves(child, name, number, (soft, hard), (soft, hard))


@rule("LIMITS.HARD_LOWERABLE")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_hard_lowerable_to_soft(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """The hard limit can be lowered to any value not below the soft limit, equal included."""
    with _settable(candidate, data, group, finite=True) as (child, name, number, (soft, hard)):
        lowered = data.draw(st.integers(soft, hard) | st.just(soft), label="new hard")
        _setrlimit_leaves(child, name, number, (soft, lowered), (soft, lowered))


@rule("LIMITS.HARD_RAISE_DENIED")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_hard_raise_denied(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """Unprivileged, asking for a higher hard limit raises ValueError and changes nothing."""
    info = candidate.info
    with _settable(candidate, data, group, finite=True, unprivileged=True) as (child, name, number, (soft, hard)):
        top = limit_range(info).max_finite
        higher = data.draw(st.integers(hard + 1, max(hard + 1, top)) | st.just(info.infinity), label="new hard")
        _setrlimit_leaves(child, name, number, (soft, higher), (soft, hard), refused=True)


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
        for raised in (hard + 1, candidate.info.infinity):  # a privileged raise, then an unlimited hard limit
            _setrlimit_leaves(child, "RLIMIT_CORE", number, (soft, raised), (soft, raised))


@rule("LIMITS.SOFT_ABOVE_HARD")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_limits_soft_above_hard(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """soft > hard raises ValueError and leaves the limits as they were."""
    info = candidate.info
    with _settable(candidate, data, group) as (child, name, number, before):
        _, hard_now = before
        max_finite = limit_range(info).max_finite
        top = max_finite if hard_now == info.infinity else hard_now
        hard = data.draw(st.integers(S.SAFE_FLOORS.get(name, 0), max(S.SAFE_FLOORS.get(name, 0), top - 1)), label="hard")
        soft = data.draw(st.integers(hard + 1, max_finite) | st.just(hard + 1) | st.just(info.infinity), label="soft")
        assume(hard <= top)
        _setrlimit_leaves(child, name, number, (soft, hard), before, refused=True)


@rule("LIMITS.INFINITY_OVER_FINITE")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data(), which=st.sampled_from(["soft", "hard", "both"]))
def test_limits_infinity_over_finite_hard(candidate: Candidate, group: str, data: st.DataObject, which: str) -> None:
    """Unprivileged, RLIM_INFINITY as soft or hard over a finite hard limit raises ValueError."""
    info = candidate.info
    with _settable(candidate, data, group, finite=True, unprivileged=True) as (child, name, number, (soft, hard)):
        pair = {"soft": (info.infinity, hard), "hard": (soft, info.infinity), "both": (info.infinity, info.infinity)}[which]
        _setrlimit_leaves(child, name, number, pair, (soft, hard), refused=True)


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
        _setrlimit_leaves(child, "RLIMIT_NOFILE", number, (before[0], info.infinity), before, refused=True)


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
        _setrlimit_leaves(child, name, number, (infinity, infinity), (infinity, infinity))


@rule("LIMITS.MINUS_ONE_MEANS_MAXIMUM")
def test_limits_minus_one_means_maximum(candidate: Candidate) -> None:
    """-1 as a limit value sets the maximum: it reads back as RLIM_INFINITY."""
    infinity = candidate.info.infinity
    with candidate.isolated() as child:
        name, number = _unlimited_resource(child, candidate)
        assert child.call("setrlimit", number, (1024, infinity)).returned
        _setrlimit_leaves(child, name, number, (-1, -1), (infinity, infinity))


@rule("LIMITS.SYSTEM_CEILING")
def test_limits_system_ceiling_nofile(candidate: Candidate) -> None:
    """RLIMIT_NOFILE above /proc/sys/fs/nr_open raises ValueError whatever the privilege."""
    ceiling = candidate.info.nr_open
    if ceiling is None:
        not_applicable("the candidate cannot read /proc/sys/fs/nr_open")
    number = candidate.info.resource("RLIMIT_NOFILE")
    with candidate.isolated() as child:
        before = child.getrlimit(number)
        _setrlimit_leaves(child, "RLIMIT_NOFILE", number, (ceiling + 1, ceiling + 1), before, refused=True)


@rule("LIMITS.AUDIT_SETRLIMIT")
def test_limits_audit_setrlimit(candidate: Candidate) -> None:
    """setrlimit raises the audit event resource.setrlimit with (resource, limits)."""
    number = candidate.info.resource("RLIMIT_CORE")
    with candidate.isolated() as child:
        limits = child.getrlimit(number)
        outcome = child.call("setrlimit", number, limits)
    assert outcome.returned, outcome
    assert list(outcome.audit) == [("resource.setrlimit", (number, limits))], f"audit events: {outcome.audit}"
