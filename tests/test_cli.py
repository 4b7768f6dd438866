"""The command line builds the right pytest invocation; discovery reports what is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rckit.conformance.environments import chroots
from rckit.conformance.environments.discovery import discover
from rckit.conformance.harness.specs import CandidateSpec, interpreter_label, split_chroot
from rckit.conformance.tools import cli
from rckit.conformance.tools.cli import _parser, plan, pytest_args

from tests.conftest import run_suite


def test_default_judges_this_interpreter_in_process() -> None:
    args = pytest_args(_parser().parse_args([]))
    assert "--candidate=resource" in args and "--candidate=rckit.reference.resource" in args
    assert "--rckit-report=reports" in args


def test_only_the_kits_plugins_load() -> None:
    """The run names its plugins (autoloading is off in main), so pytest rewrites the asserts of
    the suite alone, not of every module of hypothesis and the kit."""
    args = pytest_args(_parser().parse_args([]))
    loaded = [args[i + 1] for i, arg in enumerate(args) if arg == "-p"]
    assert {"rckit.conformance.plugin", "_hypothesis_pytestplugin", "xdist.plugin"} <= set(loaded)


def test_python_and_impl_cross() -> None:
    args = pytest_args(_parser().parse_args(["--python", "pypy3", "--impl", "mymod", "-n", "0", "--strict"]))
    assert "--candidate=mymod=pypy3" in args and "--rckit-strict" in args and "-n" not in args


def test_spec_ids_and_labels() -> None:
    assert CandidateSpec.parse("resource", None).id == "host:resource"
    assert CandidateSpec.parse("resource", "/root/.pyenv/versions/3.12.1/bin/python").id == "pyenv-3.12.1:resource"
    assert interpreter_label(["chroot", "/var/cache/rckit/chroots/arm64", "/usr/bin/python3"]) == "chroot-arm64/python3"
    assert split_chroot(["chroot", "--userspec=1:1", "/srv/x", "python3", "-S"]) == ("/srv/x", ["python3", "-S"])
    assert split_chroot(["pypy3"]) == (None, ["pypy3"])


def test_discovery_never_fails() -> None:
    found, notes = discover(("no-such-arch-here",))
    assert all(i.version for i in found)
    assert any("no-such-arch-here" in note for note in notes)


def test_a_candidate_that_cannot_run_stops_the_run_with_one_line(tmp_path: Path) -> None:
    """An interpreter that reports its version but cannot start the agent: the plugin stops the
    run before any test, one line per candidate."""
    python = tmp_path / "fakepython"
    python.write_text('#!/bin/sh\ncase "$*" in *sys.version_info*) echo 3.11.0;; *) echo no agent here >&2; exit 1;; esac\n')
    python.chmod(0o755)
    done = run_suite(
        "--python", str(python), "--impl", "resource", "--impl", "no.such.module", "--report", str(tmp_path), cwd=tmp_path
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 4, output[-2000:]
    assert "fakepython:resource: its interpreter" in output and "fakepython:no.such.module: its interpreter" in output
    assert "no agent here" in output
    assert "Traceback" not in output


CANNOT_BE_JUDGED = "ERROR: rckit: these candidates cannot be judged:\n"
NOT_BUILT = "  chroot armhf: not built (build it with: python -m rckit.conformance chroots build armhf)\n"


def _without_chroots(tmp_path: Path) -> dict[str, str]:
    """The environment with an empty chroot cache: no chroot is built."""
    (tmp_path / "chroots").mkdir()
    return dict(os.environ, RCKIT_CHROOT_CACHE=str(tmp_path / "chroots"))


@pytest.mark.parametrize("also", [[], ["--all-interpreters"]], ids=["alone", "with-all-interpreters"])
def test_a_chroot_asked_for_and_not_built_stops_the_run(tmp_path: Path, also: list[str]) -> None:
    """--chroot NAME asks for that chroot: not built, nothing is judged (not the host's
    candidates instead), exit 4 with the one line that says how to build it."""
    report = tmp_path / "report"
    done = run_suite("--chroot", "armhf", *also, "--report", str(report), cwd=tmp_path, env=_without_chroots(tmp_path))
    assert (done.returncode, done.stderr, done.stdout) == (4, CANNOT_BE_JUDGED + NOT_BUILT, "")
    assert not report.exists()


def _fake_built_chroot(cache: Path, name: str) -> None:
    """A chroot the kit takes for built (its marker, of a release it builds it from) with no
    interpreter in it."""
    (cache / name).mkdir(parents=True)
    marker = {"arch": name, "suite": chroots.architecture(name).suites[0]}
    (cache / name / chroots.MARKER).write_text(json.dumps(marker))


def test_a_chroot_asked_for_where_no_interpreter_runs_stops_the_run(tmp_path: Path) -> None:
    env = _without_chroots(tmp_path)
    _fake_built_chroot(Path(env["RCKIT_CHROOT_CACHE"]), "armhf")
    done = run_suite("--chroot", "armhf", "--report", str(tmp_path / "report"), cwd=tmp_path, env=env)
    assert done.returncode == 4, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] + "\n" == CANNOT_BE_JUDGED and len(lines) == 2, done.stderr
    assert lines[1].startswith("  chroot armhf: no interpreter in it runs (python3: "), done.stderr


def test_all_interpreters_notes_a_built_chroot_that_cannot_be_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without naming it, a chroot that --all-interpreters finds is a note, not a stop."""
    monkeypatch.setattr(chroots, "CACHE", tmp_path)
    _fake_built_chroot(tmp_path, "armhf")
    found = plan(_parser().parse_args(["--all-interpreters"]))
    assert not found.problems
    assert any(note.startswith("chroot armhf: no interpreter in it runs") for note in found.notes), found.notes
    assert not any("chroot" in candidate for candidate in found.candidates)


@pytest.mark.parametrize(("python", "cause"), [("/nonexistent/python3", "not found"), ("python3", "cannot be started")])
def test_a_python_that_does_not_run_stops_the_run(tmp_path: Path, python: str, cause: str) -> None:
    """--python COMMAND that does not run (missing; a file that is not executable): exit 4 with one
    line naming the command and the cause."""
    if python == "python3":
        python = str(tmp_path / "python3")
        Path(python).write_text("not a program\n")
    done = run_suite("--python", python, "--report", str(tmp_path / "report"), cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert done.stderr.startswith(f"{CANNOT_BE_JUDGED}  interpreter {python}: {cause}"), done.stderr
    assert len(done.stderr.splitlines()) == 2, done.stderr


def test_the_reference_is_not_judged_below_its_minimum_version() -> None:
    """An interpreter reporting 2.7 (this one, told to print it) gets its C module judged, not the reference."""
    old_python = f"{sys.executable} -c 'print(\"2.7.18\")' --"
    args = pytest_args(_parser().parse_args(["--python", old_python]))
    assert f"--candidate=resource={old_python}" in args
    assert not any(a.startswith("--candidate=rckit.reference.resource=") for a in args)


def _entries_without_help(text: str) -> list[str]:
    """The arguments an argparse --help lists with no help text: an entry line (two spaces, then
    the argument) whose text neither follows on the same line nor on a deeper-indented next line."""
    lines = text.splitlines()
    missing = []
    for index, line in enumerate(lines):
        if not line.startswith("  ") or line.startswith("   ") or line.strip().startswith("{"):
            continue
        entry = line.strip()
        same_line = "  " in entry
        following = lines[index + 1] if index + 1 < len(lines) else ""
        next_line = following.startswith(" " * 8) and following.strip() != ""
        if not (same_line or next_line):
            missing.append(entry)
    return missing


def _help(*command: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "rckit.conformance", *command, "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_lists_every_command() -> None:
    text = _help()
    for name, (_, what) in cli.COMMANDS.items():
        assert f"  {name}" in text and what in text, name
    assert not _entries_without_help(text.split("commands (")[0])


@pytest.mark.parametrize("command", [c for c in cli.COMMANDS if c != "judge"])
def test_every_command_has_help_for_every_argument(command: str) -> None:
    assert not _entries_without_help(_help(command))


@pytest.mark.parametrize("sub", ["build", "probe", "list", "interpreters", "enter"])
def test_every_chroots_subcommand_has_help_for_every_argument(sub: str) -> None:
    assert not _entries_without_help(_help("chroots", sub))


def test_judge_is_the_default_command_and_can_be_named() -> None:
    args = cli._parser().parse_args(["--impl", "x"])
    named = ["judge", "--impl", "x"]
    assert cli._subcommand(named) is None and named == ["--impl", "x"]
    assert cli.pytest_args(cli._parser().parse_args(named)) == cli.pytest_args(args)


@pytest.mark.parametrize("runner", [["-m", "rckit"], ["-m", "rckit.conformance"]])
def test_python_dash_m_rckit_is_the_same_command(runner: list[str], tmp_path: Path) -> None:
    """``python -m rckit`` runs the CLI as ``python -m rckit.conformance`` does (from any folder),
    and ``rckit`` stays a namespace package: no folder of the kit makes it a regular one."""
    done = subprocess.run([sys.executable, *runner, "trace", "--help"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "--check" in done.stdout, done
    code = "import rckit; print(getattr(rckit, '__file__', None))"
    spec = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert spec.stdout.strip() == "None", spec
