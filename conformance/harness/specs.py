"""What to judge: a candidate's spec (a module in an interpreter command, with its import paths and
isolation), and the names made from an interpreter command line."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rckit.conformance.environments.discovery import pyenv_label

#: How a candidate's limit-changing examples get a process of their own (CandidateSpec.isolation).
ISOLATION_MODES = ("auto", "fork", "spawn")


@dataclass(frozen=True)
class CandidateSpec:
    """What to judge: ``module`` in the interpreter ``python`` (None: the harness's own), found
    on the import ``paths`` given (staged into a chroot), in an agent unless ``in_process``."""

    module: str
    python: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    paths: tuple[str, ...] = ()
    in_process: bool = False
    #: How sessions are made: "auto" (fork where the interpreter can, probed), "fork" or "spawn".
    isolation: str = "auto"

    @property
    def id(self) -> str:
        """A stable id made from the spec alone (it names test parameters and report columns)."""
        label = "in-process" if self.in_process else interpreter_label(self.python)
        return f"{label}:{self.module}"

    @classmethod
    def parse(
        cls, module: str, python: str | None, paths: Sequence[str] = (), in_process: bool = False, isolation: str = "auto"
    ) -> CandidateSpec:
        """From command-line strings; ``python`` may carry a prefix such as ``chroot DIR``."""
        return cls(module, tuple(shlex.split(python)) if python else None, (), tuple(paths), in_process, isolation)


def interpreter_label(argv: Sequence[str] | None) -> str:
    """A short name for an interpreter command line: host, pyenv-3.12.1, pypy3, chroot-arm64."""
    if not argv:
        return "host"
    root = chroot_root(argv)
    exe = argv[-1]
    name = pyenv_label(exe) or Path(exe).name
    return f"chroot-{Path(root).name}/{name}" if root else name


def chroot_root(argv: Sequence[str]) -> str | None:
    """The new root of a ``chroot [options] DIR cmd...`` prefix, if the command has one."""
    return split_chroot(argv)[0]


def split_chroot(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """(DIR, cmd) for ``chroot [options] DIR cmd...``; (None, argv) for any other command."""
    if argv and Path(argv[0]).name == "chroot":
        for index, arg in enumerate(argv[1:], 1):
            if not arg.startswith("-"):
                return arg, list(argv[index + 1 :])
    return None, list(argv)
