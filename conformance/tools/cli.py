"""``python -m rckit.conformance``: judge resource implementations and write the report.

    python -m rckit.conformance                         # this interpreter: resource + the reference
    python -m rckit.conformance --impl mypackage.resource
    python -m rckit.conformance --python pypy3 --python "chroot /srv/arm64 python3"
    python -m rckit.conformance --chroot sid            # every Python of a Debian sid chroot
    python -m rckit.conformance --all-interpreters [--chroot i386 --chroot arm64]
    python -m rckit.conformance atlas reports/*/conformance.json -o atlas.html
    python -m rckit.conformance repro REPORT RULE CANDIDATE   # a script that shows a failure

Everything after ``--`` goes to pytest. The exit status is non-zero only when a result is
unexpected (a failure that is not a known deviation, or a harness error), or 4 when a candidate
asked for cannot be judged (a --chroot that is not built, a --python that does not run: one line
each, and nothing is run).
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rckit.conformance import SUITE
from rckit.conformance.environments.discovery import REFERENCE_MIN, discover, in_chroots, version_or_cause
from rckit.conformance.harness.specs import ISOLATION_MODES

__all__ = ["SUITE", "Plan", "main", "plan", "pytest_args"]

#: The pytest plugins a run loads, and only these (autoloading is turned off): pytest rewrites the
#: asserts of every module of an autoloaded plugin's distribution (all of hypothesis, all of the
#: kit), which costs each pytest process about 2.5 s of CPU where bytecode is not cached
#: (PYTHONDONTWRITEBYTECODE, common in containers). More plugins: -p NAME after --.
PLUGINS = ("rckit.conformance.plugin", "_hypothesis_pytestplugin", "xdist.plugin")
REFERENCE = "rckit.reference.resource"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rckit.conformance",
        description=__doc__.split("\n\n")[0],
        epilog=_commands_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--impl",
        action="append",
        default=[],
        metavar="MODULE",
        help="module to judge (repeatable; default: resource and rckit.reference.resource)",
    )
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="COMMAND",
        help="interpreter to judge the modules in (repeatable; default: this one, in an agent process)",
    )
    parser.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder to import the --impl modules from (repeatable; copied into a chroot)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="import the modules into this very process (fast, unguarded: a hang or crash stops the run)",
    )
    parser.add_argument(
        "--all-interpreters",
        action="store_true",
        help="every interpreter found here: pyenv CPython 2.7/3.6-3.13, Debian pypy3 and python3, every built chroot's",
    )
    parser.add_argument(
        "--chroot",
        action="append",
        default=[],
        metavar="ARCH",
        help="also a built Debian chroot: a release (sid, forky, trixie: all its Pythons) or an architecture (i386, arm64, ...)",
    )
    parser.add_argument(
        "--profile",
        default="default",
        choices=("quick", "default", "thorough"),
        help="examples per property: quick (8) and default (25), both reproducible; thorough (200, random)",
    )
    parser.add_argument(
        "--report", default="reports", metavar="DIR", help="where conformance.json and conformance.md go (default: reports)"
    )
    parser.add_argument(
        "-n",
        "--workers",
        default=str(min(os.cpu_count() or 1, 4)),
        help="pytest-xdist workers (default: CPUs, at most 4; 0 for none)",
    )
    parser.add_argument(
        "--expectations",
        action="append",
        default=[],
        metavar="FILE",
        help="your own known deviations, in the format of platforms/expectations (repeatable; "
        "schema: rckit/conformance/schemas/expectations.schema.json)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress lines (by default: the candidate being judged and the time left)"
    )
    parser.add_argument("--strict", action="store_true", help="an unexpected pass fails the run too")
    parser.add_argument(
        "--isolation",
        default="auto",
        choices=ISOLATION_MODES,
        help="how each limit-changing example gets a process of its own: auto (fork where the interpreter can, "
        "else spawn; the default), fork, or spawn (a fresh process of the candidate's interpreter, for one that cannot fork)",
    )
    parser.add_argument("pytest_extra", nargs="*", help="arguments for pytest (after --)")
    return parser


@dataclass
class Plan:
    """The candidates a command line asks for: their ``--candidate`` arguments, notes on what is
    not judged (missing interpreters, the reference below its minimum version), and one line for
    each requested interpreter or chroot that cannot be judged at all."""

    candidates: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, impls: list[str], label: str, command: str, version: tuple[int, ...] | None) -> None:
        """The modules ``impls`` in the interpreter ``command`` (of ``version``, None if unknown);
        the reference not in one older than it supports (noted)."""
        for module in impls:
            if module == REFERENCE and version is not None and version[:2] < REFERENCE_MIN:
                self.notes.append(f"{label} is Python {'.'.join(map(str, version))}; the reference needs 3.8+ (not judged)")
            else:
                self.candidates.append(f"--candidate={module}={command}")


def plan(args: argparse.Namespace) -> Plan:
    """The candidates parsed CLI arguments ask for. A chroot named by --chroot that is not built,
    unknown, or has no interpreter that runs, and a --python command that does not run, are
    problems: what was asked for cannot be judged. Chroots that --all-interpreters finds are not
    asked for by name; what cannot be judged of them is a note."""
    result = Plan()
    impls = args.impl or ["resource", REFERENCE]
    if args.all_interpreters:
        found, result.notes = discover()
        for interpreter in found:
            result.add(impls, interpreter.label, interpreter.command, interpreter.version)
    _plan_chroots(result, impls, args.chroot, args.all_interpreters)
    _plan_pythons(result, impls, args.python)
    if not (args.all_interpreters or args.chroot or args.python):
        result.candidates += [f"--candidate={module}" for module in impls]
    return result


def _plan_chroots(result: Plan, impls: list[str], asked: list[str], all_built: bool) -> None:
    """The interpreters of the chroots ``asked`` for (each one that cannot be judged a problem)
    and, with ``all_built``, of every other built chroot (one that cannot be judged a note)."""
    for chroot in in_chroots(tuple(asked), all_built=all_built):
        if chroot.name in asked and chroot.problem:
            result.problems.append(f"chroot {chroot.name}: {chroot.problem}")
        result.notes += list(chroot.skipped) if chroot.name in asked else chroot.notes
        for interpreter in chroot.interpreters:
            result.add(impls, interpreter.label, interpreter.command, interpreter.version)


def _plan_pythons(result: Plan, impls: list[str], commands: list[str]) -> None:
    """The interpreter commands of --python; one that does not run is a problem, named with why."""
    for python in commands:
        version, cause = version_or_cause(shlex.split(python))
        if version is None:
            named = f'"{python}"' if len(python.split()) > 1 else python
            result.problems.append(f"interpreter {named}: {cause}")
        result.add(impls, python, python, version)


def _say(notes: list[str]) -> None:
    """Print notes on what is not judged, one line each."""
    for note in notes:
        print(f"rckit: {note}", file=sys.stderr)


def pytest_args(args: argparse.Namespace, planned: Plan | None = None) -> list[str]:
    """The pytest command line for parsed CLI arguments and the candidates ``planned`` for them
    (by default planned here, the notes printed)."""
    if planned is None:
        planned = plan(args)
        _say(planned.notes)
    # -rfE: the closing summary lists failures and errors only; n/a reasons are in the report.
    result = [
        str(SUITE),
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfE",
        f"--rckit-profile={args.profile}",
        f"--rckit-report={args.report}",
        f"--rckit-progress={'off' if args.quiet else 'auto'}",
    ]
    for plugin in PLUGINS:
        result += ["-p", plugin]
    if args.workers != "0":
        result += ["-n", args.workers]
    if args.strict:
        result.append("--rckit-strict")
    result += [f"--rckit-expectations={Path(f).resolve()}" for f in args.expectations]
    result += [f"--path={path}" for path in args.path]
    if args.isolation != "auto":
        result.append(f"--rckit-isolation={args.isolation}")
    if args.in_process:
        result.append("--in-process")
    return result + planned.candidates + list(args.pytest_extra)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


#: The commands of ``python -m rckit.conformance`` (and ``rckit``): name -> (the module whose main
#: runs it, what it does). Judging is the default when no command is named.
COMMANDS = {
    "judge": ("", "judge resource implementations and write the report (the default)"),
    "atlas": ("rckit.conformance.outputs.atlas", "merge reports, from any machines, into one HTML page"),
    "repro": ("rckit.conformance.outputs.repro.command", "a script that shows a failure or a known deviation again"),
    "chroots": ("rckit.conformance.environments.chroots", "build, list, probe or enter the Debian chroots"),
    "interpreters": ("rckit.conformance.environments.discovery", "the interpreters found on this machine"),
    "trace": ("rckit.conformance.tools.traceability", "the rule <-> test table, the editions' coverage, and the gate"),
    "coverage": ("rckit.spec.coverage", "how each sentence of the documentation maps to rules"),
    "observe": ("rckit.spec.observe", "run the spec's observations again on this machine's interpreters"),
    "probe": ("rckit.platforms.cprobe", "check a platform entry against the C headers"),
}


def _commands_help() -> str:
    """The list of commands, for the end of --help."""
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name:<{width}}  {what}" for name, (_, what) in COMMANDS.items()]
    return "commands (python -m rckit.conformance COMMAND --help, or rckit COMMAND --help):\n" + "\n".join(lines)


def _subcommand(argv: list[str]) -> int | None:
    """Run the command ``argv`` starts with (COMMANDS); None to judge (no command, or judge, which
    is taken off ``argv``)."""
    if not argv or argv[0] not in COMMANDS:
        return None
    module = COMMANDS[argv[0]][0]
    if not module:
        del argv[0]
        return None
    run: Callable[[list[str]], int] = importlib.import_module(module).main
    return int(run(argv[1:]) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; the process exit status of pytest (4, without running it, when a candidate
    asked for cannot be judged). SIGTERM (a CI time limit) stops it as Ctrl-C does: pytest ends
    its workers, whose candidates' agents end with them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    status = _subcommand(argv)
    if status is not None:
        return status
    args = _parser().parse_args(argv)
    planned = plan(args)
    if planned.problems:  # worded as the plugin's stop for a candidate that cannot be judged
        print("ERROR: rckit: these candidates cannot be judged:\n  " + "\n  ".join(planned.problems), file=sys.stderr)
        return int(pytest.ExitCode.USAGE_ERROR)
    _say(planned.notes)
    signal.signal(signal.SIGTERM, _interrupt)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # see PLUGINS; xdist's workers inherit it
    return int(pytest.main(pytest_args(args, planned)))


if __name__ == "__main__":
    sys.exit(main())
