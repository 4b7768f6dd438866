"""MODULE.*: the module as a whole."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.values import Exploding, Uncomparable
from rckit.conformance.support import strategies as S
from rckit.conformance.support.applicability import require

rule = pytest.mark.rule
FUNCTIONS = ("getrlimit", "setrlimit", "getrusage", "getpagesize")
#: How many positional arguments each function takes.
ARITY = {"getrlimit": 1, "setrlimit": 2, "getrusage": 1, "getpagesize": 0}
#: Arguments of every kind: numbers that are valid somewhere, pairs, junk, objects whose == or
#: __index__ raise, numbers without __index__.
ANY_ARGUMENT = st.one_of(
    st.integers(-2, 16), st.tuples(st.integers(0, 9), st.integers(0, 9)), S.junk(), st.just(Uncomparable()), S.non_index_numbers()
)


@rule("MODULE.AVAILABLE")
@pytest.mark.parametrize("name", FUNCTIONS)
def test_module_available_function(candidate: Candidate, name: str) -> None:
    """The module imports and has each documented function, callable."""
    assert candidate.info.import_error is None, f"the module does not import: {candidate.info.import_error}"
    present, _ = candidate.attr(name)
    assert present, f"the module has no {name}"
    assert candidate.is_callable(name), f"{name} is not callable"


@rule("MODULE.ERROR_CLASS")
def test_module_error_is_exception_class(candidate: Candidate) -> None:
    """`error` exists and is an exception class."""
    facts = candidate.error_class()
    assert facts["present"], "the module has no `error`"
    assert facts["is_exception"], f"`error` is not an exception class (mro {facts['mro']})"


@rule("MODULE.ERROR_IS_OSERROR")
def test_module_error_is_oserror(candidate: Candidate) -> None:
    """From 3.3, `error` is OSError itself."""
    facts = candidate.error_class()
    assert facts["is_oserror"], f"`error` is not OSError (its mro is {facts['mro']})"


@rule("MODULE.ARITY")
@pytest.mark.parametrize(
    ("fn", "args"),
    [("getrlimit", ()), ("getrlimit", (4, 4)), ("getrusage", ()), ("getrusage", (0, 0)), ("getpagesize", (1,))],
    ids=["getrlimit()", "getrlimit(4,4)", "getrusage()", "getrusage(0,0)", "getpagesize(1)"],
)
def test_module_arity_read_only(candidate: Candidate, fn: str, args: tuple[int, ...]) -> None:
    """A read-only function called with the wrong number of arguments raises TypeError."""
    outcome = candidate.call(fn, *args)
    assert outcome.raised("TypeError"), f"{fn}{args} {outcome}"


@rule("MODULE.ARITY")
@pytest.mark.parametrize("args", [(), (4,), (4, (0, 0), 1)], ids=["setrlimit()", "setrlimit(4)", "setrlimit(4,lim,1)"])
def test_module_arity_setrlimit(candidate: Candidate, args: tuple[object, ...]) -> None:
    """setrlimit with other than two arguments raises TypeError and changes nothing."""
    with candidate.isolated() as child:
        before = child.getrlimit(4) if args else None
        outcome = child.call("setrlimit", *args)
        assert outcome.raised("TypeError"), f"setrlimit{args} {outcome}"
        if before is not None:
            assert child.getrlimit(4) == before


@rule("MODULE.ARITY")
@given(data=st.data(), fn=st.sampled_from(sorted(ARITY)))
def test_module_arity_whatever_the_arguments(candidate: Candidate, data: st.DataObject, fn: str) -> None:
    """The count is checked first: a wrong number of positional arguments raises TypeError
    whatever they are (even ones whose == or __index__ raise), and changes no limit."""
    count = data.draw(st.integers(0, 4).filter(lambda n: n != ARITY[fn]), label="count")
    args = data.draw(st.lists(ANY_ARGUMENT, min_size=count, max_size=count), label="args")
    watched = [candidate.info.resource(name) for name in ("RLIMIT_CORE", "RLIMIT_FSIZE", "RLIMIT_NOFILE")]
    with candidate.isolated() as child:
        before = [child.getrlimit(number) for number in watched]
        outcome = child.call(fn, *args)
        after = [child.getrlimit(number) for number in watched]
    assert outcome.raised("TypeError"), f"{fn}{tuple(args)!r} {outcome}"
    assert after == before, f"{fn}{tuple(args)!r} changed limits: {before} -> {after}"


@rule("MODULE.ARITY")
@pytest.mark.parametrize("kind", [Uncomparable, Exploding], ids=["eq-raises", "index-raises"])
def test_module_arity_with_arguments_that_raise(candidate: Candidate, kind: type) -> None:
    """Every wrong count (up to four) of arguments whose == or __index__ raises RuntimeError
    still raises TypeError: nothing looks at the arguments before counting them."""
    with candidate.isolated() as child:
        for fn, arity in sorted(ARITY.items()):
            for count in (n for n in range(5) if n != arity):
                outcome = child.call(fn, *[kind()] * count)
                assert outcome.raised("TypeError"), f"{fn} with {count} x {kind.__name__}() {outcome}"


@rule("MODULE.THREAD_SAFE")
def test_module_thread_safe_getrlimit(candidate: Candidate) -> None:
    """Threads calling getrlimit on resources with distinct limits each get their own answer."""
    require(candidate, "threads")
    info = candidate.info
    names = [n for n in ("RLIMIT_CORE", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK") if n in info.constants]
    with candidate.isolated() as child:
        for offset, name in enumerate(names):
            number = info.resource(name)
            _, hard = child.getrlimit(number)
            value = 256 + offset if hard == info.infinity or hard >= 256 + offset else hard
            assert child.call("setrlimit", number, (value, hard)).returned
        calls = [["getrlimit", [{"t": "int", "v": info.resource(n)}]] for n in names]
        result = child.act("concurrent_calls", calls=calls, threads=4, iterations=3000, timeout=120)
    assert result["count"] == 0, f"{result['count']} wrong answers under concurrency, e.g. {result['mismatches'][:3]}"


@rule("MODULE.THREAD_SAFE")
def test_module_thread_safe_getrusage(candidate: Candidate) -> None:
    """Threads calling getrusage(RUSAGE_CHILDREN), whose value cannot change meanwhile, all get
    the same answer, mixed with getrlimit calls."""
    require(candidate, "threads")
    info = candidate.info
    calls = [
        ["getrusage", [{"t": "int", "v": info.constants["RUSAGE_CHILDREN"]}]],
        ["getrlimit", [{"t": "int", "v": info.resource("RLIMIT_NOFILE")}]],
    ]
    with candidate.isolated() as child:
        result = child.act("concurrent_calls", calls=calls, threads=4, iterations=2000, timeout=120)
    assert result["count"] == 0, f"{result['count']} wrong answers under concurrency, e.g. {result['mismatches'][:3]}"
