"""*.SYSCALL_ERROR: a system call that fails for an unexpected reason surfaces as `error`.

The failure is real but injected at the C boundary: the candidate's interpreter is started with
an LD_PRELOAD library (conformance/environments/c/inject.c) that makes getrlimit/setrlimit (on one resource) or
getrusage (for one who) fail with EIO, and leaves every other call alone.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pytest
from rckit.conformance.environments.toolchain import inject_library_for, missing_for
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.values import Outcome
from rckit.conformance.support.applicability import not_applicable

rule = pytest.mark.rule


def _failing_resource(candidate: Candidate) -> int:
    """A resource no interpreter touches while starting up."""
    for name in ("RLIMIT_MSGQUEUE", "RLIMIT_RTPRIO", "RLIMIT_MEMLOCK"):
        if name in candidate.info.constants:
            return candidate.info.constants[name]
    return candidate.info.resource("RLIMIT_MEMLOCK")


def _injection_library(candidate: Candidate) -> Path | str:
    """The fault-injection library for the candidate's platform, or why there is none (with what
    to install where it is a missing compiler)."""
    if candidate.info.platform != "linux":
        return "fault injection uses LD_PRELOAD of a Linux build"
    library = inject_library_for(candidate.info)
    if library is None:
        return f"the injection library cannot be built for {candidate.info.platform_id}: {missing_for(candidate.info)}"
    return library


@pytest.fixture(scope="module")
def injection(candidate: Candidate) -> Iterator[tuple[Candidate, int] | str]:
    """The candidate restarted with the fault-injection library; calls on the chosen resource and
    on RUSAGE_CHILDREN fail with EIO. One per candidate for the three tests (each restarts it if
    an earlier one killed it): starting an agent costs about 3 s under qemu. Only the setrlimit
    test changes limits, in a child. Where there is none, why not: this fixture sets up before a
    test's function-scoped fixtures, which record the result's rules, so ``injected`` says n/a."""
    library = _injection_library(candidate)
    if isinstance(library, str):
        yield library
        return
    number = _failing_resource(candidate)
    variant = candidate.variant(
        {
            "LD_PRELOAD": candidate.expose(library),
            "RCKIT_FAIL_RESOURCE": str(number),
            "RCKIT_FAIL_WHO": str(candidate.info.constants["RUSAGE_CHILDREN"]),
            "RCKIT_FAIL_ERRNO": str(errno.EIO),
        }
    )
    try:
        yield variant, number
    finally:
        variant.close()


@pytest.fixture
def injected(injection: tuple[Candidate, int] | str) -> tuple[Candidate, int]:
    """The injected candidate and the resource whose calls fail; n/a (after the autouse fixtures
    have labelled the result) where there is none."""
    if isinstance(injection, str):
        not_applicable(injection)
    return injection


def _is_error_eio(outcome: Outcome) -> bool:
    return outcome.exception is not None and outcome.exception.is_module_error and outcome.exception.errno == errno.EIO


@rule("LIMITS.SYSCALL_ERROR")
def test_limits_getrlimit_syscall_error(injected: tuple[Candidate, int]) -> None:
    """getrlimit whose system call fails with EIO raises `error` with errno EIO."""
    variant, number = injected
    outcome = variant.call("getrlimit", number)
    assert _is_error_eio(outcome), f"getrlimit({number}) with the call failing (EIO): {outcome}"


@rule("LIMITS.SYSCALL_ERROR")
def test_limits_setrlimit_syscall_error(injected: tuple[Candidate, int]) -> None:
    """setrlimit whose system call fails with EIO raises `error` with errno EIO (not ValueError)."""
    variant, number = injected
    with variant.isolated() as child:
        outcome = child.call("setrlimit", number, (0, 0))
    assert _is_error_eio(outcome), f"setrlimit({number}, (0, 0)) with the call failing (EIO): {outcome}"


@rule("USAGE.SYSCALL_ERROR")
def test_usage_getrusage_syscall_error(injected: tuple[Candidate, int]) -> None:
    """getrusage whose system call fails with EIO raises `error` with errno EIO."""
    variant, _ = injected
    outcome = variant.call("getrusage", variant.info.constants["RUSAGE_CHILDREN"])
    assert _is_error_eio(outcome), f"getrusage(RUSAGE_CHILDREN) with the call failing (EIO): {outcome}"
