"""Find the interpreters on this machine: pyenv's CPythons (kept off PATH), Debian's pypy3 and
python3, and the interpreters of built chroots (every CPython, debug build and PyPy of a Debian
release chroot; the python3 of an architecture chroot). What is missing is reported, never an error."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "REFERENCE_MIN",
    "WANTED_PYENV",
    "InChroot",
    "Interpreter",
    "discover",
    "find",
    "in_chroots",
    "main",
    "version_of",
    "version_or_cause",
]

#: The CPython versions the kit is exercised against (pyenv version prefixes). A version pyenv
#: lacks is looked for on PATH as pythonX.Y (how setup-python and most systems install them).
WANTED_PYENV = ("2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
#: The reference implementation runs from this Python version on.
REFERENCE_MIN = (3, 8)

_VERSION_SCRIPT = "import sys; print('%d.%d.%d' % sys.version_info[:3])"


@dataclass(frozen=True)
class Interpreter:
    """An interpreter command and the Python version it reports."""

    label: str
    command: str
    version: tuple[int, ...]
    implementation: str = "cpython"

    @property
    def name(self) -> str:
        """The short name sessions use: cpython3.12, pypy3.9, ..."""
        return f"{self.implementation}{self.version[0]}.{self.version[1]}"

    @property
    def runs_reference(self) -> bool:
        """The reference implementation supports this version."""
        return self.version[:2] >= REFERENCE_MIN


@dataclass(frozen=True)
class InChroot:
    """What one chroot holds to judge: the interpreters in it that run, notes on those that do
    not, and why nothing in it can be judged (unknown, not built, no interpreter runs), if so."""

    name: str
    interpreters: tuple[Interpreter, ...] = ()
    skipped: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def notes(self) -> list[str]:
        """What to tell about it when nothing asked for it by name: why none of it is judged, or
        which of its interpreters are not."""
        return [f"chroot {self.name}: {self.problem}"] if self.problem else list(self.skipped)


#: How long an interpreter gets to print its version (a chroot's under qemu starts in seconds).
VERSION_TIMEOUT = 60


def version_of(command: list[str]) -> tuple[int, ...] | None:
    """The Python version an interpreter command reports, or None if it does not run."""
    return version_or_cause(command)[0]


def version_or_cause(command: list[str]) -> tuple[tuple[int, ...] | None, str]:
    """(the Python version an interpreter command reports, "") or, when it does not run, (None,
    why: "not found", "exited with status 1: <its last line of stderr>", ...)."""
    try:
        done = subprocess.run(
            [*command, "-c", _VERSION_SCRIPT], capture_output=True, text=True, timeout=VERSION_TIMEOUT, check=False
        )
    except FileNotFoundError:
        return None, "not found" if len(command) == 1 else f"{command[0]} not found"
    except OSError as exc:
        return None, f"cannot be started ({exc.strerror or exc})"
    except subprocess.TimeoutExpired:
        return None, f"did not print its version within {VERSION_TIMEOUT} s"
    if done.returncode != 0:
        return None, _exit_cause(done.returncode, done.stderr)
    version = _parse_version(done.stdout)
    if version is None:
        return None, f"did not print its version (printed {done.stdout.strip()[-80:]!r})"
    return version, ""


def _exit_cause(status: int, stderr: str) -> str:
    """How a command that failed ended, with the last line it wrote to stderr."""
    how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f"{how}: {lines[-1][:200]}" if lines else how


def _parse_version(stdout: str) -> tuple[int, ...] | None:
    """The version in the last line of the version script's output, or None if it is not one."""
    lines = stdout.strip().splitlines()
    parts = lines[-1].strip().split(".") if lines else []
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def pyenv_label(executable: str) -> str | None:
    """``pyenv-VERSION`` for an interpreter installed by pyenv (``.../versions/VERSION/bin/python``),
    else None: the name discovery gives it and the label of candidate ids."""
    parts = Path(executable).parts
    if "versions" in parts and parts.index("versions") + 1 < len(parts):
        return "pyenv-" + parts[parts.index("versions") + 1]
    return None


def _pyenv_root() -> Path | None:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    if shutil.which("pyenv"):
        done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return Path(done.stdout.strip())
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def discover(chroot_names: tuple[str, ...] = (), all_built: bool = False) -> tuple[list[Interpreter], list[str]]:
    """(interpreters found, notes about what was looked for and not found). Chroots: those named,
    and with ``all_built`` every chroot that is built here."""
    found: list[Interpreter] = []
    notes: list[str] = []
    root = _pyenv_root()
    versions = sorted((root / "versions").iterdir()) if root and (root / "versions").is_dir() else []
    if root is None:
        notes.append("pyenv not found: no CPython 2.7/3.6-3.13 from pyenv")
    for wanted in WANTED_PYENV:
        matches = [v for v in versions if v.name == wanted or v.name.startswith(wanted + ".")]
        binary = next((v / "bin" / "python" for v in reversed(matches) if (v / "bin" / "python").exists()), None)
        version = version_of([str(binary)]) if binary else None
        if binary is not None and version is not None:
            found.append(Interpreter(pyenv_label(str(binary)) or binary.parent.parent.name, str(binary), version))
            continue
        on_path = _on_path(f"python{wanted}")
        if on_path is not None:
            found.append(on_path)
            continue
        notes.append(f"no working CPython {wanted} in pyenv or on PATH (skipped)")
    for name in ("pypy3", "python3"):
        exe = shutil.which(name, path="/usr/bin")
        version = version_of([exe]) if exe else None
        if exe is None or version is None:
            notes.append(f"/usr/bin/{name} not found (skipped; Debian: apt-get install {name})")
            continue
        if any(os.path.realpath(exe) == os.path.realpath(i.command) for i in found):
            continue  # Debian's python3 is the python3.X found on PATH already
        found.append(Interpreter(f"debian-{name}", exe, version, "pypy" if name == "pypy3" else "cpython"))
    for chroot in in_chroots(chroot_names, all_built):
        found += chroot.interpreters
        notes += chroot.notes
    return found, notes


def _on_path(name: str) -> Interpreter | None:
    """``name`` (python3.14, ...) on PATH, if it runs."""
    exe = shutil.which(name)
    version = version_of([exe]) if exe else None
    return Interpreter(f"path-{name}", exe, version) if exe and version else None


def in_chroots(names: tuple[str, ...], all_built: bool = False) -> list[InChroot]:
    """What the chroots ``names`` hold to judge, and with ``all_built`` every chroot built here
    (each once, the named first)."""
    from rckit.conformance.environments import chroots

    built = [name for name in chroots.chroot_names() if all_built and chroots.is_built(name)]
    return [_in_chroot(name) for name in dict.fromkeys([*names, *built])]


def _in_chroot(name: str) -> InChroot:
    """What the chroot ``name`` holds to judge (never an error: an unknown or unbuilt chroot, or
    one where no interpreter runs, says so in ``problem``)."""
    from rckit.conformance.environments import chroots

    if name not in chroots.chroot_names():
        return InChroot(name, problem=f"unknown (known: {', '.join(chroots.chroot_names())})")
    if not chroots.is_built(name):
        return InChroot(name, problem=f"not built (build it with: python -m rckit.conformance chroots build {name})")
    found, causes = [], {}
    for command in chroots.interpreters(name):
        exe = command.rsplit("/", 1)[-1]
        version, cause = version_or_cause(command.split())
        if version is None:
            causes[exe] = cause
        else:
            found.append(_chroot_interpreter(name, command, exe, version))
    skipped = tuple(f"chroot {name}: {exe} does not run, skipped ({cause})" for exe, cause in causes.items())
    listed = "; ".join(f"{exe}: {cause}" for exe, cause in causes.items()) or "it has none"
    return InChroot(name, tuple(found), skipped, None if found else f"no interpreter in it runs ({listed})")


def _chroot_interpreter(name: str, command: str, exe: str, version: tuple[int, ...]) -> Interpreter:
    """The interpreter ``exe`` of the chroot ``name``: labelled by the chroot for an architecture
    chroot (its one python3), by the chroot and the executable for a release chroot."""
    from rckit.conformance.environments import chroots

    if chroots.release(name) is None:
        return Interpreter(f"chroot-{name}", command, version)
    implementation = "pypy" if exe.startswith("pypy") else "cpython"
    return Interpreter(f"{name}-{exe}", command, version, implementation)


def find(name: str) -> Interpreter | None:
    """The interpreter a session calls ``name`` (cpython3.8, pypy3.9, debian-python3, ...), or None.
    pyenv's CPythons come before Debian's for the same version."""
    found, _ = discover()
    return next((i for i in found if name in (i.name, i.label)), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Print what was found as JSON (or, with --find NAME, that one's command; exit 3 if absent)."""
    parser = argparse.ArgumentParser(prog="python -m rckit.conformance interpreters", description=__doc__.split("\n")[0])
    parser.add_argument("--find", metavar="NAME", help="print the command of this interpreter (cpython3.8, pypy3.9, ...)")
    args = parser.parse_args(argv)
    if args.find:
        interpreter = find(args.find)
        if interpreter is None:
            print(f"{args.find} is not installed here", file=sys.stderr)
            return 3
        print(interpreter.command)
        return 0
    found, notes = discover()
    print(json.dumps({"found": [dict(asdict(i), name=i.name) for i in found], "missing": notes}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
