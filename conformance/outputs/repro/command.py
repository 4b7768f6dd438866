"""``python -m rckit.conformance repro REPORT RULE CANDIDATE``: print a reproducer script.

The script (rckit.conformance.outputs.repro.script) replays the example that failed RULE on CANDIDATE in the
JSON report REPORT, stand-alone, in the candidate's interpreter: fit to paste into a bug report.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rckit.conformance.outputs.repro.script import Failure, render

__all__ = ["FAILED", "ReproError", "failures", "main"]

#: The statuses a reproducer is made for: a failure and a known deviation (an error too, if it
#: stored an example).
FAILED = ("fail", "xfail", "error")


class ReproError(LookupError):
    """The report has no failure with an example for this rule and candidate; says why."""


def _statement(report: dict[str, Any], rule: str) -> str:
    try:
        from rckit.spec import load

        return load().rules[rule].statement
    except KeyError:
        return str(report.get("rules", {}).get(rule, {}).get("statement", ""))


def failures(report: dict[str, Any], rule: str, candidate: str) -> list[Failure]:
    """The failures of ``rule`` on ``candidate`` that have a stored example, by test node id.
    ReproError says why there are none."""
    results = report.get("results", [])
    if candidate not in report.get("candidates", {}):
        known = ", ".join(sorted(report.get("candidates", {}))) or "none"
        raise ReproError(f"the report has no candidate {candidate!r} (it has: {known})")
    failed = [r for r in results if r["candidate"] == candidate and rule in r["rules"] and r["status"] in FAILED]
    if not failed:
        others = sorted({rid for r in results if r["candidate"] == candidate and r["status"] in FAILED for rid in r["rules"]})
        raise ReproError(f"{rule} did not fail on {candidate} (rules that did: {', '.join(others) or 'none'})")
    with_example = [r for r in failed if r.get("example")]
    if not with_example:
        raise ReproError(f"the report stores no example for {rule} on {candidate} (made before examples were stored?)")
    info = report["candidates"][candidate]
    statement = _statement(report, rule)
    return [
        Failure(
            rule=rule,
            statement=statement,
            candidate=candidate,
            test=r["nodeid"].split("::")[-1],
            status=r["status"],
            reason=r["reason"] if r["status"] == "xfail" else "",
            example=r["example"],
            interpreter=f"{info.get('implementation', '?')} {info.get('python', '?')}",
            platform=str(info.get("platform", "?")),
        )
        for r in sorted(with_example, key=lambda r: r["nodeid"])
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rckit.conformance repro", description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a conformance.json")
    parser.add_argument("rule", help="a rule id, e.g. LIMITS.INVALID_RESOURCE")
    parser.add_argument("candidate", help="a candidate id as the report names it, e.g. pypy3:resource")
    parser.add_argument("--test", help="the failing test to reproduce when several failed the rule (default: the first)")
    parser.add_argument("-o", "--output", type=Path, help="write the script here instead of printing it")
    parser.add_argument(
        "--run",
        action="store_true",
        help="run the script with the candidate's interpreter command of the report (this machine's) and exit with its status",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Print (or write, or run) the reproducer; 2 with a one-line reason if there is none."""
    args = _parser().parse_args(argv)
    try:
        report = json.loads(args.report.read_text())
        found = failures(report, args.rule, args.candidate)
    except (OSError, ValueError, ReproError) as exc:
        print(f"rckit repro: {exc}", file=sys.stderr)
        return 2
    chosen = [f for f in found if args.test in (None, f.test, f.test.split("[")[0])]
    if not chosen:
        print(f"rckit repro: no failing test {args.test!r}; these failed: {', '.join(f.test for f in found)}", file=sys.stderr)
        return 2
    if len(found) > 1 and args.test is None:
        others = ", ".join(f.test for f in found[1:])
        note = f"{len(found)} tests failed {args.rule} here; this is {found[0].test} (others: {others})"
        print(f"rckit repro: {note}", file=sys.stderr)
    script = render(chosen[0])
    if args.run:
        from rckit.conformance.outputs.repro.rerun import run

        ran = run(chosen[0], script)
        sys.stdout.write(ran.output)
        return ran.returncode
    if args.output:
        args.output.write_text(script)
    else:
        sys.stdout.write(script)
    return 0
