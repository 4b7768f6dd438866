"""Observations: behaviour no document states, measured on a real interpreter.

A rule may cite ``{observed = ["cpython 3.11.7"], run = "<expression>", printed = "<output>"}``:
this module evaluates the expression with ``resource`` imported, in a child process of the named
interpreter, and prints the value's repr, or ``ExceptionType: message``, followed by every warning
raised (`` WarningType: message``). Limits the expression changes are the child's own.

    python -m rckit.spec.observe "resource.getrlimit('0')"             # on every interpreter here
    python -m rckit.spec.observe --check                                # re-run every cited observation
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Sequence

from rckit.spec import Entry, Observation, Rule, Spec, load

__all__ = ["SCRIPT", "available", "interpreter_id", "main", "observations", "observe"]

#: Runs in the observed interpreter (Python 2.7 and 3.x alike), the expression in argv[1].
SCRIPT = """
import sys, warnings
import resource
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        shown = repr(eval(sys.argv[1], {"resource": resource}))
    except Exception as exc:
        shown = "%s: %s" % (type(exc).__name__, exc)
for warning in caught:
    shown += " %s: %s" % (warning.category.__name__, warning.message)
sys.stdout.write(shown + "\\n")
"""


def observe(command: Sequence[str], run: str, timeout: float = 60) -> str:
    """What ``run`` prints on the interpreter ``command`` (its output, or its failure, as text)."""
    try:
        done = subprocess.run([*command, "-c", SCRIPT, run], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"(no answer within {timeout:.0f} s)"
    if done.returncode != 0:
        return f"(exit status {done.returncode}: {done.stderr.strip()[-300:]})"
    return done.stdout.strip()


def interpreter_id(implementation: str, version: Sequence[int]) -> str:
    """How an observation names an interpreter: ``cpython 3.11.7``."""
    return f"{implementation} {'.'.join(str(part) for part in version[:3])}"


def available() -> dict[str, list[list[str]]]:
    """The interpreters on this machine (pyenv, Debian, every built chroot) by observation id; a
    release and a debug build of the same version are both listed."""
    from rckit.conformance.environments.discovery import discover

    found, _ = discover(all_built=True)
    commands: dict[str, list[list[str]]] = {}
    for interpreter in found:
        commands.setdefault(interpreter_id(interpreter.implementation, interpreter.version), []).append(
            shlex.split(interpreter.command)
        )
    return commands


def observations(spec: Spec) -> list[tuple[str, Observation]]:
    """Every observation the spec cites, with the id of the rule or entry citing it."""
    owners: list[Rule | Entry] = [*spec.rules.values(), *spec.entries.values()]
    return [(owner.id, source) for owner in owners for source in owner.sources if isinstance(source, Observation)]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: observe an expression everywhere, or re-run the spec's observations."""
    parser = argparse.ArgumentParser(prog="python -m rckit.spec.observe", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", nargs="?", help="a Python expression, with resource imported")
    parser.add_argument("--check", action="store_true", help="re-run every observation the spec cites; exit 1 on a difference")
    args = parser.parse_args(argv)
    commands = available()
    if args.run:
        for name, variants in sorted(commands.items()):
            for command in variants:
                print(f"{name:<16} {command[-1]:<24} {observe(command, args.run)}")
        return 0
    failed = 0
    for owner, seen in observations(load()):
        for name in seen.interpreters:
            for command in commands.get(name, []):
                printed = observe(command, seen.run)
                verdict = "same" if printed == seen.printed else "DIFFERENT"
                failed += verdict != "same"
                print(f"{verdict:<9} {owner:<36} {name:<16} {seen.run}")
                print(f"          recorded {seen.printed}\n          printed  {printed}")
            if name not in commands:
                print(f"absent    {owner:<36} {name:<16} (not on this machine)")
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
