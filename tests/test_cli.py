"""The command line builds the right pytest invocation; discovery reports what is missing."""

from __future__ import annotations

import sys
from pathlib import Path

from rckit.conformance.candidates import CandidateSpec, interpreter_label, split_chroot
from rckit.conformance.cli import _parser, pytest_args
from rckit.conformance.discovery import discover

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
    done = run_suite(
        "--python",
        "/nonexistent/python",
        "--impl",
        "resource",
        "--impl",
        "no.such.module",
        "--report",
        str(tmp_path),
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 4, output[-2000:]
    assert "python:resource: its interpreter does not run" in output
    assert "python:no.such.module: its interpreter does not run" in output
    assert "Traceback" not in output


def test_the_reference_is_not_judged_below_its_minimum_version() -> None:
    """An interpreter reporting 2.7 (this one, told to print it) gets its C module judged, not the reference."""
    old_python = f"{sys.executable} -c 'print(\"2.7.18\")' --"
    args = pytest_args(_parser().parse_args(["--python", old_python]))
    assert f"--candidate=resource={old_python}" in args
    assert not any(a.startswith("--candidate=rckit.reference.resource=") for a in args)
