"""The stage: the agent package and the rckit packages it needs, copied where a candidate's
interpreter can read them (a temporary folder, inside a chroot for a chroot's candidates)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rckit.conformance import agent

_stages: dict[str, tuple[str, str]] = {}
#: The agent package, in every stage under this name of its own beside the ``rckit`` packages: the
#: folder a program runs from is first on its sys.path, and a candidate's own modules named like
#: the agent's (main, worker, ...) must not be found there, so boot.py takes it off and imports
#: the agent as this package (the one top-level name the stage adds, and one no candidate uses).
PROGRAMS = "_rckit_agent"


def temporary_folder(prefix: str, root: str | None, forget: bool = True) -> Path:
    """A fresh folder in the temporary directory the candidate sees: /tmp inside the chroot
    ``root``, else this machine's. With ``forget`` it is removed when the harness exits."""
    base = Path(root) / "tmp" if root else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    if forget:
        atexit.register(shutil.rmtree, folder, True)
    return folder


def seen_inside(root: str | None, path: Path) -> str:
    """``path`` (a harness path under the chroot ``root``, if any) as the candidate sees it."""
    return "/" + str(path.relative_to(root)) if root else str(path)


def stage(root: str | None) -> tuple[str, str]:
    """Copy the agent package (rckit.conformance.agent, with boot.py, which starts it, and
    exec_limits.py, the program it exec's) as PROGRAMS and the rckit.reference / rckit.platforms
    packages beside it, in a fresh directory (under ``root`` for a chroot). Returns (the program
    that starts an agent, import path) as the candidate sees them."""
    key = root or ""
    if key in _stages:
        return _stages[key]
    from rckit import platforms, reference

    directory = temporary_folder("rckit-stage-", root)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(agent.__file__).parent, directory / PROGRAMS, ignore=ignore)
    (directory / "rckit").mkdir()
    shutil.copytree(next(iter(reference.__path__)), directory / "rckit" / "reference", ignore=ignore)
    shutil.copytree(next(iter(platforms.__path__)), directory / "rckit" / "platforms", ignore=ignore)
    seen = seen_inside(root, directory)
    _stages[key] = (f"{seen}/{PROGRAMS}/boot.py", seen)
    return _stages[key]


def stage_paths(paths: Sequence[str], root: str | None) -> list[str]:
    """The user's import folders as the candidate sees them: as given, or copied into a chroot."""
    if root is None:
        return [str(Path(p).resolve()) for p in paths]
    seen = []
    for path in paths:
        inside = temporary_folder("rckit-path-", root)
        shutil.copytree(path, inside, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        seen.append(seen_inside(root, inside))
    return seen
