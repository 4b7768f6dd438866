"""The reference behaves exactly like CPython's C module of the same version (issue 3).

For each interpreter, hypothesis draws calls (good arguments, junk, wrong arities, keyword
arguments) and runs each in a fresh child of two agents: one with CPython's ``resource`` (the
oracle), one with ``rckit.reference.resource`` (the subject). Return values, exception types and
messages, warnings (and the file they point at), audit events, and the limits left behind must be
identical. On PyPy the oracle is CPython of the same X.Y (the reference promises CPython's
behaviour, not PyPy's module's). Besides pyenv's and Debian's interpreters, every interpreter of a
built Debian release chroot takes part (sid: CPython 3.13.18, 3.14.10, 3.15.2, their debug builds,
PyPy 3.11). Interpreters missing on the machine are skipped with the reason.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rckit.conformance.environments.chroots import chroot_python, interpreters, is_built
from rckit.conformance.environments.discovery import find, version_of
from rckit.conformance.harness.candidates import AgentCandidate, Candidate
from rckit.conformance.harness.specs import CandidateSpec
from rckit.conformance.harness.values import (
    Attr,
    Exploding,
    Foreign,
    IndexOnly,
    IntOnly,
    IntSubclass,
    Iter,
    Opaque,
    Outcome,
    Pid,
    Uncomparable,
)
from rckit.platforms import debian_architectures, debian_releases

SUBJECT, ORACLE = "rckit.reference.resource", "resource"
#: RCKIT_DIFFERENTIAL_MESSAGES=ignore compares everything but the words of exception and warning
#: messages: mutation/suite_campaign.py uses it to tell a mutant that only rewords a message (no
#: edition promises a message's words) from one that changes behaviour.
MESSAGES = os.environ.get("RCKIT_DIFFERENTIAL_MESSAGES", "compare") != "ignore"
PAIRS = ["host", "cpython3.8", "cpython3.9", "cpython3.10", "cpython3.11", "cpython3.12", "cpython3.13", "pypy3.9"]
#: Debian architecture chroots (i386 natively; the others, big-endian s390x and the time32 and
#: time64 32-bit ARMs among them, under qemu-user): the chroot's python3 with its own C module
#: against the reference inside the same chroot.
CHROOTS = [f"chroot-{name}" for name in debian_architectures()]


def _release_interpreters() -> dict[str, str]:
    """Every interpreter of the built Debian release chroots by id (sid-python3.15d: its command);
    a release that is not built is one id that skips."""
    found = {}
    for name in debian_releases():
        if not is_built(name):
            found[name] = ""
            continue
        for command in interpreters(name):
            found[f"{name}-{command.rsplit('/', 1)[-1]}"] = command
    return found


RELEASES = _release_interpreters()


def _oracle_for_pypy(version: tuple[int, ...], label: str) -> str:
    """A CPython of the same X.Y as a PyPy (pyenv's or Debian's on this machine)."""
    cpython = find(f"cpython{version[0]}.{version[1]}")
    if cpython is None:
        pytest.skip(f"no CPython {version[0]}.{version[1]} to compare {label} with")
    return cpython.command


@pytest.fixture(scope="module", params=PAIRS + CHROOTS + list(RELEASES))
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[Candidate, Candidate]]:
    """(oracle, subject) agents for one interpreter."""
    name = request.param
    if name in RELEASES:
        command = RELEASES[name]
        if not command or os.geteuid() != 0:
            release = name.split("-", 1)[0]
            pytest.skip(f"the {release} chroot is not built here (as root: python -m rckit.conformance chroots build {release})")
        subject_python = oracle_python = command
        if name.split("-", 1)[1].startswith("pypy"):
            version = version_of(command.split())
            assert version is not None, f"{command} does not run"
            oracle_python = _oracle_for_pypy(version, name)
    elif name.startswith("chroot-"):
        arch = name.removeprefix("chroot-")
        if os.geteuid() != 0 or not is_built(arch):
            pytest.skip(f"the {arch} chroot is not built here (as root: python -m rckit.conformance chroots build {arch})")
        subject_python = oracle_python = chroot_python(arch)
    elif name == "host":
        subject_python = oracle_python = sys.executable
    else:
        found = find(name)
        if found is None:
            pytest.skip(f"{name} is not installed on this machine")
        subject_python = oracle_python = found.command
        if name.startswith("pypy"):
            cpython = find("cpython" + name.removeprefix("pypy"))
            if cpython is None:
                pytest.skip(f"no CPython {name.removeprefix('pypy')} to compare {name} with")
            oracle_python = cpython.command
    oracle = AgentCandidate(CandidateSpec.parse(ORACLE, oracle_python))
    subject = AgentCandidate(CandidateSpec.parse(SUBJECT, subject_python))
    yield oracle, subject
    oracle.close()
    subject.close()


# --- what to call -------------------------------------------------------------------------------

BOUNDARY = [0, 1, -1, -2, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 10**30]
junk = st.one_of(
    st.text(max_size=3), st.none(), st.just(Opaque()), st.just(Exploding()), st.just(Uncomparable()), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=32), st.lists(st.integers(0, 3), max_size=2),
    st.integers(0, 20).map(IndexOnly), st.integers(0, 20).map(IntOnly), st.integers(0, 20).map(IntSubclass),
)  # fmt: skip
resources = st.one_of(
    st.integers(0, 15), st.sampled_from([-1, 16, 1000, 2**31 - 1, -(2**31), 2**31, 2**64]), junk, st.just(Attr("RLIMIT_CORE"))
)
values = st.one_of(st.sampled_from(BOUNDARY), st.integers(0, 5000), st.just(Attr("RLIM_INFINITY")), junk)
limits = st.one_of(
    st.tuples(values, values),
    st.tuples(values, values).map(list),
    st.tuples(values, values).map(Iter),
    st.lists(st.integers(0, 10), max_size=4).filter(lambda v: len(v) != 2).map(tuple),
    st.sampled_from([5, None, "ab", b"\x00\x05"]),
    st.just(Opaque()),
    st.just(Exploding()),
)
# Pids for calls that may set limits: the caller itself, or numbers no process can have (the
# agent refuses anything else). Junk that is not an integer in any version stays junk.
not_integers = st.one_of(
    st.text(max_size=3),
    st.none(),
    st.just(Opaque()),
    st.just(Exploding()),
    st.just(Uncomparable()),
    st.lists(st.integers(0, 3), max_size=2),
)
safe_pids = st.one_of(
    st.just(0),
    st.just(Pid("self")),
    st.sampled_from([-1, 4194304, 2**31 - 1, 2**31, 2**40, 2**64]),
    st.sampled_from([IndexOnly(0), IntOnly(0), IntSubclass(0), False, 0.0]),
    not_integers,
)
read_pids = st.one_of(safe_pids, st.just(Pid("parent")))
whos = st.one_of(st.sampled_from([0, -1, 1, -2, 2, 42, 2**31, -(2**31) - 1, 2**64]), junk)


Call = tuple[str, list[Any], dict[str, Any]]


def arity(name: str, good: list[st.SearchStrategy[Any]]) -> st.SearchStrategy[Call]:
    """Calls of ``name`` with the right arguments, too few, too many, or keyword arguments."""
    args: st.SearchStrategy[list[Any]] = st.tuples(*good).map(list)

    def shapes(a: list[Any]) -> st.SearchStrategy[Call]:
        return st.sampled_from([(name, a, {}), (name, a[:-1], {}), (name, [*a, 0], {}), (name, a[1:], {"x": a[0]})])

    return args.flatmap(shapes)


# Well-formed limit calls on resources a child may change (FSIZE, CORE, NOFILE), with integer
# values around every boundary some version treats differently (signed and unsigned 64 bits).
LIMIT_EDGES = sorted({*BOUNDARY, -5, -(2**31), -(2**64) + 1, -(2**64) - 1, 2**62, 2**63 + 1, 2**64 - 2, 2**65})
#: The same edges behind __index__ (the conversion's slow path, which plain ints skip).
INDEX_EDGES = [IndexOnly(v) for v in (-2, -1, 1000, 2**31, 2**62, 2**63 - 1, 2**63, 2**64 - 1, 2**64)]
limit_values = st.one_of(
    st.sampled_from(LIMIT_EDGES),
    st.sampled_from(INDEX_EDGES),
    st.integers(-(2**65), 2**65),
    st.integers(-5, 5000),
    st.just(Attr("RLIM_INFINITY")),
)
changeable = st.sampled_from([1, 4, 7])
well_formed_limits = st.tuples(limit_values, limit_values)

#: struct_rusage's second argument: absent, empty, naming a field the sequence already holds, naming no field.
STRUCT_DICTS = [None, {}, {"x": 1}, {"ru_utime": 1}, {"ru_nivcsw": 1, "ru_spare": 2}, 5]
struct_dicts = st.sampled_from(STRUCT_DICTS)
#: struct_rusage's arguments by keyword, by both, too many, none, and a keyword that names nothing.
STRUCT_RUSAGE_SHAPES: list[tuple[str, list[Any], dict[str, Any]]] = [
    ("struct_rusage", [], {"sequence": list(range(16))}),
    ("struct_rusage", [list(range(16))], {"sequence": list(range(16))}),
    ("struct_rusage", [list(range(16))], {"dict": {}}),
    ("struct_rusage", [list(range(16)), {}, 1], {}),
    ("struct_rusage", [list(range(16)), {}], {"x": 1}),
    ("struct_rusage", [list(range(16)), {}], {"x": 1, "y": 2}),
    ("struct_rusage", [list(range(16))], {"fields": {}}),
    ("struct_rusage", [], {}),
]

calls = st.one_of(
    st.tuples(changeable, well_formed_limits).map(lambda a: ("setrlimit", list(a), {})),
    st.tuples(st.just(0), changeable, well_formed_limits).map(lambda a: ("prlimit", list(a), {})),
    arity("getrlimit", [resources]),
    arity("setrlimit", [resources, limits]),
    arity("getrusage", [whos]),
    st.just(("getpagesize", [], {})),
    st.just(("getpagesize", [1], {})),
    st.tuples(read_pids, resources).map(lambda a: ("prlimit", list(a), {})),
    st.tuples(safe_pids, resources, st.one_of(limits, st.none())).map(lambda a: ("prlimit", list(a), {})),
    st.sampled_from(
        [("prlimit", [], {}), ("prlimit", [0], {}), ("prlimit", [0, 4, None, 1], {}), ("prlimit", [0], {"resource": 4})]
    ),
    st.tuples(st.one_of(st.integers(13, 18).map(lambda n: list(range(n))), junk), struct_dicts).map(
        lambda a: ("struct_rusage", [a[0]] if a[1] is None else list(a), {})
    ),
    st.sampled_from(STRUCT_RUSAGE_SHAPES),
)


# --- how to compare ------------------------------------------------------------------------------

ADDRESS = re.compile(r" at 0x[0-9a-f]+")
#: The interpreter's own iterator types differ by name (CPython list_iterator, PyPy sequenceiterator).
ITERATOR = re.compile(r"[a-z_]*iterator")


def normal(value: Any, module: str, pids: dict[int, str]) -> Any:
    """A result with what legitimately differs removed: module names, object addresses, and the
    pids of the two processes (an audit event carries the caller's own pid)."""
    if isinstance(value, Foreign):
        items = tuple(normal(v, module, pids) for v in value.items) if value.items is not None else None
        kind = ITERATOR.sub("<iterator>", value.type.replace(module + ".", "resource."))
        return ("object", kind, ITERATOR.sub("<iterator>", ADDRESS.sub("", value.repr)), items)
    if isinstance(value, tuple):
        return tuple(normal(v, module, pids) for v in value)
    if isinstance(value, list):
        return [normal(v, module, pids) for v in value]
    if type(value) is int and value in pids:
        return pids[value]
    return value


def observed(outcome: Outcome, module: str, fn: str, pids: dict[int, str]) -> tuple[Any, ...]:
    """What must match between oracle and subject."""
    if outcome.kind == "raise" and outcome.exception is not None:
        result: tuple[Any, ...] = ("raise", outcome.exception.type, outcome.exception.message if MESSAGES else "")
    elif fn == "getrusage" and isinstance(outcome.value, Foreign):  # usage differs between processes
        result = (
            "return",
            outcome.value.type.replace(module + ".", "resource."),
            tuple(type(v).__name__ for v in outcome.value.items or ()),
        )
    else:
        result = ("return", normal(outcome.value, module, {}))
    warnings = outcome.warnings if MESSAGES else tuple((category, "", where) for category, _, where in outcome.warnings)
    return (*result, warnings, tuple((e, normal(a, module, pids)) for e, a in outcome.audit))


def run(candidate: Candidate, fn: str, args: list[Any], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], Any]:
    """The observed outcome of the call in a fresh child, and the child's limits afterwards, read
    by getrlimit and (for RLIMIT_FSIZE, which the edge tests set) by prlimit, whose read path
    decodes on its own."""
    with candidate.isolated() as child:
        outcome = child.call(fn, *args, **kwargs)
        after: tuple[Any, ...] = tuple(child.getrlimit(r) for r in (1, 3, 4, 7))  # FSIZE, STACK, CORE, NOFILE on Linux
        pids = {child.pid: "<self>", candidate.info.pid: "<parent>"}
        after += (observed(child.call("prlimit", 0, 1), candidate.spec.module, "prlimit", pids),)
    return observed(outcome, candidate.spec.module, fn, pids), after


def _is_zero(value: Any) -> bool:
    if isinstance(value, (IndexOnly, IntOnly, IntSubclass)):
        return value.value == 0
    return isinstance(value, (int, float)) and value == 0


def zero_cpu_limit(fn: str, args: list[Any]) -> bool:
    """A call that sets a soft or hard RLIMIT_CPU of 0. The kernel then signals the process
    (SIGXCPU, or SIGKILL at the hard limit) at its next CPU-timer check, an unpredictable moment,
    so the outcome cannot be compared between two processes. EFFECTS.CPU_SIGXCPU covers CPU limits."""
    resource, limits = (
        (args[0], args[1])
        if fn == "setrlimit" and len(args) == 2
        else (args[1], args[2])
        if fn == "prlimit" and len(args) == 3
        else (None, None)
    )
    if not (_is_zero(resource) or resource == Attr("RLIMIT_CPU")) or not isinstance(limits, (tuple, list, Iter)):
        return False
    items = limits.items if isinstance(limits, Iter) else limits
    return any(_is_zero(v) for v in items)


def pid_truncation_bug(oracle: Candidate, fn: str, args: list[Any]) -> bool:
    """CPython 3.12.0-3.12.2 truncates prlimit's pid (gh-117021); the reference is 3.12.3+."""
    pid = args[0] if fn == "prlimit" and args else None
    pid = pid.value if isinstance(pid, IndexOnly) else pid
    return (3, 12, 0) <= oracle.info.version_tuple < (3, 12, 3) and isinstance(pid, int) and not -(2**31) <= pid < 2**31


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the differential oracle pairs are Linux interpreters")
@settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(call=calls)
def test_reference_matches_cpython(pair: tuple[Candidate, Candidate], call: tuple[str, list[Any], dict[str, Any]]) -> None:
    """Same result or same exception (type and message), warnings, audit events and limits."""
    oracle, subject = pair
    fn, args, kwargs = call
    assume(not zero_cpu_limit(fn, args))
    got, got_after = run(subject, fn, args, kwargs)
    if pid_truncation_bug(oracle, fn, args):
        assert got[:3] == ("raise", "OverflowError", "Python int too large to convert to C int"), got
        return
    expected, expected_after = run(oracle, fn, args, kwargs)
    assert got == expected, f"{fn}{tuple(args)} {kwargs or ''}\n  CPython:   {expected}\n  reference: {got}"
    assert got_after == expected_after, f"{fn}{tuple(args)} left limits {got_after}, CPython {expected_after}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the differential oracle pairs are Linux interpreters")
@pytest.mark.parametrize("function", ["setrlimit", "prlimit"])
def test_reference_matches_cpython_on_every_limit_edge(pair: tuple[Candidate, Candidate], function: str) -> None:
    """Every boundary value, as soft and as hard limit of RLIMIT_FSIZE, gives CPython's result,
    exception, message and warnings, and leaves the same limits (the drawn calls above may miss
    one; a version that changed the conversion differs exactly here)."""
    oracle, subject = pair
    for value in [*LIMIT_EDGES, *INDEX_EDGES, Attr("RLIM_INFINITY")]:
        for limits in ((value, Attr("RLIM_INFINITY")), (0, value)):
            args = [1, limits] if function == "setrlimit" else [0, 1, limits]
            got, got_after = run(subject, function, args, {})
            expected, expected_after = run(oracle, function, args, {})
            assert got == expected, f"{function}{tuple(args)}\n  CPython:   {expected}\n  reference: {got}"
            assert got_after == expected_after, f"{function}{tuple(args)} left limits {got_after}, CPython {expected_after}"


#: The edges of a C int (and of a C long) for the parameters CPython declares as int: the
#: resource, getrusage's who and prlimit's pid; plain and behind __index__.
INT_EDGES = [-(2**63) - 1, -(2**31) - 1, -(2**31), -(2**31) + 1, -1, 0, 2**31 - 1, 2**31, 2**63]
INT_EDGE_CALLS = [
    *(("getrusage", [who]) for who in [*INT_EDGES, IndexOnly(-(2**31) - 1), IndexOnly(2**31)]),
    *(("getrlimit", [resource]) for resource in [*INT_EDGES, IndexOnly(-(2**31) - 1), IndexOnly(2**31)]),
    *(("prlimit", [pid, 4]) for pid in [*INT_EDGES, IndexOnly(2**31 - 1), IndexOnly(2**31)] if pid != 0),
    *(("prlimit", [Pid("self"), resource]) for resource in [-(2**31) - 1, -(2**31), 2**31 - 1, 2**31]),
]


#: Every way of building a struct_rusage: each second argument with a 16-item sequence, and each
#: keyword shape.
STRUCT_RUSAGE_CALLS = [
    *(("struct_rusage", [list(range(16))] if d is None else [list(range(16)), d], {}) for d in STRUCT_DICTS),
    *STRUCT_RUSAGE_SHAPES,
]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the differential oracle pairs are Linux interpreters")
def test_reference_matches_cpython_on_every_int_edge(pair: tuple[Candidate, Candidate]) -> None:
    """Every C int edge as a resource, a who and a (read-only) pid gives CPython's result or
    exception and message (the drawn calls may miss one)."""
    oracle, subject = pair
    for function, args in INT_EDGE_CALLS:
        got, _ = run(subject, function, args, {})
        if pid_truncation_bug(oracle, function, args):
            continue
        expected, _ = run(oracle, function, args, {})
        assert got == expected, f"{function}{tuple(args)}\n  CPython:   {expected}\n  reference: {got}"


#: Every function with none to four positional arguments, each 0 or an object whose comparisons
#: raise, with and without a keyword: CPython's argument count in its message, and no argument
#: ever compared with == or != (calls that get as far as C only read limits or fail to convert).
ARITY_CALLS = [
    (function, [argument] * count, keywords)
    for function in ("getrlimit", "setrlimit", "getrusage", "prlimit", "getpagesize")
    for count in range(5)
    for argument in (0, Uncomparable())
    for keywords in ({}, {"x": 0})
]


#: Limits of every wrong shape: tuples, lists and iterators too short or too long, and things
#: that are no sequence; for setrlimit and for prlimit (whose fast path takes tuples only).
MALFORMED_LIMITS = [(), (1,), (1, 2, 3), (1, 2, 3, 4), [], [1], [1, 2, 3], Iter((1,)), Iter((1, 2, 3)), 5, None, "ab", b"ab"]
MALFORMED_LIMIT_CALLS = [
    *(("setrlimit", [4, limits]) for limits in MALFORMED_LIMITS),
    *(("prlimit", [0, 4, limits]) for limits in MALFORMED_LIMITS),
]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the differential oracle pairs are Linux interpreters")
def test_reference_matches_cpython_on_every_malformed_limits(pair: tuple[Candidate, Candidate]) -> None:
    """Limits of every wrong length or kind give CPython's exception and message, from setrlimit
    and from prlimit, and change nothing (the drawn calls may miss a shape)."""
    oracle, subject = pair
    for function, args in MALFORMED_LIMIT_CALLS:
        got = run(subject, function, args, {})
        expected = run(oracle, function, args, {})
        assert got == expected, f"{function}{tuple(args)}\n  CPython:   {expected}\n  reference: {got}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the differential oracle pairs are Linux interpreters")
def test_reference_matches_cpython_on_every_arity(pair: tuple[Candidate, Candidate]) -> None:
    """Each function called with every argument count (and a keyword) gives CPython's result or
    TypeError and message (the drawn calls pass one argument too many at most)."""
    oracle, subject = pair
    for function, args, kwargs in ARITY_CALLS:
        got, _ = run(subject, function, args, kwargs)
        expected, _ = run(oracle, function, args, kwargs)
        assert got == expected, f"{function}{tuple(args)} {kwargs}\n  CPython:   {expected}\n  reference: {got}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the differential oracle pairs are Linux interpreters")
def test_reference_matches_cpython_on_every_struct_rusage_shape(pair: tuple[Candidate, Candidate]) -> None:
    """struct_rusage built every way (a dict naming a field or none, keywords, too many
    arguments) gives CPython's result or TypeError and message."""
    oracle, subject = pair
    for function, args, kwargs in STRUCT_RUSAGE_CALLS:
        got, _ = run(subject, function, args, kwargs)
        expected, _ = run(oracle, function, args, kwargs)
        assert got == expected, f"{function}{tuple(args)} {kwargs}\n  CPython:   {expected}\n  reference: {got}"


def test_same_public_names_and_values(pair: tuple[Candidate, Candidate]) -> None:
    """Exactly CPython's public names, with the same constant values."""
    oracle, subject = pair
    assert subject.info.names == oracle.info.names
    assert subject.info.constants == oracle.info.constants


def test_same_error_class(pair: tuple[Candidate, Candidate]) -> None:
    """`error` is OSError in both."""
    oracle, subject = pair
    assert subject.error_class() == oracle.error_class()


def test_same_result_type_facts(pair: tuple[Candidate, Candidate]) -> None:
    """struct_rusage: tuple subclass, field counts, __match_args__, immutability, pickling, repr form."""
    facts = []
    for candidate in pair:
        with candidate.isolated() as child:
            found = child.act("inspect_result_type")
            found.pop("unchanged")
            found["type"] = found["type"].replace(candidate.spec.module + ".", "resource.")
            found.update(child.act("tuple_operations"))
            if not MESSAGES:  # "Type: message" -> "Type"
                found = {k: v.split(":")[0] if isinstance(v, str) and ": " in v else v for k, v in found.items()}
            facts.append(found)
    assert facts[1] == facts[0]
