"""PRLIMIT.*: prlimit (Linux, 3.4+). Limits are only ever set on disposable processes: the child
session itself or a sleeper it forked."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.info import Info
from rckit.conformance.harness.sessions import Session
from rckit.conformance.harness.values import IndexOnly, IntSubclass, Outcome, Uncomparable
from rckit.conformance.support import strategies as S
from rckit.conformance.support.applicability import not_applicable
from rckit.conformance.support.limit_range import limit_range
from rckit.conformance.support.proc_limits import kernel_limits
from rckit.spec import load

rule = pytest.mark.rule


def _require_prlimit(candidate: Candidate) -> None:
    if "prlimit" not in candidate.info.names:
        pytest.fail("the module has no prlimit although the rule applies (Linux, Python 3.4+)")


def _core(candidate: Candidate) -> int:
    return candidate.info.resource("RLIMIT_CORE")


def _kernel_limits(child: Session, pid: int | str, number: int, info: Info) -> tuple[int, int]:
    reply = child.act("proc_limits", pid=pid)
    if not reply["available"]:
        not_applicable("no /proc/<pid>/limits to check the target process with")
    return kernel_limits(info, reply)[number]


@rule("PRLIMIT.SELF")
@given(data=st.data())
def test_prlimit_self(candidate: Candidate, data: st.DataObject) -> None:
    """prlimit(0, r) and prlimit(own pid, r) equal getrlimit(r)."""
    _require_prlimit(candidate)
    number = data.draw(st.integers(0, candidate.info.nlimits - 1), label="resource")
    expected = candidate.call("getrlimit", number)
    for pid in (0, candidate.info.pid):
        outcome = candidate.call("prlimit", pid, number)
        assert outcome.returned and outcome.value == expected.value, f"prlimit({pid}, {number}) {outcome}, getrlimit {expected}"


@rule("PRLIMIT.SELF")
@pytest.mark.parametrize("edge", S.LIMIT_EDGES)
@pytest.mark.parametrize("position", ["soft", "hard"])
def test_prlimit_self_reads_edge_values_as_getrlimit(candidate: Candidate, edge: int, position: str) -> None:
    """After setrlimit stored a value where conversions part (as the soft or the hard limit), a
    read through prlimit(0, r) shows it as getrlimit(r) does."""
    _require_prlimit(candidate)
    number = candidate.info.resource("RLIMIT_FSIZE")
    with candidate.isolated() as child:
        hard = child.getrlimit(number)[1]
        limits = (edge, hard) if position == "soft" else (0, edge)
        if not child.call("setrlimit", number, limits).returned:
            not_applicable(f"setrlimit(FSIZE, {limits}) is refused here")
        expected = child.getrlimit(number)
        outcome = child.call("prlimit", 0, number)
        assert outcome.returned and outcome.value == expected, (
            f"prlimit(0, FSIZE) {outcome} after setting {limits}; getrlimit {expected}"
        )


@rule("PRLIMIT.PID_TYPE")
@given(
    pid=st.one_of(
        st.floats(allow_nan=False),
        st.text(max_size=3),
        st.none(),
        st.binary(max_size=2),
        st.lists(st.integers(0, 3), max_size=2),
        st.sampled_from(S.NOT_INTEGERS),
    )
)
def test_prlimit_pid_not_an_integer(candidate: Candidate, pid: object) -> None:
    """A pid that is not an integer raises TypeError, with or without limits; a float is not
    truncated to a process number."""
    _pid_not_an_integer(candidate, pid)


@rule("PRLIMIT.PID_TYPE")
@pytest.mark.parametrize("pid", S.NOT_INTEGERS, ids=repr)
def test_prlimit_pid_not_an_integer_each_kind(candidate: Candidate, pid: object) -> None:
    """Each kind of non-integer pid (a float equal to 0, a string of digits, None, bytes, a list,
    an object, one whose == raises) raises TypeError."""
    _pid_not_an_integer(candidate, pid)


def _pid_not_an_integer(candidate: Candidate, pid: object) -> None:
    _require_prlimit(candidate)
    outcome = candidate.call("prlimit", pid, _core(candidate))
    assert outcome.raised("TypeError"), f"prlimit({pid!r}, CORE) {outcome}"
    if isinstance(pid, float) and int(pid) != 0:
        return  # the agent refuses to send new limits to a pid that could be read as another process's
    with candidate.isolated() as child:
        before = child.getrlimit(_core(candidate))
        outcome = child.call("prlimit", pid, _core(candidate), (0, 0))
        assert outcome.raised("TypeError"), f"prlimit({pid!r}, CORE, (0, 0)) {outcome}"
        assert child.getrlimit(_core(candidate)) == before


@rule("PRLIMIT.PID_TYPE")
@pytest.mark.parametrize("pid", [False, IntSubclass(0)], ids=["False", "int-subclass"])
def test_prlimit_pid_zero_in_any_int_form(candidate: Candidate, pid: object) -> None:
    """0 as False or as an int subclass (whose __index__ says otherwise) names the caller."""
    _require_prlimit(candidate)
    number = _core(candidate)
    outcome = candidate.call("prlimit", pid, number)
    expected = candidate.call("getrlimit", number)
    assert outcome.returned and outcome.value == expected.value, f"prlimit({pid!r}, CORE) {outcome}; getrlimit {expected}"


@rule("PRLIMIT.RETURNS_OLD")
@pytest.mark.parametrize("group", S.GROUPS)
@given(data=st.data())
def test_prlimit_returns_old_limits(candidate: Candidate, group: str, data: st.DataObject) -> None:
    """prlimit(0, r, new) sets new and returns what was there before."""
    _require_prlimit(candidate)
    info = candidate.info
    name, number = data.draw(S.settable_resources(info, group), label="resource")
    with candidate.isolated() as child:
        old = child.getrlimit(number)
        new = data.draw(S.limit_pair_under(name, old[1], info.infinity, limit_range(info).max_finite), label="limits")
        _prlimit_returns_old(child, name, number, new, old)


def _prlimit_returns_old(child: Session, name: str, number: int, limits: tuple[int, int] | None, old: tuple[int, int]) -> None:
    """prlimit(0, number, limits) returns ``old``, the limits before the call, and leaves
    ``limits`` set (None: only reads, and leaves ``old``)."""
    outcome = child.call("prlimit", 0, number, limits)
    assert outcome.returned and outcome.value == old, f"prlimit(0, {name}, {limits}) {outcome}; old was {old}"
    assert child.getrlimit(number) == (old if limits is None else limits)


@rule("PRLIMIT.OTHER_PROCESS")
def test_prlimit_acts_on_named_process(candidate: Candidate) -> None:
    """Limits set with prlimit(pid, ...) on a child process are that child's, not the caller's."""
    _require_prlimit(candidate)
    info, number = candidate.info, _core(candidate)
    with candidate.isolated() as child:
        mine = child.getrlimit(number)
        sleeper = child.act("spawn_sleeper")["pid"]
        theirs = child.call("prlimit", sleeper, number)
        assert theirs.returned, f"prlimit(sleeper, CORE) {theirs}"
        new = (0, 0)  # lowering is always allowed
        outcome = child.call("prlimit", sleeper, number, new)
        assert outcome.returned and outcome.value == theirs.value, f"prlimit(sleeper, CORE, {new}) {outcome}"
        assert child.call("prlimit", sleeper, number).value == new
        assert _kernel_limits(child, sleeper, number, info) == new, "the kernel disagrees"
        assert child.getrlimit(number) == mine, "prlimit on another pid changed the caller"


@rule("PRLIMIT.NO_SUCH_PROCESS")
@given(data=st.data())
def test_prlimit_no_such_process(candidate: Candidate, data: st.DataObject) -> None:
    """A pid no process can have raises ProcessLookupError (a pid_t that cannot hold the number
    may raise OverflowError instead)."""
    _require_prlimit(candidate)
    pid_max = candidate.info.pid_max or 4194304
    pid = data.draw(
        st.one_of(st.integers(pid_max, 2**31 - 1), st.integers(-(2**31), -1), st.sampled_from([-1, pid_max, 2**31 - 1])),
        label="pid",
    )
    outcome = candidate.call("prlimit", pid, _core(candidate))
    assert outcome.raised("ProcessLookupError"), f"prlimit({pid}, CORE) {outcome}"
    assert outcome.exception is not None and outcome.exception.is_module_error, (
        "ProcessLookupError must be an instance of `error`"
    )


@rule("PRLIMIT.NO_SUCH_PROCESS")
@given(pid=S.huge_ints())
def test_prlimit_pid_beyond_pid_t(candidate: Candidate, pid: int) -> None:
    """A pid beyond pid_t raises ProcessLookupError or OverflowError; it never names another process."""
    _require_prlimit(candidate)
    outcome = candidate.call("prlimit", pid, _core(candidate))
    assert outcome.raised("ProcessLookupError", "OverflowError"), f"prlimit({pid}, CORE) {outcome}"


@rule("PRLIMIT.PERMISSION")
def test_prlimit_permission_raise_hard(candidate: Candidate) -> None:
    """Unprivileged, raising a hard limit with prlimit raises PermissionError (not ValueError)."""
    _require_prlimit(candidate)
    number = _core(candidate)
    with candidate.isolated(unprivileged=True) as child:
        soft, hard = child.getrlimit(number)
        if hard == candidate.info.infinity:
            assert child.call("setrlimit", number, (0, 1000)).returned
            soft, hard = 0, 1000
        outcome = child.call("prlimit", 0, number, (soft, hard + 1))
    assert outcome.raised("PermissionError"), f"prlimit(0, CORE, hard + 1) unprivileged: {outcome}"


@rule("PRLIMIT.PERMISSION")
def test_prlimit_permission_other_user(candidate: Candidate) -> None:
    """Reading the limits of another user's process without CAP_SYS_RESOURCE raises PermissionError."""
    _require_prlimit(candidate)
    number = _core(candidate)
    with candidate.isolated() as child:
        if candidate.info.euid == 0:
            target = child.act("spawn_sleeper")["pid"]  # stays root
            child.act("drop_privileges")
        elif "Uid:\t0" in Path("/proc/1/status").read_text(errors="replace") if Path("/proc/1/status").exists() else False:
            target = 1
        else:
            not_applicable("no process of another user to ask about")
        outcome = child.call("prlimit", target, number)
    assert outcome.raised("PermissionError"), f"prlimit(pid of another user, CORE) {outcome}"


@rule("PRLIMIT.SAME_CHECKS")
@given(data=st.data())
def test_prlimit_invalid_resource(candidate: Candidate, data: st.DataObject) -> None:
    """An invalid resource raises ValueError, with or without limits."""
    _require_prlimit(candidate)
    number = data.draw(S.invalid_resources(candidate.info.nlimits), label="resource")
    outcome = candidate.call("prlimit", 0, number)
    assert outcome.raised("ValueError"), f"prlimit(0, {number}) {outcome}"
    with candidate.isolated() as child:
        outcome = child.call("prlimit", 0, number, (0, 0))
    assert outcome.raised("ValueError"), f"prlimit(0, {number}, (0, 0)) {outcome}"


@rule("PRLIMIT.SAME_CHECKS")
@pytest.mark.parametrize(
    ("limits", "error"),
    [((10, 5), "ValueError"), ((1,), "ValueError"), ((1, 2, 3), "ValueError"), (5, "TypeError")],
    ids=["soft>hard", "length 1", "length 3", "int"],
)
def test_prlimit_malformed_limits(candidate: Candidate, limits: object, error: str) -> None:
    """Limits that setrlimit rejects, prlimit rejects with the same exception, changing nothing."""
    _require_prlimit(candidate)
    number = _core(candidate)
    with candidate.isolated() as child:
        before = child.getrlimit(number)
        if limits == (10, 5) and before[1] != candidate.info.infinity and before[1] < 10:
            not_applicable("the hard CORE limit is below 10")
        outcome = child.call("prlimit", 0, number, limits)
        assert outcome.raised(error), f"prlimit(0, CORE, {limits!r}) {outcome}"
        assert child.getrlimit(number) == before


def _seen(outcome: Outcome) -> tuple[object, ...]:
    """What a caller can tell apart of an outcome without reading messages: returned or raised,
    the exception's type, and the categories of the warnings."""
    raised = outcome.exception.type if outcome.exception is not None else None
    return (outcome.kind, raised, tuple(sorted({w[0] for w in outcome.warnings})))


@rule("PRLIMIT.SAME_CHECKS")
@given(data=st.data())
def test_prlimit_reads_any_resource_as_getrlimit(candidate: Candidate, data: st.DataObject) -> None:
    """prlimit(0, r) accepts and rejects any resource argument as getrlimit(r) does (an int
    subclass, __index__, a bool, a bad number, junk): the same result or the same exception type."""
    _require_prlimit(candidate)
    _prlimit_reads_as_getrlimit(candidate, data.draw(S.resource_arguments(candidate.info.nlimits), label="resource"))


#: Resource arguments where conversions part: each end of C int, 64-bit values, the first invalid
#: numbers, every integer form of 0, and things that are not integers.
EDGE_RESOURCES = (-1, -(2**31), -(2**31) - 1, 2**31 - 1, 2**31, 2**63, -(2**63) - 1, 2**64, 10**30,
                  False, True, IntSubclass(0), IndexOnly(0), 1.5, "0", None, Uncomparable())  # fmt: skip


@rule("PRLIMIT.SAME_CHECKS")
@pytest.mark.parametrize("resource", EDGE_RESOURCES, ids=repr)
def test_prlimit_reads_edge_resources_as_getrlimit(candidate: Candidate, resource: object) -> None:
    """prlimit(0, r) and getrlimit(r) agree at every edge of the resource's conversion (and for
    the first number past the last resource): the same result or the same exception type."""
    _require_prlimit(candidate)
    for value in (resource, candidate.info.nlimits) if resource == -1 else (resource,):
        _prlimit_reads_as_getrlimit(candidate, value)


def _prlimit_reads_as_getrlimit(candidate: Candidate, resource: object) -> None:
    """prlimit(0, resource) returns what getrlimit(resource) returns, or raises the same type."""
    expected = candidate.call("getrlimit", resource)
    outcome = candidate.call("prlimit", 0, resource)
    assert _seen(outcome) == _seen(expected) and outcome.value == expected.value, (
        f"prlimit(0, {resource!r}) {outcome}, getrlimit {expected}"
    )


def _prlimit_as_setrlimit(candidate: Candidate, number: int, limits: object) -> None:
    """prlimit(0, number, limits) and setrlimit(number, limits), each in a fresh child: both
    succeed or both raise the same exception type, they warn the same categories and leave the
    same limits, and a successful prlimit returns the limits that were there before."""
    with candidate.isolated() as child:
        before = child.getrlimit(number)
        by_setrlimit = child.call("setrlimit", number, limits)
        after_setrlimit = child.getrlimit(number)
    with candidate.isolated() as child:
        assert child.getrlimit(number) == before, "two fresh children started with other limits"
        by_prlimit = child.call("prlimit", 0, number, limits)
        after_prlimit = child.getrlimit(number)
    call = f"prlimit(0, {number}, {limits!r})"
    assert _seen(by_prlimit) == _seen(by_setrlimit), f"{call} {by_prlimit}, setrlimit {by_setrlimit}"
    assert after_prlimit == after_setrlimit, f"{call} left {after_prlimit}, setrlimit {after_setrlimit}"
    if by_prlimit.returned:
        assert by_prlimit.value == before, f"{call} returned {by_prlimit}, not the old {before}"


@rule("PRLIMIT.SAME_CHECKS")
@pytest.mark.parametrize("edge", S.LIMIT_EDGES)
@pytest.mark.parametrize("position", ["soft", "hard"])
@pytest.mark.parametrize("form", ["int", "index"])
def test_prlimit_sets_edge_values_as_setrlimit(candidate: Candidate, edge: int, position: str, form: str) -> None:
    """Every value where conversions part (signed and unsigned 32- and 64-bit edges, both signs),
    as a plain int or through __index__, as the soft limit under the current hard one or as the
    hard limit over a soft 0, does the same through prlimit as through setrlimit."""
    _require_prlimit(candidate)
    number = candidate.info.resource("RLIMIT_FSIZE")
    hard = candidate.call("getrlimit", number).value[1]
    value = edge if form == "int" else IndexOnly(edge)
    _prlimit_as_setrlimit(candidate, number, (value, hard) if position == "soft" else (0, value))


@rule("PRLIMIT.SAME_CHECKS")
def test_prlimit_limits_none_as_setrlimit(candidate: Candidate) -> None:
    """Before 3.12, where None does not yet mean "only read" (PRLIMIT.LIMITS_NONE), limits=None
    has setrlimit's meaning: prlimit raises what setrlimit(r, None) raises."""
    _require_prlimit(candidate)
    reads = load().rules["PRLIMIT.LIMITS_NONE"]
    if reads.holds_for_version(candidate.info.version):
        not_applicable(f"prlimit(pid, r, None) only reads on Python {reads.versions} (PRLIMIT.LIMITS_NONE)")
    _prlimit_as_setrlimit(candidate, candidate.info.resource("RLIMIT_CORE"), None)


@rule("PRLIMIT.SAME_CHECKS")
@given(data=st.data(), name=st.sampled_from(["RLIMIT_FSIZE", "RLIMIT_CORE"]))
def test_prlimit_sets_any_limits_as_setrlimit(candidate: Candidate, data: st.DataObject, name: str) -> None:
    """prlimit(0, r, limits) does with any limits argument (pairs of edge values, int subclasses,
    __index__, lists, iterators, other lengths, floats, strings, junk) what setrlimit(r, limits)
    does."""
    _require_prlimit(candidate)
    number = candidate.info.resource(name)
    hard = candidate.call("getrlimit", number).value[1]
    _prlimit_as_setrlimit(candidate, number, data.draw(S.limit_arguments(hard), label="limits"))


@rule("PRLIMIT.LIMITS_NONE")
def test_prlimit_limits_none_reads(candidate: Candidate) -> None:
    """prlimit(pid, r, None) reads like the two-argument form."""
    _require_prlimit(candidate)
    number = _core(candidate)
    with candidate.isolated() as child:
        _prlimit_returns_old(child, "CORE", number, None, child.getrlimit(number))


@rule("PRLIMIT.AUDIT")
def test_prlimit_audit(candidate: Candidate) -> None:
    """prlimit raises resource.prlimit with (pid, resource, limits or None)."""
    _require_prlimit(candidate)
    number = _core(candidate)
    with candidate.isolated() as child:
        limits = child.getrlimit(number)
        read = child.call("prlimit", 0, number)
        write = child.call("prlimit", 0, number, limits)
    assert list(read.audit) == [("resource.prlimit", (0, number, None))], f"audit for a read: {read.audit}"
    assert list(write.audit) == [("resource.prlimit", (0, number, limits))], f"audit for a write: {write.audit}"


@rule("PRLIMIT.AUDIT")
@pytest.mark.parametrize("form", ["int-subclass", "bool-pid"])
def test_prlimit_audit_converted_arguments(candidate: Candidate, form: str) -> None:
    """With the resource given as an int subclass, or the pid as False, the event carries the
    numbers, and None for a read."""
    _require_prlimit(candidate)
    number = _core(candidate)
    pid, resource = (0, IntSubclass(number)) if form == "int-subclass" else (False, number)
    with candidate.isolated() as child:
        read = child.call("prlimit", pid, resource)
    assert read.returned, f"prlimit({pid!r}, {resource!r}) {read}"
    assert list(read.audit) == [("resource.prlimit", (0, number, None))], f"audit for a read: {read.audit}"
