"""Drive arbitrary inputs through every public function of the reference and compare each outcome
with CPython's C module in the same interpreter.

    python fuzz/fuzz_reference.py                     # 100,000 inputs, seed 1
    python fuzz/fuzz_reference.py --inputs 5000 --seed 7 --json out.json

Inputs are any types: huge and odd ints, int subclasses whose ``__index__`` lies, raises or
returns a non-int, floats (nan, inf), strings, bytes, None, containers and iterators that raise
half-way, objects with lying ``__len__``, wrong arities and keyword arguments. Every batch runs in
a guarded child process (a time limit, a crash is a finding); a call that may change limits runs
twice, C module and reference, each in a fresh grandchild, and the limits left behind are compared
too. Another phase calls the reference from several threads at once. Must hold: the same result
or the same exception type and message and warnings as the C module; no crash, no hang; every
buffer back in the reference's free lists; memory flat across the run (RSS of the long-lived batch
process, after a warm-up batch).

Standard library only (Python 3.8+, CPython: the oracle is its C module). It never sets the limits
of another process: a pid given to prlimit with limits is this process's, 0, or names no process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sys
import threading
import time
import traceback
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 1000
BATCH_TIMEOUT = 120.0
FUNCTIONS = ("getrlimit", "setrlimit", "prlimit", "getrusage", "getpagesize", "struct_rusage")
PID_MAX = 1 << 22  # Linux's largest possible pid_max; beyond it no process exists


# --- inputs -------------------------------------------------------------------------------------


class Lies(int):
    """An int subclass whose __index__ and __int__ say something else (CPython uses the value)."""

    def __index__(self) -> int:
        return 12345

    def __int__(self) -> int:
        return 12345


class IndexReturns:
    """__index__ returns ``value`` (which may be no int at all)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __index__(self) -> Any:
        return self.value

    def __repr__(self) -> str:
        return "IndexReturns(%r)" % (self.value,)


class IndexRaises:
    """__index__ raises ``kind``."""

    def __init__(self, kind: type) -> None:
        self.kind = kind

    def __index__(self) -> int:
        raise self.kind("index refused")

    def __repr__(self) -> str:
        return "IndexRaises(%s)" % self.kind.__name__


class IntOnly:
    """__int__ but no __index__."""

    def __int__(self) -> int:
        return 7


class BrokenIterable:
    """Yields ``good`` items, then raises ``kind``."""

    def __init__(self, good: List[Any], kind: type) -> None:
        self.good, self.kind = good, kind

    def __iter__(self) -> Any:
        yield from self.good
        raise self.kind("iteration refused")

    def __repr__(self) -> str:
        return "BrokenIterable(%r, %s)" % (self.good, self.kind.__name__)


class LyingLength(list):  # type: ignore[type-arg]
    """A list that claims another length."""

    def __len__(self) -> int:
        return 2


EXCEPTIONS = (ValueError, TypeError, OverflowError, RuntimeError, ZeroDivisionError, MemoryError)


def an_int(rng: random.Random) -> int:
    choice = rng.random()
    if choice < 0.3:
        return rng.randint(-5, 5000)
    if choice < 0.6:
        bits = rng.choice((15, 16, 31, 32, 33, 53, 62, 63, 64, 65, 100, 1000))
        return int(rng.choice((1, -1)) * (2**bits + rng.randint(-2, 2)))
    if choice < 0.8:
        return rng.randint(-(2**70), 2**70)
    return rng.choice((0, 1, -1, 16, 2**31 - 1, 2**63 - 1, 2**64 - 1, 2**64, -(2**63), 10**30))


def a_value(rng: random.Random, depth: int = 0) -> Any:
    """Anything: the pool arguments are drawn from."""
    kind = rng.randrange(20)
    if kind < 6:
        return an_int(rng)
    if kind == 6:
        return rng.choice((True, False))
    if kind == 7:
        return rng.choice((0.0, -0.0, 1.5, 1e300, float("inf"), float("nan"), 4.0))
    if kind == 8:
        return rng.choice(("", "0", "4", "abc", "\u00e9", "1" * 50))
    if kind == 9:
        return rng.choice((b"", b"\x00\x05", bytearray(b"ab"), memoryview(b"xy")))
    if kind == 10:
        return None
    if kind == 11:
        return Lies(rng.choice((0, 4, 7, -1, 2**40)))
    if kind == 12:
        return IndexReturns(rng.choice((3, -1, 2**70, 1.5, "x", None, Lies(4), True)))
    if kind == 13:
        return IndexRaises(rng.choice(EXCEPTIONS))
    if kind == 14:
        return IntOnly()
    if kind == 15 and depth < 2:
        items = [a_value(rng, depth + 1) for _ in range(rng.choice((0, 1, 2, 2, 2, 3)))]
        return rng.choice((tuple, list, iter, LyingLength))(items)
    if kind == 16 and depth < 2:
        return BrokenIterable([an_int(rng) for _ in range(rng.randrange(3))], rng.choice(EXCEPTIONS))
    if kind == 17:
        return rng.choice(({}, {1: 2, 3: 4}, {0, 1}, frozenset(), object(), range(2), slice(1)))
    if kind == 18:
        return (an_int(rng), an_int(rng))  # a well-formed pair, often
    return rng.choice((0, 4, 7, 3))  # a valid resource, often


def a_pid(rng: random.Random) -> Any:
    """A pid that can only name this process or no process (never another one)."""
    return rng.choice((
        0, "self", -1, -(2**31), 2**31 - 1, 2**31, 2**40, 2**64, PID_MAX + rng.randrange(1000),
        Lies(0), IndexReturns(0), IndexReturns("x"), IndexRaises(ValueError), 0.0, None, "0", IntOnly(),
    ))  # fmt: skip


def a_call(rng: random.Random) -> Tuple[str, List[Any], Dict[str, Any]]:
    """One call: a function, positional arguments (sometimes too few or many), keywords."""
    name = rng.choice(FUNCTIONS)
    arity = {"getrlimit": 1, "setrlimit": 2, "prlimit": rng.choice((2, 3)), "getrusage": 1, "getpagesize": 0, "struct_rusage": 1}[
        name
    ]
    arity = max(0, arity + rng.choice((0, 0, 0, 0, 0, -1, 1)))
    args = [a_value(rng) for _ in range(arity)]
    if name == "prlimit" and args:
        args[0] = a_pid(rng)
    if name == "struct_rusage" and args and rng.random() < 0.5:
        args[0] = [a_value(rng) for _ in range(rng.choice((15, 16, 16, 17)))]
    kwargs = {rng.choice(("resource", "limits", "who", "pid", "x", "dict")): a_value(rng)} if rng.random() < 0.05 else {}
    return name, args, kwargs


# --- running one call ------------------------------------------------------------------------------


def materialize(value: Any) -> Any:
    """A fresh copy of an argument (an iterator is consumed by the first call; "self" is this pid)."""
    if isinstance(value, str) and value == "self":
        return os.getpid()
    if isinstance(value, LyingLength):
        return LyingLength(materialize(v) for v in value)
    if type(value) in (list, tuple):
        return type(value)(materialize(v) for v in value)
    if type(value).__name__ in ("list_iterator", "tuple_iterator"):
        return value  # replaced by the caller before each use
    return value


def plain_outcome(module: Any, name: str, args: List[Any], kwargs: Dict[str, Any]) -> Tuple[Any, ...]:
    """What a call did, in comparable form (usage values differ between calls: their types count)."""
    try:
        value = getattr(module, name)(*args, **kwargs)
    except Exception as exc:
        return ("raise", type(exc).__name__, str(exc))
    if name in ("getrusage", "struct_rusage"):
        return ("return", type(value).__name__, len(value), [type(v).__name__ for v in value])
    return ("return", repr(value))


def outcome(module: Any, name: str, args: List[Any], kwargs: Dict[str, Any]) -> Tuple[Any, ...]:
    """What a call did, with the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = plain_outcome(module, name, args, kwargs)
    return (*result, tuple((w.category.__name__, str(w.message)) for w in caught))


def prepare(call: Tuple[str, List[Any], Dict[str, Any]]) -> Tuple[str, List[Any], Dict[str, Any]]:
    """Fresh arguments for one execution (iterators rebuilt, "self" resolved)."""
    name, args, kwargs = call
    fresh = [iter(list(a.__reduce__()[1][0])) if type(a).__name__.endswith("_iterator") else materialize(a) for a in args]
    return name, fresh, {k: materialize(v) for k, v in kwargs.items()}


def cpython_bug(name: str, args: List[Any]) -> bool:
    """CPython 3.12.0-3.12.2 truncates prlimit's pid (gh-117021, a known deviation); the
    reference behaves as 3.12.3 does, so such inputs are not compared there."""
    if not (3, 12, 0) <= sys.version_info[:3] < (3, 12, 3) or name != "prlimit" or not args:
        return False
    return not isinstance(args[0], int) or not -(2**31) <= args[0] < 2**31


def changes_limits(name: str, args: List[Any]) -> bool:
    return name == "setrlimit" or (name == "prlimit" and len(args) >= 3 and args[2] is not None)


def may_limit_cpu(name: str, args: List[Any]) -> bool:
    """A limit change that may be of RLIMIT_CPU (0 on Linux): the kernel would signal the process
    at an unpredictable moment, so two runs cannot be compared. Such inputs are skipped."""
    if not changes_limits(name, args):
        return False
    which: Any = args[1] if name == "prlimit" else (args[0] if args else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for convert in (lambda v: int.__and__(v, -1), lambda v: v.__index__(), int):
            try:
                if convert(which) == 0:
                    return True
            except Exception:
                continue
    return False


def fork_child(body: Callable[[Callable[[bytes], Any]], None]) -> Tuple[int, int]:
    """Fork a child that runs ``body(write)``, ``write`` sending bytes up a pipe, and then exits
    with status 0, or 70 if ``body`` raised. In the parent: (the child's pid, the read end)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code = 0
        try:
            body(lambda data: os.write(write, data))
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def in_grandchild(module: Any, call: Tuple[str, List[Any], Dict[str, Any]]) -> Tuple[Any, ...]:
    """Run a limit-changing call in a fresh child; its outcome and the limits it left."""

    def body(write: Callable[[bytes], Any]) -> None:
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)
        name, args, kwargs = prepare(call)
        result = outcome(module, name, args, kwargs)
        after = tuple(resource.getrlimit(r) for r in range(16))
        write(repr((result, after)).encode())

    pid, read = fork_child(body)
    data = b""
    while True:
        chunk = os.read(read, 65536)
        if not chunk:
            break
        data += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return ("child died", status)
    return (data.decode(),)


def compare(c_module: Any, reference: Any, call: Tuple[str, List[Any], Dict[str, Any]]) -> Optional[str]:
    """None if the reference did what the C module did, else a description of the difference."""
    name, args, _ = call
    if changes_limits(name, args):
        got, expected = in_grandchild(reference, call), in_grandchild(c_module, call)
    else:
        got, expected = outcome(reference, *prepare(call)), outcome(c_module, *prepare(call))
    if got == expected:
        return None
    return "%s(%s) %s\n  C:         %r\n  reference: %r" % (name, ", ".join(map(repr, args)), call[2] or "", expected, got)


# --- the batch child and the thread phase ----------------------------------------------------------------


def rss_kib() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_lists(api: Any) -> Tuple[int, int]:
    return len(api._rl_free), len(api._ru_free)


def run_batches(seed: int, inputs: int, report: Callable[[Dict[str, Any]], None]) -> None:
    """The long-lived batch process: every input, compared; what it found, per batch."""
    import rckit.reference._api as api
    import rckit.reference.resource as reference

    signal.signal(signal.SIGXCPU, signal.SIG_IGN)
    rng = random.Random(seed)
    lists_at_start = free_lists(api)
    done = skipped = 0
    while done < inputs:
        count = min(BATCH, inputs - done)
        mismatches = []
        for _ in range(count):
            call = a_call(rng)
            if may_limit_cpu(call[0], call[1]) or cpython_bug(call[0], call[1]):
                skipped += 1
                continue
            difference = compare(resource, reference, call)
            if difference:
                mismatches.append(difference)
        done += count
        report({"done": done, "skipped": skipped, "mismatches": mismatches[:5], "mismatch_count": len(mismatches),
                "rss_kib": rss_kib(), "free_lists": free_lists(api), "free_lists_at_start": lists_at_start})  # fmt: skip


def thread_phase(seconds: float) -> Dict[str, Any]:
    """Several threads call the reference at once, with valid and invalid arguments; each result
    must equal the C module's for the same call."""
    import rckit.reference.resource as reference

    calls: List[Tuple[str, Tuple[Any, ...]]] = [("getrlimit", (r,)) for r in range(16)]
    calls += [("getrusage", (0,)), ("getrlimit", (-1,)), ("getrlimit", ("x",))]
    calls += [("getrusage", (42,)), ("prlimit", (0, 7)), ("getpagesize", ())]
    expected = [plain_outcome(resource, name, list(args), {})[:2] for name, args in calls]
    errors: List[str] = []
    stop = time.time() + seconds
    counts = [0]

    def worker(offset: int) -> None:
        index = offset
        while time.time() < stop and len(errors) < 5:
            name, args = calls[index % len(calls)]
            got = plain_outcome(reference, name, list(args), {})[:2]
            if got != expected[index % len(calls)] and name != "getrusage":
                errors.append("%s%r: %r != %r" % (name, args, got, expected[index % len(calls)]))
            index += 7
            counts[0] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"calls": counts[0], "errors": errors}


# --- the parent: guards and the verdict -----------------------------------------------------------------


def guarded(target: Callable[[Callable[[Dict[str, Any]], None]], None], timeout: float) -> Tuple[List[Dict[str, Any]], str]:
    """Run ``target`` in a child that reports JSON lines; (its reports, '' or what went wrong).
    A batch that sends nothing for ``timeout`` seconds is a hang: the child is killed."""

    def body(write: Callable[[bytes], Any]) -> None:
        def send(message: Dict[str, Any]) -> None:
            write((json.dumps(message) + "\n").encode())

        try:
            target(send)
        except BaseException:
            send({"crash": traceback.format_exc()})
            raise

    pid, read = fork_child(body)
    reports: List[Dict[str, Any]] = []
    pending, problem = b"", ""
    import select

    while True:
        ready, _, _ = select.select([read], [], [], timeout)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            problem = "hang: no progress for %.0f s" % timeout
            break
        chunk = os.read(read, 1 << 20)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, _, pending = pending.partition(b"\n")
            reports.append(json.loads(line))
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if not problem and status != 0:
        problem = "the batch process ended with status %d" % status
    return reports, problem


def import_path() -> None:
    """Make ``rckit.reference`` the one beside this script: the repository's reference/ and
    platforms/ folders linked into a temporary rckit/ package, first on sys.path."""
    import atexit
    import shutil
    import tempfile

    stage = tempfile.mkdtemp(prefix="rckit-fuzz-")
    atexit.register(shutil.rmtree, stage, True)
    os.mkdir(os.path.join(stage, "rckit"))
    for part in ("reference", "platforms"):
        os.symlink(os.path.join(os.path.dirname(HERE), part), os.path.join(stage, "rckit", part))
    sys.path.insert(0, stage)
    for name in [m for m in sys.modules if m == "rckit" or m.startswith("rckit.")]:
        del sys.modules[name]


def main(argv: Optional[List[str]] = None) -> int:
    """Fuzz, print the figures (and the first differences); 1 if anything must not have happened."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads-seconds", type=float, default=5.0)
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    args = parser.parse_args(argv)
    if sys.implementation.name != "cpython":
        print("the oracle is CPython's C module; run this under CPython", file=sys.stderr)
        return 2
    import_path()
    started = time.time()
    reports, problem = guarded(lambda send: run_batches(args.seed, args.inputs, send), BATCH_TIMEOUT)
    threads, thread_problem = guarded(lambda send: send(thread_phase(args.threads_seconds)), BATCH_TIMEOUT)
    seconds = time.time() - started
    crash = next((r["crash"] for r in reports if "crash" in r), None)
    batches = [r for r in reports if "done" in r]
    mismatches = [m for r in batches for m in r["mismatches"]]
    mismatch_count = sum(r["mismatch_count"] for r in batches)
    lost = [r["free_lists"] for r in batches if r["free_lists"] != r["free_lists_at_start"]]
    rss = [r["rss_kib"] for r in batches]
    growth = rss[-1] - rss[0] if len(rss) > 1 else 0  # after the first (warm-up) batch
    figures = {
        "python": sys.version.split()[0], "seed": args.seed, "inputs": batches[-1]["done"] if batches else 0,
        "skipped": batches[-1]["skipped"] if batches else 0,
        "seconds": round(seconds, 1), "mismatches": mismatch_count, "crash": crash, "problem": problem or thread_problem,
        "free_lists_lost": len(lost), "rss_kib_after_warmup": rss[0] if rss else None, "rss_kib_growth": growth,
        "thread_calls": threads[0]["calls"] if threads else 0, "thread_errors": threads[0]["errors"] if threads else [],
    }  # fmt: skip
    print(json.dumps(figures, indent=1))
    for difference in mismatches[:10]:
        print(difference)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=1)
    failed = mismatch_count or crash or problem or thread_problem or lost or figures["thread_errors"] or growth > 16 << 10
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
