"""Run a reproducer script the way the failing run ran its candidate: same interpreter command
(a chroot included), the kit's reference and the user's folders importable, and the
fault-injection library rebuilt when the example needs it and the recorded one is gone.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from rckit.conformance.harness.candidates import AgentCandidate
from rckit.conformance.harness.specs import CandidateSpec, split_chroot
from rckit.conformance.harness.staging import seen_inside, stage, stage_paths, temporary_folder
from rckit.conformance.outputs.repro.script import Failure

__all__ = ["Ran", "run"]


@dataclass(frozen=True)
class Ran:
    """What a reproducer did: its exit status and output."""

    returncode: int
    output: str

    @property
    def reproduced(self) -> bool:
        """The script says the deviation showed again (and exited 1)."""
        return self.returncode == 1 and "\nREPRODUCED: " in self.output


def _inject_library(failure: Failure, python: list[str], root: str | None) -> str | None:
    """The injection library as the candidate sees it, built afresh (None: no toolchain)."""
    from rckit.conformance.environments.toolchain import inject_library_for

    candidate = AgentCandidate(CandidateSpec(failure.example.get("module", "resource"), tuple(python)))
    try:
        library = inject_library_for(candidate.info)
        return candidate.expose(library) if library is not None else None
    finally:
        candidate.close()


def run(failure: Failure, script: str, timeout: float = 300) -> Ran:
    """Run ``script`` (rendered for ``failure``) with the interpreter its example ran in."""
    example = failure.example
    python = list(example.get("python") or ["python3"])
    root, _ = split_chroot(python)
    directory = temporary_folder("rckit-repro-", root)
    (directory / "repro.py").write_text(script)
    directory.chmod(0o755)  # a step may run as another user (the unprivileged examples)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    if example.get("module", "resource") != "resource":
        env["PYTHONPATH"] = os.pathsep.join([stage(root)[1], *stage_paths(example.get("paths", []), root)])
    recorded = next((s["env"].get("LD_PRELOAD") for s in example["steps"] if s.get("env")), None)
    if recorded and not Path((root or "/") + recorded).exists():
        library = _inject_library(failure, python, root)
        if library:
            env["RCKIT_INJECT_LIBRARY"] = library
    try:
        done = subprocess.run(
            [*python, seen_inside(root, directory / "repro.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return Ran(-1, f"the reproducer did not finish within {timeout:.0f} s: {exc.stdout!r}")
    except OSError as exc:  # the report was made on another machine
        return Ran(127, f"cannot run {shlex.join(python)} here: {exc}\n")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return Ran(done.returncode, done.stdout + done.stderr)
