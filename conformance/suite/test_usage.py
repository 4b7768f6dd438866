"""USAGE.*: getrusage and its result."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rckit.conformance.agent.codec import RUSAGE_FIELDS
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.sessions import Session
from rckit.conformance.harness.values import Foreign, decode
from rckit.conformance.support import strategies as S
from rckit.conformance.support.applicability import not_applicable, require

rule = pytest.mark.rule
FIELDS = RUSAGE_FIELDS  # the 16 fields of struct_rusage, in order
#: Fields that only grow for a live process (ru_maxrss is a peak, so it never shrinks either).
COUNTERS = ("ru_utime", "ru_stime", "ru_maxrss", "ru_minflt", "ru_majflt", "ru_nswap", "ru_inblock",
            "ru_oublock", "ru_msgsnd", "ru_msgrcv", "ru_nsignals", "ru_nvcsw", "ru_nivcsw")  # fmt: skip


def _usage(target: Candidate | Session, who: int) -> Foreign:
    outcome = target.call("getrusage", who)
    assert outcome.returned, f"getrusage({who}) {outcome}"
    value = outcome.value
    if isinstance(value, tuple):  # before 2.3 the result is a plain tuple
        return Foreign("builtins.tuple", repr(value), value, {})
    assert isinstance(value, Foreign) and value.items is not None, f"getrusage({who}) {outcome}"
    return value


def _who(candidate: Candidate, name: str) -> int:
    return candidate.info.constants[name]


def _cpu(value: Foreign) -> float:
    return float(value.items[0] + value.items[1]) if value.items else 0.0


def _decoded(raw: dict[str, Any]) -> Foreign:
    value = decode(raw)
    assert isinstance(value, Foreign) and value.items is not None, f"not a rusage result: {value!r}"
    return value


@rule("USAGE.SIXTEEN_ITEMS")
@pytest.mark.parametrize("who", ["RUSAGE_SELF", "RUSAGE_CHILDREN"])
def test_usage_sixteen_items(candidate: Candidate, who: str) -> None:
    """The result has 16 items."""
    value = _usage(candidate, _who(candidate, who))
    assert value.items is not None and len(value.items) == 16, f"{len(value.items or ())} items"


@rule("USAGE.SIXTEEN_ITEMS")
def test_usage_tuple_operations(candidate: Candidate) -> None:
    """len, indexing, negative indexing, slicing, iteration and comparison work as on a tuple."""
    with candidate.isolated() as child:
        checks = child.act("tuple_operations")
    checks.pop("exact_tuple")
    broken = {name: ok for name, ok in checks.items() if ok is not True and name != "fields_match_items"}
    assert not broken, f"tuple operations that failed: {broken}"


@rule("USAGE.PLAIN_TUPLE")
def test_usage_plain_tuple(candidate: Candidate) -> None:
    """Before 2.3 the result is a plain tuple."""
    with candidate.isolated() as child:
        assert child.act("tuple_operations")["exact_tuple"] is True


@rule("USAGE.FIELD_NAMES")
def test_usage_field_names(candidate: Candidate) -> None:
    """Each of the 16 items is readable under its documented name, in the documented order."""
    value = _usage(candidate, _who(candidate, "RUSAGE_SELF"))
    missing = [name for name in FIELDS if name not in value.fields]
    assert not missing, f"attributes missing: {missing}"
    with candidate.isolated() as child:
        assert child.act("tuple_operations")["fields_match_items"] is True, "an attribute differs from its item"


@rule("USAGE.REPR")
@pytest.mark.parametrize("who", ["RUSAGE_SELF", "RUSAGE_CHILDREN"])
def test_usage_repr_names_every_field(candidate: Candidate, who: str) -> None:
    """repr() works and shows struct_rusage(name=value, ...) for all 16 fields, in order."""
    value = _usage(candidate, _who(candidate, who))
    assert value.items is not None and len(value.items) == 16, f"getrusage returned {value.repr}"
    body = ", ".join(f"{name}={item!r}" for name, item in zip(FIELDS, value.items, strict=True))
    assert value.repr.endswith(f"struct_rusage({body})"), f"repr is {value.repr}"


@rule("USAGE.FIELD_TYPES")
@pytest.mark.parametrize("who", ["RUSAGE_SELF", "RUSAGE_CHILDREN"])
def test_usage_field_types(candidate: Candidate, who: str) -> None:
    """Items 0 and 1 are floats, the other fourteen ints."""
    items = _usage(candidate, _who(candidate, who)).items or ()
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["float", "float"] + ["int"] * 14, kinds


@rule("USAGE.NON_NEGATIVE")
@pytest.mark.parametrize("who", ["RUSAGE_SELF", "RUSAGE_CHILDREN"])
def test_usage_non_negative(candidate: Candidate, who: str) -> None:
    """No item is negative."""
    items = _usage(candidate, _who(candidate, who)).items or ()
    negative = {FIELDS[i]: v for i, v in enumerate(items) if isinstance(v, (int, float)) and v < 0}
    assert not negative, negative


@rule("USAGE.IMMUTABLE")
def test_usage_immutable(candidate: Candidate) -> None:
    """Assigning an item or a field, or deleting a field, raises and changes nothing."""
    with candidate.isolated() as child:
        facts = child.act("inspect_result_type")
    for attempt in ("setattr_field", "setitem", "delattr_field"):
        assert facts[attempt] is not None, f"{attempt} succeeded on {facts['type']}"
    after = _decoded(facts["unchanged"])
    assert after.items is not None and after.fields["ru_utime"] == after.items[0] != 1.0, f"the value changed: {after.repr}"


@rule("USAGE.IMMUTABLE")
@pytest.mark.parametrize("attempt", ["setattr_other", "delattr_other"])
def test_usage_unknown_attribute_is_attribute_error(candidate: Candidate, attempt: str) -> None:
    """Setting or deleting an attribute the result does not have raises AttributeError, as for any
    object without a __dict__ (so hasattr-style code and AttributeError handlers work)."""
    with candidate.isolated() as child:
        facts = child.act("inspect_result_type")
    assert str(facts[attempt]).startswith("AttributeError:"), f"{attempt}: {facts[attempt]}"


@rule("USAGE.PICKLE")
def test_usage_pickle(candidate: Candidate) -> None:
    """pickle round-trips the result to an equal value of the same type."""
    with candidate.isolated() as child:
        facts = child.act("inspect_result_type")
    assert "pickle_error" not in facts, facts.get("pickle_error")
    assert facts["pickle_equal"] and facts["pickle_same_type"], facts


@rule("USAGE.SELF_MONOTONIC")
@given(work=st.lists(st.sampled_from(["spin", "touch", "idle"]), min_size=1, max_size=4))
def test_usage_self_monotonic(candidate: Candidate, work: list[str]) -> None:
    """Between calls, whatever the process does, no RUSAGE_SELF counter goes backwards."""
    self_who = _who(candidate, "RUSAGE_SELF")
    with candidate.isolated() as child:
        previous = _usage(child, self_who)
        for step in work:
            if step == "spin":
                child.act("spin", seconds=0.02)
            elif step == "touch":
                child.act("touch_memory", bytes=1 << 20)
            current = _usage(child, self_who)
            went_back = {n: (previous.fields[n], current.fields[n]) for n in COUNTERS if current.fields[n] < previous.fields[n]}
            assert not went_back, f"after {step}: {went_back}"
            previous = current


@rule("USAGE.SELF_MONOTONIC")
def test_usage_self_cpu_advances(candidate: Candidate) -> None:
    """0.3 s of computation shows up in ru_utime + ru_stime."""
    self_who = _who(candidate, "RUSAGE_SELF")
    with candidate.isolated() as child:
        before = _usage(child, self_who)
        burnt = child.act("spin", seconds=0.3)["cpu"]
        after = _usage(child, self_who)
    assert _cpu(after) - _cpu(before) >= 0.8 * burnt, (
        f"CPU time grew by {_cpu(after) - _cpu(before):.3f}s after {burnt:.3f}s of work"
    )


@rule("USAGE.SELF_ALL_THREADS")
def test_usage_self_counts_other_threads(candidate: Candidate) -> None:
    """CPU time spent by another thread appears in RUSAGE_SELF."""
    require(candidate, "threads")
    with candidate.isolated() as child:
        shots = child.act("thread_usage", seconds=0.3)
    grew = _cpu(_decoded(shots["after"]["self"])) - _cpu(_decoded(shots["before"]["self"]))
    assert grew >= 0.2, f"RUSAGE_SELF grew by {grew:.3f}s while another thread computed for 0.3s"


@rule("USAGE.THREAD_ONLY_CALLER")
def test_usage_thread_excludes_other_threads(candidate: Candidate) -> None:
    """CPU time spent by another thread does not appear in RUSAGE_THREAD of the caller."""
    if "RUSAGE_THREAD" not in candidate.info.constants:
        not_applicable("the module has no RUSAGE_THREAD")
    require(candidate, "threads")
    with candidate.isolated() as child:
        shots = child.act("thread_usage", seconds=0.3, who_thread=_who(candidate, "RUSAGE_THREAD"))
    grew_self = _cpu(_decoded(shots["after"]["self"])) - _cpu(_decoded(shots["before"]["self"]))
    grew_thread = _cpu(_decoded(shots["after"]["thread"])) - _cpu(_decoded(shots["before"]["thread"]))
    assert grew_self >= 0.2, f"RUSAGE_SELF grew by only {grew_self:.3f}s"
    assert grew_thread <= 0.1, f"RUSAGE_THREAD of the idle thread grew by {grew_thread:.3f}s"


@rule("USAGE.CHILDREN_WAITED")
def test_usage_children_counts_waited_children_only(candidate: Candidate) -> None:
    """A child's CPU time is absent from RUSAGE_CHILDREN until the child has been waited for."""
    with candidate.isolated() as child:
        shots = child.act("child_usage", seconds=0.3)
    before, unreaped, after = (_cpu(_decoded(shots[k])) for k in ("before", "unreaped", "after"))
    assert unreaped - before <= 0.05, f"a dead, unreaped child already counted: +{unreaped - before:.3f}s"
    assert after - before >= 0.2, f"a waited-for child's 0.3s counted as +{after - before:.3f}s"


@rule("USAGE.SELF_EXCLUDES_CHILDREN")
def test_usage_self_excludes_waited_children(candidate: Candidate) -> None:
    """A waited-for child's CPU time goes to RUSAGE_CHILDREN and is not added to RUSAGE_SELF."""
    with candidate.isolated() as child:
        shots = child.act("child_usage", seconds=0.3)
    children = _cpu(_decoded(shots["after"])) - _cpu(_decoded(shots["before"]))
    own = _cpu(_decoded(shots["self_after"])) - _cpu(_decoded(shots["self_before"]))
    assert children >= 0.2, f"a waited-for child's 0.3s counted in RUSAGE_CHILDREN as +{children:.3f}s"
    assert own <= 0.1, f"RUSAGE_SELF grew by {own:.3f}s while the process only waited for a child that used {children:.3f}s"


@rule("USAGE.MAXRSS_UNIT")
@given(megabytes=st.sampled_from([16, 48, 96]))
def test_usage_maxrss_unit(candidate: Candidate, megabytes: int) -> None:
    """After touching N MiB, ru_maxrss (in the platform's unit) agrees with the kernel's VmHWM."""
    info = candidate.info
    if info.target is None:
        not_applicable(f"platforms/ has no entry (so no ru_maxrss unit) for {info.platform_id}")
    unit = info.target.maxrss_unit
    if unit == 0:
        not_applicable(f"{info.platform_id} does not maintain ru_maxrss")
    with candidate.isolated() as child:
        # A process started by exec keeps the peak its process had before the exec (usage
        # survives execve; CLARIFY.MAXRSS_SURVIVES_EXEC), as a spawned session does its agent's,
        # while VmHWM counts only its own pages: touch enough to pass the inherited peak too.
        start = child.act("proc_status")
        if "VmHWM" not in start:
            not_applicable("no VmHWM in /proc/self/status to compare with")
        inherited = _usage(child, _who(candidate, "RUSAGE_SELF")).fields["ru_maxrss"] * unit
        beyond = max(0, inherited - int(start["VmHWM"].split()[0]) * 1024)
        child.act("touch_memory", bytes=(megabytes << 20) + beyond)
        status = child.act("proc_status")
        peak = _usage(child, _who(candidate, "RUSAGE_SELF")).fields["ru_maxrss"] * unit
    hwm = int(status["VmHWM"].split()[0]) * 1024
    assert peak >= megabytes << 20, f"ru_maxrss * {unit} = {peak} bytes after touching {megabytes} MiB"
    assert abs(peak - hwm) <= max(4 << 20, hwm // 10), f"ru_maxrss * {unit} = {peak} bytes, VmHWM = {hwm} bytes"


@rule("USAGE.INVALID_WHO")
@given(data=st.data())
def test_usage_invalid_who(candidate: Candidate, data: st.DataObject) -> None:
    """getrusage raises ValueError for a C int that is no RUSAGE_* value of the platform."""
    target = candidate.info.target
    valid = {v for n, v in (target.constants if target else candidate.info.constants).items() if n.startswith("RUSAGE_")}
    who = data.draw(
        st.integers(-(2**31), 2**31 - 1).filter(lambda w: w not in valid)
        | st.sampled_from([-2, 2, 3, 42, -5]).filter(lambda w: w not in valid),
        label="who",
    )
    outcome = candidate.call("getrusage", who)
    assert outcome.raised("ValueError"), f"getrusage({who}) {outcome}"


@rule("USAGE.INVALID_WHO")
@given(who=S.huge_ints())
def test_usage_huge_who(candidate: Candidate, who: int) -> None:
    """getrusage raises ValueError or OverflowError for a who no C int can hold."""
    outcome = candidate.call("getrusage", who)
    assert outcome.raised("ValueError", "OverflowError"), f"getrusage({who}) {outcome}"


@rule("USAGE.BOTH_IS_SELF_AND_CHILDREN")
def test_usage_both_counts_self_and_children(candidate: Candidate) -> None:
    """Where RUSAGE_BOTH exists, it counts the process and its waited-for children together."""
    if "RUSAGE_BOTH" not in candidate.info.constants:
        not_applicable("the module defines no RUSAGE_BOTH here (CLARIFY.RUSAGE_BOTH_ABSENT_ON_LINUX)")
    with candidate.isolated() as child:
        child.act("child_usage", seconds=0.3)
        own, children = _usage(child, _who(candidate, "RUSAGE_SELF")), _usage(child, _who(candidate, "RUSAGE_CHILDREN"))
        both = _usage(child, _who(candidate, "RUSAGE_BOTH"))
    assert _cpu(both) >= _cpu(own) + _cpu(children) - 0.002, (
        f"BOTH {_cpu(both):.3f}s < SELF {_cpu(own):.3f}s + CHILDREN {_cpu(children):.3f}s"
    )
    total, parts = both.items or (), [own.items or (), children.items or ()]
    for index in (6, 7, 14, 15):  # ru_minflt, ru_majflt, ru_nvcsw, ru_nivcsw
        assert total[index] >= parts[0][index] + parts[1][index], f"item {index}: {total} < {parts[0]} + {parts[1]}"


@rule("USAGE.WHO_CONSTANTS_ACCEPTED")
def test_usage_every_rusage_constant_accepted(candidate: Candidate) -> None:
    """Every RUSAGE_* the module defines is accepted by getrusage."""
    names = [n for n in candidate.info.constants if n.startswith("RUSAGE_")]
    assert {"RUSAGE_SELF", "RUSAGE_CHILDREN"} <= set(names), names
    for name in names:
        _usage(candidate, candidate.info.constants[name])


@rule("USAGE.WHO_TYPE")
@pytest.mark.parametrize("who", [*S.NOT_INTEGERS, -1.0], ids=repr)  # -1.0: RUSAGE_CHILDREN as a float
def test_usage_who_not_an_integer(candidate: Candidate, who: object) -> None:
    """A who that is not an integer raises TypeError; a float equal to RUSAGE_SELF is not taken
    for it."""
    outcome = candidate.call("getrusage", who)
    assert outcome.raised("TypeError"), f"getrusage({who!r}) {outcome}"
