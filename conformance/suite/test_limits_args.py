"""LIMITS.* for the limits argument of setrlimit: its shape and the type and range of its values."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.sessions import Session
from rckit.conformance.harness.values import IndexOnly, IntOnly, Iter, Opaque, Outcome
from rckit.conformance.support import strategies as S
from rckit.conformance.support.applicability import not_applicable
from rckit.conformance.support.limit_range import limit_range

rule = pytest.mark.rule


def _core(candidate: Candidate) -> int:
    return candidate.info.resource("RLIMIT_CORE")


def _call_unchanged(child: Session, number: int, limits: object) -> Outcome:
    before = child.getrlimit(number)
    outcome = child.call("setrlimit", number, limits)
    assert child.getrlimit(number) == before or outcome.returned, "a failed setrlimit changed the limits"
    return outcome


@rule("LIMITS.LIMITS_LENGTH")
@given(items=st.lists(st.integers(0, 100), max_size=5).filter(lambda v: len(v) != 2), as_list=st.booleans())
def test_limits_wrong_length(candidate: Candidate, items: list[int], as_list: bool) -> None:
    """A sequence of limits whose length is not two raises ValueError."""
    limits = items if as_list else tuple(items)
    with candidate.isolated() as child:
        outcome = child.call("setrlimit", _core(candidate), limits)
    assert outcome.raised("ValueError"), f"setrlimit(CORE, {limits!r}) {outcome}"


@rule("LIMITS.LIMITS_NOT_SEQUENCE")
@given(limits=st.one_of(st.integers(-5, 5), st.none(), st.just(Opaque()), st.floats(allow_nan=False)))
def test_limits_not_iterable(candidate: Candidate, limits: object) -> None:
    """A limits argument that is not iterable raises TypeError."""
    with candidate.isolated() as child:
        outcome = child.call("setrlimit", _core(candidate), limits)
    assert outcome.raised("TypeError"), f"setrlimit(CORE, {limits!r}) {outcome}"


@rule("LIMITS.SET_ROUND_TRIP")
@pytest.mark.parametrize("shape", ["list", "iterator", "index"])
def test_limits_other_iterables_accepted(candidate: Candidate, shape: str) -> None:
    """Any iterable of two integers works as limits (a list, an iterator), and so do objects that
    are integers through __index__."""
    number = _core(candidate)
    with candidate.isolated() as child:
        _, hard = child.getrlimit(number)
        target = (0, hard)
        limits = {
            "list": [0, hard],
            "iterator": Iter((0, hard)),
            "index": (IndexOnly(0), IndexOnly(hard) if hard >= 0 else hard),
        }[shape]
        if shape == "index" and candidate.info.version_tuple < (3, 8):
            not_applicable("before 3.8 limit values were converted with __int__, not __index__")
        outcome = child.call("setrlimit", number, limits)
        assert outcome.returned, f"setrlimit(CORE, {shape} of (0, hard)) {outcome}"
        assert child.getrlimit(number) == target


@rule("LIMITS.VALUE_NOT_STR")
@given(text=st.text(alphabet="0123456789", min_size=1, max_size=3), position=st.sampled_from([0, 1]))
def test_limits_value_str_rejected(candidate: Candidate, text: str, position: int) -> None:
    """A limit value given as a string of digits raises TypeError; it is not parsed."""
    with candidate.isolated() as child:
        _, hard = child.getrlimit(_core(candidate))
        limits = (text, hard) if position == 0 else (0, text)
        outcome = _call_unchanged(child, _core(candidate), limits)
    assert outcome.raised("TypeError"), f"setrlimit(CORE, {limits!r}) {outcome}"


def _set_float_soft(candidate: Candidate) -> tuple[Outcome, bool]:
    """setrlimit(CORE, (n + 0.75, hard)) in a child: the outcome, and whether soft reads back as n."""
    number = _core(candidate)
    with candidate.isolated() as child:
        _, hard = child.getrlimit(number)
        whole = 1000 if hard < 0 or hard > 1000 else max(hard - 1, 0)
        outcome = child.call("setrlimit", number, (whole + 0.75, hard))
        truncated = child.getrlimit(number)[0] == whole
    assert outcome.returned, f"setrlimit(CORE, ({whole + 0.75}, {hard})) {outcome}"
    return outcome, truncated


@rule("LIMITS.FLOAT_TRUNCATED")
def test_limits_float_truncated(candidate: Candidate) -> None:
    """Before 3.8 a float limit is accepted silently and truncated."""
    outcome, truncated = _set_float_soft(candidate)
    assert truncated, "the float was not truncated"
    assert not any(c == "DeprecationWarning" for c, *_ in outcome.warnings), outcome.warnings


@rule("LIMITS.FLOAT_DEPRECATED")
def test_limits_float_deprecated(candidate: Candidate) -> None:
    """In 3.8 and 3.9 a float limit is truncated with a DeprecationWarning."""
    outcome, truncated = _set_float_soft(candidate)
    assert truncated, "the float was not truncated"
    assert any(c == "DeprecationWarning" for c, *_ in outcome.warnings), f"warnings: {outcome.warnings}"


@rule("LIMITS.FLOAT_REJECTED")
@given(value=S.non_index_numbers(), position=st.sampled_from([0, 1]))
def test_limits_float_rejected(candidate: Candidate, value: float | IntOnly, position: int) -> None:
    """From 3.10 a float (or any number without __index__) as a limit raises TypeError."""
    with candidate.isolated() as child:
        _, hard = child.getrlimit(_core(candidate))
        limits = (value, hard) if position == 0 else (0, value)
        outcome = _call_unchanged(child, _core(candidate), limits)
    assert outcome.raised("TypeError"), f"setrlimit(CORE, {limits!r}) {outcome}"


@rule("LIMITS.VALUE_TOO_LARGE")
@given(
    value=st.one_of(
        st.integers(2**64, 2**100), st.integers(-(2**100), -(2**64) - 1), st.sampled_from([2**64, -(2**64) - 1, 10**30])
    ),
    position=st.sampled_from([0, 1]),
)
def test_limits_value_too_large(candidate: Candidate, value: int, position: int) -> None:
    """A limit beyond 64 bits raises OverflowError or ValueError and changes nothing."""
    with candidate.isolated() as child:
        _, hard = child.getrlimit(_core(candidate))
        limits = (value, hard) if position == 0 else (0, value)
        outcome = _call_unchanged(child, _core(candidate), limits)
    assert outcome.raised("OverflowError", "ValueError"), f"setrlimit(CORE, {limits!r}) {outcome}"


def _fsize_under_unlimited_hard(candidate: Candidate, child: Session) -> int:
    """RLIMIT_FSIZE's number, after checking that its hard limit is unlimited in ``child``."""
    number = candidate.info.resource("RLIMIT_FSIZE")
    if child.getrlimit(number)[1] != candidate.info.infinity:
        not_applicable("RLIMIT_FSIZE's hard limit is finite here")
    return number


@rule("LIMITS.LEGACY_SIGNED_RANGE")
@given(value=st.one_of(st.integers(-(2**63), -2), st.sampled_from([-2, -5, -(2**31), -(2**63), 2**63 - 1, 2**32, 2**31])))
def test_limits_legacy_signed_values_round_trip(candidate: Candidate, value: int) -> None:
    """Up to 3.13.6 and in 3.14.0 any value in the signed 64-bit range is accepted as a soft limit
    under an unlimited hard limit and reads back as the C value, seen signed, that CPython stores
    for it (the value itself on Linux, where RLIM_INFINITY is all ones)."""
    limits = limit_range(candidate.info)
    with candidate.isolated() as child:
        number = _fsize_under_unlimited_hard(candidate, child)
        outcome = child.call("setrlimit", number, (value, candidate.info.infinity))
        assert outcome.returned, f"setrlimit(FSIZE, ({value}, RLIM_INFINITY)) {outcome}"
        assert child.getrlimit(number) == (limits.shown(value), candidate.info.infinity)


def _beyond_signed(candidate: Candidate, value: int, position: str) -> None:
    number = candidate.info.resource("RLIMIT_FSIZE")
    pair = (value, candidate.info.infinity) if position == "soft" else (0, value)
    with candidate.isolated() as child:
        outcome = _call_unchanged(child, number, pair)
    assert outcome.raised("OverflowError"), f"setrlimit(FSIZE, {pair}) {outcome}"


@rule("LIMITS.LEGACY_SIGNED_RANGE")
@pytest.mark.parametrize("position", ["soft", "hard"])
@given(value=st.one_of(st.integers(2**63, 2**64 - 1), st.integers(-(2**64), -(2**63) - 1)))
def test_limits_legacy_beyond_signed_range(candidate: Candidate, value: int, position: str) -> None:
    """Up to 3.13.6 and in 3.14.0 a value outside the signed 64-bit range raises OverflowError,
    as the soft or the hard limit."""
    _beyond_signed(candidate, value, position)


@rule("LIMITS.LEGACY_SIGNED_RANGE")
@pytest.mark.parametrize("value", [2**63, 2**63 + 1, 2**64 - 2, 2**64 - 1, -(2**63) - 1])
@pytest.mark.parametrize("position", ["soft", "hard"])
def test_limits_legacy_signed_range_edges(candidate: Candidate, value: int, position: str) -> None:
    """The first values beyond the signed 64-bit range, at both ends, raise OverflowError as the
    soft or the hard limit."""
    _beyond_signed(candidate, value, position)


def _unsigned_values(max_finite: int) -> st.SearchStrategy[int]:
    """Finite rlim_t values, biased to where signed and unsigned readings part."""
    edges = [v for v in (0, 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 2, max_finite) if v <= max_finite]
    return st.one_of(st.sampled_from(edges), st.integers(2**63, max_finite), st.integers(0, max_finite))


@rule("LIMITS.UNSIGNED_RANGE")
@given(data=st.data(), position=st.sampled_from(["soft", "hard"]))
def test_limits_unsigned_values_round_trip(candidate: Candidate, data: st.DataObject, position: str) -> None:
    """From 3.13.7 and 3.14.1 every finite rlim_t value is accepted as a soft or hard limit under an
    unlimited hard limit, and reads back as exactly that non-negative int (2**63 and above too)."""
    infinity = candidate.info.infinity
    value = data.draw(_unsigned_values(limit_range(candidate.info).max_finite), label="value")
    with candidate.isolated() as child:
        number = _fsize_under_unlimited_hard(candidate, child)
        pair = (value, infinity) if position == "soft" else (0, value)
        outcome = child.call("setrlimit", number, pair)
        assert outcome.returned, f"setrlimit(FSIZE, {pair}) {outcome}"
        assert child.getrlimit(number) == pair


@rule("LIMITS.UNSIGNED_RANGE")
@given(
    value=st.one_of(st.sampled_from([2**64, 2**64 + 1, 2**65, 10**30]), st.integers(2**64, 2**100)),
    position=st.sampled_from([0, 1]),
)
def test_limits_unsigned_beyond_rlim_t(candidate: Candidate, value: int, position: int) -> None:
    """A value above the largest rlim_t raises OverflowError and changes nothing."""
    limits = limit_range(candidate.info)
    assume(value > limits.rlim_max)
    with candidate.isolated() as child:
        pair = (value, candidate.info.infinity) if position == 0 else (0, value)
        outcome = _call_unchanged(child, _core(candidate), pair)
    assert outcome.raised("OverflowError"), f"setrlimit(CORE, {pair}) {outcome}"


@rule("LIMITS.NEGATIVE_REJECTED")
@given(
    value=st.one_of(st.sampled_from([-2, -5, -(2**31), -(2**32), -(2**63), -(2**63) - 1, -(2**64)]), st.integers(-(2**100), -1)),
    position=st.sampled_from([0, 1]),
)
def test_limits_negative_rejected(candidate: Candidate, value: int, position: int) -> None:
    """From 3.13.7 and 3.14.1 a negative limit raises ValueError and changes nothing, whatever its
    magnitude, unless it is the negative spelling of RLIM_INFINITY."""
    assume(value != limit_range(candidate.info).negative_alias)
    with candidate.isolated() as child:
        _, hard = child.getrlimit(_core(candidate))
        pair = (value, hard) if position == 0 else (0, value)
        outcome = _call_unchanged(child, _core(candidate), pair)
    assert outcome.raised("ValueError"), f"setrlimit(CORE, {pair}) {outcome}"


def _negative_alias(candidate: Candidate) -> int:
    alias = limit_range(candidate.info).negative_alias
    if alias is None:
        not_applicable(f"RLIM_INFINITY on {candidate.info.platform_id} has no negative spelling")
    return alias


@rule("LIMITS.NEGATIVE_INFINITY_ALIAS")
@pytest.mark.parametrize("position", ["soft", "hard"])
def test_limits_negative_infinity_alias(candidate: Candidate, position: str) -> None:
    """The negative spelling of RLIM_INFINITY (-1 on Linux) still means unlimited; before 3.15 it
    warns about nothing."""
    alias, infinity = _negative_alias(candidate), candidate.info.infinity
    with candidate.isolated() as child:
        number = _fsize_under_unlimited_hard(candidate, child)
        pair, expected = ((alias, infinity), (infinity, infinity)) if position == "soft" else ((0, alias), (0, infinity))
        outcome = child.call("setrlimit", number, pair)
        assert outcome.returned, f"setrlimit(FSIZE, {pair}) {outcome}"
        assert child.getrlimit(number) == expected
    if not limit_range(candidate.info).alias_warns:
        assert not outcome.warnings, f"setrlimit(FSIZE, {pair}) warned: {outcome.warnings}"


@rule("LIMITS.NEGATIVE_INFINITY_DEPRECATED")
@pytest.mark.parametrize("function", ["setrlimit", "prlimit"])
def test_limits_negative_infinity_deprecated(candidate: Candidate, function: str) -> None:
    """From 3.15 the negative spelling of RLIM_INFINITY warns DeprecationWarning at the caller
    (here the agent's calls.py, whose perform_call calls it) and still sets unlimited."""
    alias, infinity = _negative_alias(candidate), candidate.info.infinity
    if function == "prlimit" and "prlimit" not in candidate.info.names:
        not_applicable("the module has no prlimit on this platform")
    with candidate.isolated() as child:
        number = _fsize_under_unlimited_hard(candidate, child)
        args = (number, (alias, infinity)) if function == "setrlimit" else (0, number, (alias, infinity))
        outcome = child.call(function, *args)
        assert outcome.returned, f"{function}{args} {outcome}"
        assert child.getrlimit(number) == (infinity, infinity)
    deprecations = [w for w in outcome.warnings if w[0] == "DeprecationWarning" and "RLIM_INFINITY" in w[1]]
    assert len(deprecations) == 1, f"{function}{args} warnings: {outcome.warnings}"
    assert deprecations[0][2] == "calls.py", f"the warning points at {deprecations[0][2]}, not at the caller (calls.py)"
