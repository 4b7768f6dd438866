# -*- coding: utf-8 -*-
"""How the harness starts an agent: the agent package from the bytecode of its stage.

    python boot.py --module resource [--path DIR]...     (the agent's own arguments, main.py)

The harness copies this package (as ``_rckit_agent``) and the reference into a fresh stage
directory (candidates.stage) and starts agents with PYTHONDONTWRITEBYTECODE, so that nothing is
ever written beside a candidate's own code. From source, the agent would be compiled at each
start, and the reference at each import: about 1 s each under qemu, where a candidate starts five
agents and exec's 25 fresh interpreters. The first agent of each interpreter therefore compiles
the stage (only the stage: py_compile writes the interpreter's own cache files there, whatever the
environment says), and every agent runs from that bytecode.

Python puts this program's folder first on sys.path; it is taken off before anything else, so
that a candidate's own modules named like the agent's (main, worker, codec, ...) are the ones it
imports. The package is imported by its name from the stage's folder, then the stage is left on
sys.path only as the agent's --path puts it there. Runs on Python 2.7 and 3.x.
"""

import os
import sys


def _cache_of(source):
    # type: (str) -> str
    """Where this interpreter keeps the bytecode of ``source``."""
    if sys.version_info[0] == 2:
        return source + "c"
    import importlib.util

    return importlib.util.cache_from_source(source)


def _compile_tree(top):
    # type: (str) -> None
    """Compile every .py file under ``top`` that this interpreter can compile (the reference is
    Python 3.8+; an older interpreter keeps its source, and a file that does not compile is
    left to fail as it would have)."""
    import py_compile

    for folder, _, names in os.walk(top):
        for name in sorted(names):
            if name.endswith(".py"):
                try:
                    py_compile.compile(os.path.join(folder, name), doraise=True)
                except Exception:
                    pass


def _leave_sys_path(folder):
    # type: (str) -> None
    """Take ``folder`` (this program's own, which Python puts first) off sys.path: a candidate's
    own modules named like the agent's must be the ones it imports."""
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != folder]


def main():
    # type: () -> None
    """Compile the stage if this interpreter has not yet, then run the agent's main."""
    package = os.path.dirname(os.path.abspath(__file__))
    stage = os.path.dirname(package)
    _leave_sys_path(package)
    try:
        if not os.path.exists(_cache_of(os.path.join(package, "main.py"))):
            _compile_tree(stage)  # the agent and the rckit packages beside it
    except Exception:  # no bytecode cache here (cache_tag None, say): the agent runs from source
        pass
    sys.path.insert(0, stage)
    try:
        agent = __import__(os.path.basename(package) + ".main", fromlist=["run"])
    finally:
        del sys.path[0]
    agent.run()


if __name__ == "__main__":
    main()
