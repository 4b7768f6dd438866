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
from rckit.conformance.support import strategies as S
from rckit.conformance.support.applicability import not_applicable
from rckit.conformance.support.limit_range import limit_range
from rckit.conformance.support.proc_limits import kernel_limits

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
        outcome = child.call("prlimit", 0, number, new)
        assert outcome.returned and outcome.value == old, f"prlimit(0, {name}, {new}) {outcome}; old was {old}"
        assert child.getrlimit(number) == new


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


@rule("PRLIMIT.LIMITS_NONE")
def test_prlimit_limits_none_reads(candidate: Candidate) -> None:
    """prlimit(pid, r, None) reads like the two-argument form."""
    _require_prlimit(candidate)
    number = _core(candidate)
    with candidate.isolated() as child:
        expected = child.getrlimit(number)
        outcome = child.call("prlimit", 0, number, None)
        assert outcome.returned and outcome.value == expected, f"prlimit(0, CORE, None) {outcome}"
        assert child.getrlimit(number) == expected


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
