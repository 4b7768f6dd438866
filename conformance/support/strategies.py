"""Hypothesis strategies for the suite: resources, limit values aimed at boundaries, junk.

Limit values are drawn in the candidate's own terms: RLIM_INFINITY is the candidate's value, the
largest finite value is the one its version accepts (:mod:`rckit.conformance.support.limit_range`), and
:func:`rank` orders values the way the kernel does (unlimited above everything).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from rckit.conformance.harness.info import Info
from rckit.conformance.harness.values import Exploding, IndexOnly, IntOnly, IntSubclass, Iter, Opaque, Uncomparable

__all__ = [
    "BOUNDARIES",
    "C_INT_MAX",
    "LIMIT_EDGES",
    "NOT_INTEGERS",
    "SAFE_CEILINGS",
    "SAFE_FLOORS",
    "ceiling",
    "huge_ints",
    "invalid_resources",
    "junk",
    "limit_arguments",
    "limit_pair_under",
    "rank",
    "resource_arguments",
    "settable_resources",
]

C_INT_MAX = 2**31 - 1
#: Values where conversions and comparisons tend to break.
BOUNDARIES = (0, 1, 2, 4095, 4096, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**63 - 2, 2**63 - 1, 2**63, 2**64 - 2)

#: The lowest value a disposable child may set for a resource and still run the agent
#: (a CPU or address-space limit below what the agent already uses would kill it).
SAFE_FLOORS = {
    "RLIMIT_CPU": 60,
    "RLIMIT_AS": 2**31,
    "RLIMIT_DATA": 2**31,
    "RLIMIT_STACK": 2**20,
    "RLIMIT_NOFILE": 256,
}
#: The highest value a disposable child may set for a resource and live. Linux keeps the CPU limit
#: in nanoseconds, multiplying the seconds by NSEC_PER_SEC in 64 bits (posix_cputimers_group_init
#: and check_rlimit in kernel/time/posix-cpu-timers.c): from 2**64 // 10**9 + 1 = 18446744074 s on
#: the product wraps, and the child dies of SIGXCPU (or SIGKILL, for the hard limit) at the next
#: tick, as measured here for 18446744074 and 2**57. A child that sets such a value and is slow
#: to set the next one (under qemu-user, say) was killed mid-test.
SAFE_CEILINGS = {
    "RLIMIT_CPU": 2**64 // 10**9,
}


def ceiling(name: str, top: int) -> int:
    """``top``, or lower if values above it would kill the child that sets ``name``."""
    return min(top, SAFE_CEILINGS.get(name, top))


#: Resources whose limit a child can change freely (within the floors above).
SETTABLE = (
    "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_RSS",
    "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_VMEM",
    "RLIMIT_SBSIZE", "RLIMIT_SWAP", "RLIMIT_NPTS", "RLIMIT_KQUEUES",
)  # fmt: skip


def rank(value: int, infinity: int) -> float:
    """Order limit values as the kernel does: RLIM_INFINITY above every finite value."""
    return float("inf") if value == infinity else value


#: The resources qemu-user emulates instead of passing to the kernel (its setrlimit of these is a
#: silent no-op), kept in a test parameter of their own so an expectation can name just them.
ADDRESS_SPACE = ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_VMEM")
GROUPS = ("general", "address-space")


def settable_resources(info: Info, group: str = "general") -> st.SearchStrategy[tuple[str, int]]:
    """(name, number) of a resource the candidate's platform has and a child may change, from
    ``group``: "general" or "address-space" (RLIMIT_AS, DATA, STACK, VMEM)."""
    names = [n for n in SETTABLE if info.target is not None and n in info.target.constants]
    names = names or [n for n in SETTABLE if n in info.constants]
    names = [n for n in names if (n in ADDRESS_SPACE) == (group == "address-space")]
    return st.sampled_from(sorted(names)).map(lambda n: (n, info.resource(n)))


def limit_pair_under(name: str, hard_now: int, infinity: int, max_finite: int) -> st.SearchStrategy[tuple[int, int]]:
    """(soft, hard) with floor <= soft <= hard <= hard_now, biased to boundaries and equality;
    under an unlimited hard limit, finite values go up to ``max_finite``."""
    floor = SAFE_FLOORS.get(name, 0)
    top = ceiling(name, max_finite if hard_now == infinity else hard_now)
    if top < floor:
        return st.nothing()

    def values(upper: int) -> st.SearchStrategy[int]:
        near = [b for b in BOUNDARIES if floor <= b <= upper] + [floor, upper]
        return st.one_of(st.sampled_from(sorted(set(near))), st.integers(floor, upper))

    hards = values(top)
    if hard_now == infinity:
        hards = st.one_of(hards, st.just(infinity))

    def with_soft(hard: int) -> st.SearchStrategy[tuple[int, int]]:
        softs = values(top if hard == infinity else hard)
        if hard == infinity:
            softs = st.one_of(softs, st.just(infinity))
        return st.tuples(softs, st.just(hard))

    return hards.flatmap(with_soft)


def invalid_resources(nlimits: int) -> st.SearchStrategy[int]:
    """Integers that fit a C int but name no resource."""
    return st.one_of(
        st.sampled_from([-1, -2, nlimits, nlimits + 1, 1000, C_INT_MAX, -C_INT_MAX - 1]),
        st.integers(-C_INT_MAX - 1, -1),
        st.integers(nlimits, C_INT_MAX),
    )


def huge_ints() -> st.SearchStrategy[int]:
    """Integers no C int (and sometimes no 64-bit integer) can hold."""
    return st.one_of(
        st.sampled_from([2**31, -(2**31) - 1, 2**32, 2**63, -(2**63), 2**64, -(2**64), 10**30]),
        st.integers(2**31, 2**70),
        st.integers(-(2**70), -(2**31) - 1),
    )


def junk() -> st.SearchStrategy[Any]:
    """Arguments that are not integers in any Python version's eyes."""
    return st.one_of(
        st.text(max_size=5),
        st.binary(max_size=4),
        st.none(),
        st.just(Opaque()),
        st.lists(st.integers(0, 5), max_size=2),
        st.just(Exploding()),
    )


def non_index_numbers() -> st.SearchStrategy[Any]:
    """Numbers without __index__: floats and objects with only __int__."""
    return st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=2**40),
        st.integers(0, 2**20).map(IntOnly),
    )


def integer_forms(value: int) -> st.SearchStrategy[Any]:
    """``value`` as a plain int, an int subclass, or an object that is an integer only through
    ``__index__``."""
    return st.sampled_from([value, IntSubclass(value), IndexOnly(value)])


def resource_arguments(nlimits: int) -> st.SearchStrategy[Any]:
    """Anything a caller might pass as a resource: a valid number in any integer form, a bool, an
    invalid or huge number, a number without ``__index__``, junk."""
    return st.one_of(
        st.integers(0, nlimits - 1).flatmap(integer_forms),
        st.booleans(),
        invalid_resources(nlimits),
        huge_ints(),
        non_index_numbers(),
        junk(),
    )


#: Limit values where conversions part: the signed and unsigned 32- and 64-bit edges, both signs.
LIMIT_EDGES = (0, 1, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1, 2**64, 10**30,
               -1, -2, -(2**31), -(2**63), -(2**63) - 1, -(2**64), -(2**64) - 1)  # fmt: skip


def limit_arguments(hard_now: int) -> st.SearchStrategy[Any]:
    """Anything a caller might pass as limits: pairs of edge values, of values under the current
    hard limit (in any integer form), soft above hard, other iterables and lengths, numbers
    without ``__index__``, junk (but None, which prlimit takes as "only read")."""
    under = st.integers(0, max(hard_now, 0)) if hard_now >= 0 else st.integers(0, 2**20)
    value = st.one_of(st.sampled_from(LIMIT_EDGES), under, st.just(hard_now), non_index_numbers(), st.text(max_size=2))
    pair = st.one_of(st.tuples(value, value), st.tuples(under.flatmap(integer_forms), st.just(hard_now).flatmap(integer_forms)))
    return st.one_of(
        pair,
        pair.map(list),
        pair.map(Iter),
        st.lists(under, max_size=4).filter(lambda items: len(items) != 2).map(tuple),
        st.integers(-5, 5),
        junk().filter(lambda value: value is not None),  # prlimit reads then (PRLIMIT.LIMITS_NONE)
    )


#: One value of each kind that is not an integer, for a pid or a who: a float equal to 0, a
#: fraction, a string of digits, None, bytes, a list, an object, one whose == raises.
NOT_INTEGERS = (0.0, 1.5, "0", None, b"0", [0], Opaque(), Uncomparable())
