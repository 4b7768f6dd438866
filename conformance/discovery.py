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

__all__ = ["REFERENCE_MIN", "WANTED_PYENV", "Interpreter", "discover", "find", "main", "version_of"]

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


def version_of(command: list[str]) -> tuple[int, ...] | None:
    """The Python version an interpreter command reports, or None if it does not run."""
    try:
        done = subprocess.run([*command, "-c", _VERSION_SCRIPT], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return tuple(int(part) for part in done.stdout.strip().split("."))


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
            found.append(Interpreter(f"pyenv-{matches[-1].name}", str(binary), version))
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
    found += _chroot_interpreters(chroot_names, all_built, notes)
    return found, notes


def _on_path(name: str) -> Interpreter | None:
    """``name`` (python3.14, ...) on PATH, if it runs."""
    exe = shutil.which(name)
    version = version_of([exe]) if exe else None
    return Interpreter(f"path-{name}", exe, version) if exe and version else None


def _chroot_interpreters(names: tuple[str, ...], all_built: bool, notes: list[str]) -> list[Interpreter]:
    from rckit.conformance import chroots

    wanted = list(dict.fromkeys([*names, *(n for n in chroots.chroot_names() if all_built and chroots.is_built(n))]))
    found = []
    for name in wanted:
        if not chroots.is_built(name):
            notes.append(f"chroot {name} is not built (python -m rckit.conformance.chroots build {name})")
            continue
        for command in chroots.interpreters(name):
            exe = command.rsplit("/", 1)[-1]
            version = version_of(command.split())
            if version is None:
                notes.append(f"chroot {name}: {exe} does not run (skipped)")
                continue
            if chroots.release(name) is None:
                found.append(Interpreter(f"chroot-{name}", command, version))
            else:
                implementation = "pypy" if exe.startswith("pypy") else "cpython"
                found.append(Interpreter(f"{name}-{exe}", command, version, implementation))
    return found


def find(name: str) -> Interpreter | None:
    """The interpreter a session calls ``name`` (cpython3.8, pypy3.9, debian-python3, ...), or None.
    pyenv's CPythons come before Debian's for the same version."""
    found, _ = discover()
    return next((i for i in found if name in (i.name, i.label)), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Print what was found as JSON (or, with --find NAME, that one's command; exit 3 if absent)."""
    parser = argparse.ArgumentParser(prog="python -m rckit.conformance.discovery", description=__doc__.split("\n")[0])
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
