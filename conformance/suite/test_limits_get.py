"""LIMITS.* for reading limits and for the resource argument (safe to run in the candidate itself)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.values import IntSubclass
from rckit.conformance.support import strategies as S
from rckit.conformance.support.applicability import not_applicable
from rckit.conformance.support.proc_limits import kernel_limits

rule = pytest.mark.rule


def _resources(candidate: Candidate) -> range:
    return range(candidate.info.nlimits)


@rule("LIMITS.GET_PAIR")
def test_limits_get_pair(candidate: Candidate) -> None:
    """getrlimit returns a tuple of exactly two ints for every resource number."""
    for number in _resources(candidate):
        outcome = candidate.call("getrlimit", number)
        assert outcome.returned, f"getrlimit({number}) {outcome}"
        value = outcome.value
        assert type(value) is tuple and len(value) == 2, f"getrlimit({number}) {outcome}"
        assert all(type(v) is int for v in value), f"getrlimit({number}) {outcome}"


@rule("LIMITS.SOFT_LE_HARD")
def test_limits_soft_le_hard(candidate: Candidate) -> None:
    """For every resource, soft <= hard with RLIM_INFINITY largest."""
    infinity = candidate.info.infinity
    for number in _resources(candidate):
        soft, hard = candidate.call("getrlimit", number).value
        assert S.rank(soft, infinity) <= S.rank(hard, infinity), f"resource {number}: ({soft}, {hard})"


@rule("LIMITS.GET_PAIR", "LIMITS.INFINITY_MEANS_UNLIMITED")
def test_limits_get_agrees_with_kernel(candidate: Candidate) -> None:
    """For every resource, getrlimit reports what the kernel's /proc/self/limits reports, with
    RLIM_INFINITY where the kernel says unlimited."""
    with candidate.isolated() as child:
        reply = child.act("proc_limits", pid="self")
        if not reply["available"]:
            not_applicable("the candidate's process has no /proc/self/limits")
        kernel = kernel_limits(candidate.info, reply)
        assert len(kernel) >= min(candidate.info.nlimits, 16), f"/proc/self/limits named too few resources: {reply}"
        for number, expected in sorted(kernel.items()):
            outcome = child.call("getrlimit", number)
            assert outcome.returned and outcome.value == expected, f"resource {number}: kernel {expected}, getrlimit {outcome}"


@rule("LIMITS.INVALID_RESOURCE")
@given(data=st.data())
def test_limits_invalid_resource_get(candidate: Candidate, data: st.DataObject) -> None:
    """getrlimit raises ValueError for an int that fits a C int but names no resource."""
    number = data.draw(S.invalid_resources(candidate.info.nlimits), label="resource")
    outcome = candidate.call("getrlimit", number)
    assert outcome.raised("ValueError"), f"getrlimit({number}) {outcome}"


@rule("LIMITS.INVALID_RESOURCE")
@given(number=S.huge_ints())
def test_limits_huge_resource_get(candidate: Candidate, number: int) -> None:
    """getrlimit raises ValueError or OverflowError for an int no C int can hold."""
    outcome = candidate.call("getrlimit", number)
    assert outcome.raised("ValueError", "OverflowError"), f"getrlimit({number}) {outcome}"


@rule("LIMITS.INVALID_RESOURCE")
@given(data=st.data())
def test_limits_invalid_resource_set(candidate: Candidate, data: st.DataObject) -> None:
    """setrlimit raises ValueError for an invalid resource, whatever the limits argument."""
    number = data.draw(S.invalid_resources(candidate.info.nlimits), label="resource")
    limits = data.draw(st.one_of(st.just((0, 0)), S.junk()), label="limits")
    with candidate.isolated() as child:
        outcome = child.call("setrlimit", number, limits)
    assert outcome.raised("ValueError"), f"setrlimit({number}, {limits!r}) {outcome}"


@rule("LIMITS.RESOURCE_TYPE")
@given(value=st.one_of(S.junk(), st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=15)))
def test_limits_resource_type(candidate: Candidate, value: object) -> None:
    """A resource that is not an integer (str, float, None, list, object) raises TypeError."""
    outcome = candidate.call("getrlimit", value)
    # A junk object whose __index__ raises RuntimeError propagates it; that is not a coercion.
    assert outcome.raised("TypeError", "RuntimeError"), f"getrlimit({value!r}) {outcome}"


@rule("LIMITS.RESOURCE_INT_FORMS")
def test_limits_resource_int_forms_read(candidate: Candidate) -> None:
    """Every resource number given as an int subclass (whose __index__ and __int__ say 99) or as a
    bool reads the limits of that number."""
    for number in range(candidate.info.nlimits):
        expected = candidate.call("getrlimit", number)
        outcome = candidate.call("getrlimit", IntSubclass(number))
        assert outcome.returned and outcome.value == expected.value, f"getrlimit(int subclass of {number}) {outcome}; {expected}"
    for flag in (False, True):
        outcome = candidate.call("getrlimit", flag)
        assert outcome.returned and outcome.value == candidate.call("getrlimit", int(flag)).value, f"getrlimit({flag}) {outcome}"


@rule("LIMITS.RESOURCE_INT_FORMS")
@pytest.mark.parametrize("form", ["int-subclass", "bool"])
def test_limits_resource_int_forms_set(candidate: Candidate, form: str) -> None:
    """setrlimit with the resource as an int subclass (RLIMIT_CORE) or as True (resource 1)
    sets the resource of that number and no other."""
    number = candidate.info.resource("RLIMIT_CORE") if form == "int-subclass" else 1
    argument = IntSubclass(number) if form == "int-subclass" else True
    with candidate.isolated() as child:
        hard = child.getrlimit(number)[1]
        outcome = child.call("setrlimit", argument, (0, hard))
        assert outcome.returned and child.getrlimit(number) == (0, hard), f"setrlimit({argument!r}, (0, hard)) {outcome}"
