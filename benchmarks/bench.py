"""Time the C ``resource`` module against the reference (rckit.reference.resource), call by call.

    python benchmarks/bench.py                      # this interpreter: one table
    python benchmarks/bench.py --all-interpreters   # every discovered interpreter, then a summary
    python benchmarks/bench.py --all-interpreters --markdown   # the summary as a Markdown table

Three things are measured in the same run and the same process, alternately (C, reference, floor,
C, reference, floor, ...) so that drift affects every side; each side keeps its best repeat:

- the C module (``resource``);
- the floor: the C function the reference calls (getrlimit64, prlimit64, ... as the platform data
  names it), called bare through ctypes (cffi on PyPy, as the reference does) with a preallocated
  buffer, and nothing around it: no argument checks, no decoding, no result;
- the reference (``rckit.reference.resource``).

The numbers are nanoseconds per call and the ratios reference / C and reference / floor. It is a
benchmark, not a test: nothing is judged.

The script needs only the standard library and runs on Python 3.8+ (CPython and PyPy), so that
every interpreter can execute it directly. Where ``rckit`` is not installed it imports the
reference from ``--reference-path`` (a directory holding ``rckit/reference`` and
``rckit/platforms``), or else from a copy of this repository's ``reference/`` and ``platforms/``.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import json
import math
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

FORMAT = "rckit-benchmark/1"
REPO = Path(__file__).resolve().parent.parent
CALLS = ("getrlimit", "setrlimit", "prlimit", "getrusage")
#: (repeats, minimum seconds per repeat): many short repeats, so that the best of them falls in a
#: quiet moment of a shared machine (the spread of the ratios run to run is smaller than with 7 of 0.1 s)
DEFAULT_SETTINGS = (30, 0.02)
QUICK_SETTINGS = (3, 0.002)
CHILD_TIMEOUT = 900.0

if TYPE_CHECKING:  # used only in (postponed) annotations: Python 3.8 never evaluates dict[...]
    Result = dict[str, Any]


# --- importing the two modules ----------------------------------------------------------------


def stage_reference(directory: Path) -> Path:
    """Copy the repository's reference/ and platforms/ to ``directory``/rckit/ and return
    ``directory``: put on sys.path, it makes ``rckit.reference.resource`` importable."""
    for part in ("reference", "platforms"):
        source = REPO / part
        if not source.is_dir():
            raise FileNotFoundError(f"{source} not found: run the script from the repository")
        shutil.copytree(
            str(source),
            str(directory / "rckit" / part),
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return directory


def import_reference(path: str | None) -> ModuleType:
    """``rckit.reference.resource``: from ``path`` first if given, else as installed, else from a
    staged copy of this repository."""
    if path is not None:
        sys.path.insert(0, path)
        return importlib.import_module("rckit.reference.resource")
    try:
        return importlib.import_module("rckit.reference.resource")
    except ImportError:
        for name in [n for n in sys.modules if n == "rckit" or n.startswith("rckit.")]:
            del sys.modules[name]
        directory = Path(tempfile.mkdtemp(prefix="rckit-bench-"))
        atexit.register(shutil.rmtree, str(directory), ignore_errors=True)
        stage_reference(directory)
        sys.path.insert(0, str(directory))
        return importlib.import_module("rckit.reference.resource")


def reference_backend() -> str:
    """The reference's native backend: "ctypes" or "cffi"."""
    api = sys.modules.get("rckit.reference._api")
    native = getattr(api, "_native", None)
    return str(getattr(native, "backend", "unknown"))


# --- timing -----------------------------------------------------------------------------------


def _entry_points(lib: Any, target: Any, symbols: dict[str, str]) -> dict[str, Any]:
    """The library's functions by call name: the limit functions it has, and the first getrusage
    variant of the platform entry that it has."""
    found = {name: getattr(lib, symbol) for name, symbol in symbols.items() if hasattr(lib, symbol)}
    for variant in target.rusage:
        if hasattr(lib, variant.symbol):
            found["getrusage"] = getattr(lib, variant.symbol)
            break
    return found


class Floor:
    """The bare FFI calls: each C entry point the reference uses, bound here independently of the
    reference in the same way (ctypes' ``PyDLL(None)`` without argtypes, restype int; cffi's ABI
    mode on PyPy), with buffers allocated once."""

    def __init__(self, target: Any) -> None:
        symbols = dict(target.rlimit.symbols)
        rlimit_size = target.rlimit.layout.size
        rusage_size = max(v.layout.size for v in target.rusage)
        self.backend = "ctypes"
        self.functions: dict[str, Callable[..., int]] = {}
        if sys.implementation.name == "pypy":
            try:
                self._bind_cffi(target, symbols, rlimit_size, rusage_size)
                return
            except ImportError:
                pass
        self._bind_ctypes(target, symbols, rlimit_size, rusage_size)

    def _bind_ctypes(self, target: Any, symbols: dict[str, str], rlimit_size: int, rusage_size: int) -> None:
        import ctypes

        found = _entry_points(ctypes.PyDLL(None), target, symbols)
        for function in found.values():
            function.restype = ctypes.c_int
        self.functions = found
        # byref: ctypes passes it as it is (an array it would wrap anew at each call).
        self.rlimit = [ctypes.byref((ctypes.c_char * rlimit_size)()) for _ in range(2)]
        self.rusage = ctypes.byref((ctypes.c_char * rusage_size)())
        self.null: object = None

    def _bind_cffi(self, target: Any, symbols: dict[str, str], rlimit_size: int, rusage_size: int) -> None:
        import cffi  # type: ignore[import-untyped,import-not-found,unused-ignore]

        ffi = cffi.FFI()
        declarations = ["int %s(int, char *);" % symbols[n] for n in ("getrlimit", "setrlimit")]
        if "prlimit" in symbols:
            declarations.append("int %s(int, int, char *, char *);" % symbols["prlimit"])
        declarations += ["int %s(int, char *);" % v.symbol for v in target.rusage]
        ffi.cdef("\n".join(dict.fromkeys(declarations)))
        self.functions = _entry_points(ffi.dlopen(None), target, symbols)
        self.rlimit = [ffi.new("char[%d]" % rlimit_size) for _ in range(2)]
        self.rusage = ffi.new("char[%d]" % rusage_size)
        self.null = ffi.NULL
        self.backend = "cffi"

    def call(self, name: str, args: Sequence[object]) -> tuple[Callable[..., int], tuple[object, ...]] | None:
        """(function, arguments) of the bare call matching ``name(*args)``, or None if the C
        library lacks it. setrlimit's buffer holds the limits just read, so it changes nothing."""
        function = self.functions.get(name)
        if function is None:
            return None
        if name == "getrlimit":
            return function, (args[0], self.rlimit[0])
        if name == "setrlimit":
            self.functions["getrlimit"](args[0], self.rlimit[1])
            return function, (args[0], self.rlimit[1])
        if name == "prlimit":
            return function, (args[0], args[1], self.null, self.rlimit[0])
        return function, (args[0], self.rusage)


def floor_for(ref_mod: ModuleType) -> Floor | None:
    """The bare calls for the platform the reference describes (None if its platform data cannot
    be imported)."""
    try:
        platforms = importlib.import_module("rckit.platforms")
        return Floor(platforms.current())
    except (ImportError, AttributeError, OSError) as exc:
        print(f"no floor: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def make_timer(func: Callable[..., object], args: Sequence[object]) -> timeit.Timer:
    """A timer of ``func(*args)`` with the function and its arguments bound to locals, so the
    loop costs the same on both sides and nothing else is measured."""
    names = [f"a{i}" for i in range(len(args))]
    namespace: dict[str, Any] = {"_f": func}
    namespace.update({f"_a{i}": value for i, value in enumerate(args)})
    setup = "; ".join(["f = _f"] + [f"{name} = _{name}" for name in names])
    return timeit.Timer(f"f({', '.join(names)})", setup, globals=namespace)


def calibrate(timer: timeit.Timer, min_time: float) -> int:
    """The loop count (1, 2, 5, 10, 20, ...) whose run takes at least ``min_time`` seconds, as
    timeit's autorange finds it; the runs also warm up (and, on PyPy, JIT-compile) the call."""
    number = 1
    while True:
        for multiple in (1, 2, 5):
            count = number * multiple
            if timer.timeit(count) >= min_time:
                return count
        number *= 10


def best_of(timers: Sequence[timeit.Timer], repeat: int, min_time: float) -> list[float]:
    """ns/call of each timer: the minimum over ``repeat`` repeats, the timers taking turns."""
    numbers = [calibrate(timer, min_time) for timer in timers]
    best = [math.inf] * len(timers)
    for _ in range(repeat):
        for i, (timer, number) in enumerate(zip(timers, numbers)):
            best[i] = min(best[i], timer.timeit(number) / number)
    return [value * 1e9 for value in best]


def plan(c_mod: ModuleType, ref_mod: ModuleType) -> tuple[list[tuple[str, str, tuple[object, ...]]], dict[str, str]]:
    """([(name, statement, args)], {name: why it is skipped})."""
    nofile = c_mod.RLIMIT_NOFILE
    current = c_mod.getrlimit(nofile)
    calls: list[tuple[str, str, tuple[object, ...]]] = [
        ("getrlimit", "getrlimit(RLIMIT_NOFILE)", (nofile,)),
        ("setrlimit", f"setrlimit(RLIMIT_NOFILE, {current!r})", (nofile, current)),
    ]
    skipped: dict[str, str] = {}
    missing = [side for side, mod in (("C module", c_mod), ("reference", ref_mod)) if not hasattr(mod, "prlimit")]
    if missing:
        skipped["prlimit"] = f"the {' and the '.join(missing)} has no prlimit here"
    else:
        calls.append(("prlimit", "prlimit(0, RLIMIT_NOFILE)", (0, nofile)))
    calls.append(("getrusage", "getrusage(RUSAGE_SELF)", (c_mod.RUSAGE_SELF,)))
    return calls, skipped


def measure(ref_mod: ModuleType, repeat: int, min_time: float) -> tuple[list[Result], dict[str, str]]:
    """Time each call on both modules in this process."""
    calls, skipped = plan(resource, ref_mod)
    floor = floor_for(ref_mod)
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    results: list[Result] = []
    try:
        for name, statement, args in calls:
            c_func, ref_func = getattr(resource, name), getattr(ref_mod, name)
            try:  # one call each first: a call that fails here is reported, not timed
                c_func(*args)
                ref_func(*args)
            except (OSError, ValueError) as exc:
                skipped[name] = f"{statement} raised {type(exc).__name__}: {exc}"
                continue
            bare = None if floor is None else floor.call(name, args)
            timers = [make_timer(c_func, args), make_timer(ref_func, args)]
            if bare is not None:
                timers.append(make_timer(*bare))
            times = best_of(timers, repeat, min_time)
            result: Result = {"name": name, "statement": statement, "c_ns": times[0], "reference_ns": times[1]}
            result["ratio"] = times[1] / times[0]
            if floor is not None and bare is not None:
                result.update(floor_ns=times[2], floor_ratio=times[1] / times[2], floor_backend=floor.backend)
            results.append(result)
    finally:
        after = resource.getrlimit(resource.RLIMIT_NOFILE)
        if after != before:  # setrlimit only ever sets the values just read; never leave a change
            resource.setrlimit(resource.RLIMIT_NOFILE, before)
            raise RuntimeError(f"RLIMIT_NOFILE changed from {before} to {after} during the benchmark")
    return results, skipped


def run_here(ref_mod: ModuleType, label: str, repeat: int, min_time: float) -> Result:
    """Measure in this interpreter; the run as a JSON-ready dict."""
    results, skipped = measure(ref_mod, repeat, min_time)
    return {
        "label": label,
        "executable": sys.executable,
        "implementation": sys.implementation.name,
        "version": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.system(),
        "backend": reference_backend(),
        "reference": str(getattr(ref_mod, "__file__", "")),
        "repeat": repeat,
        "min_time": min_time,
        "results": {r["name"]: r for r in results},
        "skipped_calls": skipped,
    }


# --- output -----------------------------------------------------------------------------------


def _ratio(result: Result | None, key: str) -> str:
    return "-" if result is None or key not in result else f"{result[key]:.2f}x"


def _calls(run: Result, digits: int) -> Iterator[tuple[str, Result | None, str]]:
    """Each call of CALLS: (its name, its result in ``run`` or None if it was not timed, its floor
    in ns with ``digits`` decimals or "-")."""
    for name in CALLS:
        result = run["results"].get(name)
        floor_ns = f"{result['floor_ns']:.{digits}f}" if result is not None and "floor_ns" in result else "-"
        yield name, result, floor_ns


def format_run(run: Result) -> str:
    """The table of one interpreter: a header line, then one line per call."""
    lines = [
        f"# {run['label']}: {run['implementation']} {run['version']} | machine {run['machine']} "
        f"({run['system']}) | reference backend: {run['backend']}",
        f"# {run['executable']}; reference {run['reference']}; "
        f"best of {run['repeat']} alternating repeats of >= {run['min_time'] * 1000:g} ms",
        f"{'call':<10} {'C ns/call':>10} {'ref ns/call':>12} {'ref/C':>8} {'floor ns':>9} {'ref/floor':>9}  statement",
    ]
    for name, result, floor_ns in _calls(run, digits=1):
        if result is not None:
            lines.append(
                f"{name:<10} {result['c_ns']:>10.1f} {result['reference_ns']:>12.1f} "
                f"{result['ratio']:>7.2f}x {floor_ns:>9} {_ratio(result, 'floor_ratio'):>9}  {result['statement']}"
            )
        elif name in run["skipped_calls"]:
            lines.append(f"{name:<10} {'-':>10} {'-':>12} {'-':>8} {'-':>9} {'-':>9}  skipped: {run['skipped_calls'][name]}")
    return "\n".join(lines)


def format_run_markdown(run: Result) -> str:
    """The table of one interpreter in Markdown."""
    lines = [
        f"{run['implementation']} {run['version']} on {run['machine']}, reference backend {run['backend']}:",
        "",
        "| call | C ns/call | reference ns/call | reference / C | floor ns/call | reference / floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| `{result['statement']}` | {result['c_ns']:.0f} | {result['reference_ns']:.0f} | {result['ratio']:.2f}x "
        f"| {floor_ns} | {_ratio(result, 'floor_ratio')} |"
        for _, result, floor_ns in _calls(run, digits=0)
        if result is not None
    ]
    return "\n".join(lines)


def summary_rows(runs: list[Result]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the interpreter x call -> ratios summary: reference / C, then
    reference / floor, for each call."""
    header = ["interpreter", "version", "backend"]
    header += [f"{name} {side}" for name in CALLS for side in ("/C", "/floor")]
    rows = []
    for run in runs:
        cells = [run["label"], f"{run['implementation']} {run['version']}", run["backend"]]
        for name in CALLS:
            result = run["results"].get(name)
            cells += [_ratio(result, "ratio"), _ratio(result, "floor_ratio")]
        rows.append(cells)
    return header, rows


def format_summary(runs: list[Result], markdown: bool) -> str:
    """The summary table (ratios per interpreter and call), plain or Markdown."""
    header, rows = summary_rows(runs)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 3 + "---:|" * (len(header) - 3)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        for row in [header, *rows]
    )


def write_json(path: str, document: Result) -> None:
    """Write ``document`` to ``path`` (machine-readable results)."""
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=1, sort_keys=True)
        stream.write("\n")


# --- every interpreter ------------------------------------------------------------------------


def run_child(command: str, label: str, stage: str, settings: tuple[int, float], workdir: str) -> tuple[Result | None, str]:
    """Run this script under ``command``; (its run, or None, and its output or why it failed)."""
    out = os.path.join(workdir, f"{len(os.listdir(workdir))}.json")
    argv = [
        *shlex.split(command),
        str(Path(__file__).resolve()),
        "--reference-path",
        stage,
        "--json",
        out,
    ]
    argv += ["--label", label, "--repeat", str(settings[0]), "--min-time", repr(settings[1])]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if done.returncode != 0 or not os.path.exists(out):
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        return None, f"exit status {done.returncode}\n{tail}"
    with open(out, encoding="utf-8") as stream:
        run: Result = json.load(stream)["runs"][0]
    if done.stderr.strip():
        sys.stderr.write(done.stderr)
    return run, done.stdout.rstrip()


def all_interpreters(settings: tuple[int, float], markdown: bool, json_path: str | None) -> int:
    """Run the script under every discovered interpreter that runs the reference."""
    try:
        from rckit.conformance.environments.discovery import discover
    except ImportError as exc:
        print(f"--all-interpreters needs rckit installed (the harness venv): {exc}", file=sys.stderr)
        return 2
    found, notes = discover()
    skipped = [{"interpreter": "-", "reason": note} for note in notes]
    runs: list[Result] = []
    failed: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="rckit-bench-") as tmp:
        stage = str(stage_reference(Path(tmp) / "stage"))
        results = Path(tmp) / "results"
        results.mkdir()
        for interpreter in found:
            version = ".".join(str(part) for part in interpreter.version)
            if interpreter.label.startswith("chroot-"):
                skipped.append(
                    {
                        "interpreter": interpreter.label,
                        "reason": f"{version}: chroots are not benchmarked",
                    }
                )
                continue
            if not interpreter.runs_reference:
                skipped.append(
                    {
                        "interpreter": interpreter.label,
                        "reason": f"Python {version} cannot run the reference (3.8+)",
                    }
                )
                continue
            print(f"=== {interpreter.label} ({interpreter.command})", flush=True)
            run, output = run_child(interpreter.command, interpreter.label, stage, settings, str(results))
            print(output, flush=True)
            print()
            if run is None:
                failed.append({"interpreter": interpreter.label, "reason": output})
            else:
                runs.append(run)
    print(f"=== SKIPPED interpreters: {len(skipped) or 'none'}")
    for entry in skipped:
        print(f"SKIPPED {entry['interpreter']}: {entry['reason']}")
    if failed:
        print(f"=== FAILED interpreters: {len(failed)}")
        for entry in failed:
            print(f"FAILED {entry['interpreter']}: {entry['reason'].splitlines()[0]}")
    print()
    print("=== Summary: reference time per call / C module's, and / the bare FFI call's (lower is better)")
    print(format_summary(runs, markdown))
    if json_path is not None:
        write_json(json_path, {"format": FORMAT, "mode": "all-interpreters", "runs": runs,
                               "skipped": skipped, "failed": failed})  # fmt: skip
    return 1 if failed else 0


# --- command line -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, measure, print; 0 unless something crashed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--all-interpreters", action="store_true", help="run under every discovered interpreter")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON to FILE")
    parser.add_argument("--quick", action="store_true", help="few, short repeats (for tests)")
    parser.add_argument("--markdown", action="store_true", help="print the summary as a Markdown table")
    parser.add_argument("--repeat", type=int, help=f"repeats per side (default {DEFAULT_SETTINGS[0]})")
    parser.add_argument("--min-time", type=float, help=f"seconds per repeat (default {DEFAULT_SETTINGS[1]})")
    parser.add_argument("--reference-path", metavar="DIR", help="import rckit.reference from DIR first")
    parser.add_argument("--label", help="the interpreter's name in the output")
    args = parser.parse_args(argv)
    repeat, min_time = QUICK_SETTINGS if args.quick else DEFAULT_SETTINGS
    settings = (args.repeat or repeat, args.min_time or min_time)
    if args.all_interpreters:
        return all_interpreters(settings, args.markdown, args.json)
    ref_mod = import_reference(args.reference_path)
    label = args.label or f"{sys.implementation.name}{sys.version_info[0]}.{sys.version_info[1]}"
    run = run_here(ref_mod, label, *settings)
    print(format_run(run))
    if args.markdown:
        print()
        print(format_run_markdown(run))
    if args.json is not None:
        write_json(
            args.json,
            {"format": FORMAT, "mode": "current", "runs": [run], "skipped": [], "failed": []},
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
