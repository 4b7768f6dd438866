"""The command line builds the right pytest invocation; discovery reports what is missing."""

from __future__ import annotations

from rckit.conformance.candidates import CandidateSpec, interpreter_label, split_chroot
from rckit.conformance.cli import _parser, pytest_args
from rckit.conformance.discovery import discover


def test_default_judges_this_interpreter_in_process() -> None:
    args = pytest_args(_parser().parse_args([]))
    assert "--candidate=resource" in args and "--candidate=rckit.reference.resource" in args
    assert "--rckit-report=reports" in args


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
