# -*- coding: utf-8 -*-
"""How the harness starts an agent: agent.py from the bytecode of its stage.

    python agent_boot.py --module resource [--path DIR]...     (agent.py's own arguments)

The harness copies agent.py, exec_report.py, this file and the reference into a fresh stage
directory (candidates.stage) and starts agents with PYTHONDONTWRITEBYTECODE, so that nothing is
ever written beside a candidate's own code. Run as a script, agent.py would be compiled at each
start, and the reference at each import: about 1 s each under qemu, where a candidate starts five
agents and exec's 25 fresh interpreters. The first agent of each interpreter therefore compiles
the stage (only the stage: py_compile writes the interpreter's own cache files there, whatever the
environment says), and every agent runs from that bytecode. Runs on Python 2.7 and 3.x.
"""

import os
import sys


def cache_of(source):
    # type: (str) -> str
    """Where this interpreter keeps the bytecode of ``source``."""
    if sys.version_info[0] == 2:
        return source + "c"
    import importlib.util

    return importlib.util.cache_from_source(source)


def compile_tree(top):
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


def main():
    # type: () -> None
    """Compile the stage if this interpreter has not yet, then run agent.py as ``__main__``."""
    programs = os.path.dirname(os.path.abspath(__file__))
    try:
        if not os.path.exists(cache_of(os.path.join(programs, "agent.py"))):
            compile_tree(os.path.dirname(programs))  # the programs and the rckit packages beside them
    except Exception:  # no bytecode cache here (cache_tag None, say): the agent runs from source
        pass
    import runpy

    runpy.run_module("agent", run_name="__main__")


if __name__ == "__main__":
    main()
