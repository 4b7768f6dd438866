# -*- coding: utf-8 -*-
"""The programs a child process of the agent runs (``start_child``): forked, or in a fresh
interpreter as ``boot.py --child KIND JSON``."""

from __future__ import absolute_import, print_function

import os
import sys
import time

from .experiments import act_spin
from .facts import stdlib_resource
from .workloads import workload

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401


def _child_privilege(params):
    """Exit 0 if this process can raise a hard limit it lowered, 1 if it cannot, 2 if unknown."""
    lib = stdlib_resource()
    if lib is None and params.get("module"):
        for path in reversed(params.get("paths", [])):
            sys.path.insert(0, path)
        lib = __import__(params["module"], fromlist=["_"])
    core, infinity = lib.RLIMIT_CORE, lib.RLIM_INFINITY
    soft, hard = lib.getrlimit(core)
    # A finite hard limit at most 1000, a soft limit under it, then one step up.
    hard = 1000 if hard == infinity or hard > 1000 else hard
    soft = hard if soft == infinity or soft > hard else soft
    lib.setrlimit(core, (soft, hard))
    try:
        lib.setrlimit(core, (soft, hard + 1))
        return 0
    except (ValueError, OSError):
        return 1


def _child_import(params):
    """Exit 0 if ``module`` imports from ``file`` here, else 1."""
    module = __import__(params["module"], fromlist=["_"])
    return 0 if getattr(module, "__file__", None) == params["file"] else 1


def _child_spin(params):
    """Burn ``seconds`` of CPU, then exit."""
    act_spin({"seconds": params["seconds"]}, None)
    return 0


def _child_workloads(params):
    """Run each workload of ``kinds`` (see workload), then exit."""
    for kind in params["kinds"]:
        prepare, run, clean_up = workload(kind, params)
        prepare()
        run()
        clean_up()
    return 0


def _child_compete(params):
    """Compute until killed: a competitor for the CPU."""
    while True:
        sum(range(2000))


def _child_sleep(params):
    """Sleep (a target for prlimit), first as user ``uid`` if given and this process is root."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    if params.get("uid") is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(params["uid"])
        os.setuid(params["uid"])
    time.sleep(params.get("seconds", 60))
    return 0


#: The programs a child process runs (start_child): forked, or as ``boot.py --child KIND JSON``.
CHILD_PROGRAMS = {
    "privilege": _child_privilege,
    "import": _child_import,
    "spin": _child_spin,
    "workloads": _child_workloads,
    "compete": _child_compete,
    "sleep": _child_sleep,
}
