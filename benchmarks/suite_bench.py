"""Time the conformance suite, candidate by candidate, and say where the time goes.

    python benchmarks/suite_bench.py                                 # resource and the reference, here
    python benchmarks/suite_bench.py --python pypy3 --impl resource  # one module in another interpreter
    python benchmarks/suite_bench.py --markdown                      # the table as Markdown
    python benchmarks/suite_bench.py --isolation fork --isolation spawn   # each candidate both ways

Each candidate is judged alone in a fresh harness with the default profile and no xdist workers
(``-n 0``), so that the harness is one process whose CPU time can be told from its candidate's:

* **wall**: the whole run, start of the harness to its exit;
* **harness CPU**: the pytest process's own user + system time (this file, loaded as a pytest
  plugin, reads it when the session ends);
* **candidate CPU**: what the rest of the run used (the agent, the children it forks, the warden):
  the growth of this process's ``RUSAGE_CHILDREN`` over the run minus the harness's own;
* **waiting**: wall minus all CPU: time when no process of the run was on a CPU: sleeps, timers
  (RLIMIT_CPU expiry is measured in CPU, its signal in wall time), exec, pipes;
* **in examples**: the seconds hypothesis spent running examples (its statistics), against the
  sum of the tests' durations (the rest is fixtures, isolation, per-test setup);
* **examples**: hypothesis's passing and failing test cases over all tests, a plain test counting
  one; examples/s is that over wall.

It is a benchmark, not a test: nothing is judged. Under load the absolute figures grow; the split
still says where a candidate's time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
#: Where the plugin (this module, in the harness) writes the harness's own CPU seconds.
USAGE_ENV = "RCKIT_SUITE_BENCH_USAGE"
CASES = re.compile(r"- (\d+) passing, (\d+) failing, and (\d+) invalid test cases")
PHASE = re.compile(r"- during \w+ phase \(([\d.]+) seconds\)")
HEADER = re.compile(r"^(\S+::\S+):$")


# --- the plugin half: runs inside the harness ---------------------------------------------------


def pytest_unconfigure(config: Any) -> None:
    """Write the harness process's own CPU seconds where the benchmark asked."""
    target = os.environ.get(USAGE_ENV)
    if target:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        Path(target).write_text(json.dumps({"cpu": usage.ru_utime + usage.ru_stime}))


# --- the benchmark half ---------------------------------------------------------------------------


@dataclass
class Timing:
    """Where one candidate's run spent its time."""

    candidate: str
    isolation: str
    wall: float
    harness_cpu: float
    candidate_cpu: float
    tests: int
    examples: int
    in_examples: float
    in_tests: float
    exit_status: int
    slowest: list[tuple[str, float]] = field(default_factory=list)

    @property
    def waiting(self) -> float:
        """Wall time with no process of the run on a CPU."""
        return max(0.0, self.wall - self.harness_cpu - self.candidate_cpu)

    @property
    def examples_per_second(self) -> float:
        """Examples over the whole wall time."""
        return self.examples / self.wall if self.wall else 0.0


def hypothesis_statistics(output: str) -> dict[str, tuple[int, float]]:
    """Per test id: (test cases run, seconds in its phases), from --hypothesis-show-statistics."""
    stats: dict[str, tuple[int, float]] = {}
    current = None
    for line in output.splitlines():
        header = HEADER.match(line.strip())
        if header:
            current = header.group(1)
            stats[current] = (0, 0.0)
            continue
        if current is None:
            continue
        cases, seconds = stats[current]
        if (match := CASES.search(line)) is not None:
            cases += int(match.group(1)) + int(match.group(2))
        if (match := PHASE.search(line)) is not None:
            seconds += float(match.group(1))
        stats[current] = (cases, seconds)
    return stats


def judge(module: str, python: str | None, profile: str, only: str | None = None, isolation: str = "auto") -> Timing:
    """Run the suite on one candidate in a fresh harness and measure it."""
    with tempfile.TemporaryDirectory(prefix="rckit-suite-bench-") as scratch:
        usage_file = Path(scratch) / "usage.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "HYPOTHESIS"))}
        env[USAGE_ENV] = str(usage_file)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "rckit.conformance", "--impl", module, "-n", "0", "-q", "--profile", profile]
        command += ["--python", python] if python else []
        command += ["--report", scratch, "--", "-p", Path(__file__).stem, "--hypothesis-show-statistics"]
        command += ["--rckit-isolation", isolation]
        command += ["-k", only] if only else []
        before, started = children_cpu(), time.monotonic()
        process = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
        wall, total = time.monotonic() - started, children_cpu() - before
        output = process.stdout + process.stderr
        harness = json.loads(usage_file.read_text())["cpu"] if usage_file.exists() else 0.0
        report_file = Path(scratch) / "conformance.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
    results = [r for r in report.get("results", []) if r["status"] != "n/a"]
    stats = hypothesis_statistics(output)
    examples = sum(stats.get(r["nodeid"], (1, 0.0))[0] or 1 for r in results)
    ranked = sorted(((r["nodeid"].split("::")[-1], r["duration"]) for r in results), key=lambda item: -item[1])
    return Timing(
        candidate=next(iter(report.get("candidates", {})), module),
        isolation=str(next(iter(report.get("candidates", {}).values()), {"isolation": isolation}).get("isolation", isolation)),
        wall=wall,
        harness_cpu=harness,
        candidate_cpu=max(0.0, total - harness),
        tests=len(results),
        examples=examples,
        in_examples=sum(seconds for _, seconds in stats.values()),
        in_tests=sum(r["duration"] for r in results),
        exit_status=process.returncode,
        slowest=ranked[:8],
    )


def children_cpu() -> float:
    """CPU seconds of every reaped descendant: the harness, and through the harness and its
    warden, every agent and child of the run (each reaps what it started)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def table(timings: Sequence[Timing], markdown: bool) -> str:
    """The figures, one row per candidate."""
    heads = ["candidate", "isolation", "wall s", "tests", "examples", "examples/s", "harness CPU s", "candidate CPU s"]
    heads += ["waiting s", "in examples s", "in tests s"]
    rows = [
        [t.candidate, t.isolation, f"{t.wall:.1f}", str(t.tests), str(t.examples), f"{t.examples_per_second:.0f}",
         f"{t.harness_cpu:.1f}", f"{t.candidate_cpu:.1f}", f"{t.waiting:.1f}", f"{t.in_examples:.1f}", f"{t.in_tests:.1f}"]
        for t in timings
    ]  # fmt: skip
    if markdown:
        lines = ["| " + " | ".join(heads) + " |", "|---" + "|---:" * (len(heads) - 1) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths))]
    return "\n".join(lines + ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows])


def main(argv: Sequence[str] | None = None) -> int:
    """Judge each candidate, print the table and each one's slowest tests; 1 if a run failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", action="append", default=[], help="module to judge (default: resource and the reference)")
    parser.add_argument("--python", action="append", default=[], help="interpreter command (default: this one)")
    parser.add_argument("--profile", default="default", choices=("quick", "default", "thorough"))
    parser.add_argument("--markdown", action="store_true", help="the table as Markdown")
    parser.add_argument("-k", dest="only", metavar="EXPR", help="only the tests pytest -k selects (default: all)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--isolation",
        action="append",
        default=[],
        choices=("auto", "fork", "spawn"),
        help="how sessions are made (repeatable: each candidate is judged once per mode; default: auto)",
    )
    args = parser.parse_args(argv)
    timings = []
    for python in args.python or [None]:
        for module in args.impl or ["resource", "rckit.reference.resource"]:
            for isolation in args.isolation or ["auto"]:
                timing = judge(module, python, args.profile, args.only, isolation)
                timings.append(timing)
                print(f"{timing.candidate} ({timing.isolation}): {timing.wall:.1f} s, exit {timing.exit_status}", file=sys.stderr)
    print(table(timings, args.markdown))
    for timing in timings:
        slowest = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in timing.slowest)
        print(f"\n{timing.candidate} ({timing.isolation}), slowest tests: {slowest}")
    if args.json:
        args.json.write_text(json.dumps([asdict(t) | {"waiting": t.waiting} for t in timings], indent=1) + "\n")
    return 0 if all(t.exit_status == 0 for t in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
