"""Interpreters with a piece missing, made from the harness's own CPython for the kit's tests.

A ``sitecustomize.py`` runs at every start of an interpreter whose path holds it; a two-line
wrapper script puts it there. That is how a user would try the kit on a CPython without
``os.fork`` (what GraalPy is), and how the tests make interpreters that lack a module or a
function the agent needs. No other tool is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["FORKLESS", "interpreter_without"]

#: The lines that take fork away: what GraalPy lacks ("module 'os' has no attribute 'fork'").
FORKLESS = """\
import os
for _name in ("fork", "forkpty", "fork1"):
    if hasattr(os, _name):
        delattr(os, _name)
"""


def interpreter_without(directory: Path, name: str, customize: str = FORKLESS) -> Path:
    """A wrapper around this interpreter, ``directory/name``, that runs ``customize`` at start
    (its sitecustomize, first on PYTHONPATH, which its children inherit). Returns the wrapper."""
    site = directory / f"{name}-site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "sitecustomize.py").write_text(customize)
    wrapper = directory / name
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{site}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper
