"""Reading the kernel's own account of a process's limits, /proc/<pid>/limits, by resource.

Linux prints one row per resource in its own RLIMIT_* order, named by fs/proc/base.c (the
``lnames`` table of proc_pid_limits). The order is the kernel's numbering, which is not every
guest's: under qemu-user a MIPS interpreter (RLIMIT_NOFILE 5, RLIMIT_RSS 7) reads the x86_64
host kernel's rows (RLIMIT_RSS 5, RLIMIT_NOFILE 7). So rows are matched by name, and the names to
the candidate platform's numbers from platforms/ data (the candidate's own constants only where
the kit has no entry for its platform).
"""

from __future__ import annotations

from typing import Any

from rckit.conformance.harness.info import Info

__all__ = ["ROW_NAMES", "kernel_limits"]

#: The row names of /proc/<pid>/limits (fs/proc/base.c, lnames[]) and the resource of each.
ROW_NAMES = {
    "Max cpu time": "RLIMIT_CPU",
    "Max file size": "RLIMIT_FSIZE",
    "Max data size": "RLIMIT_DATA",
    "Max stack size": "RLIMIT_STACK",
    "Max core file size": "RLIMIT_CORE",
    "Max resident set": "RLIMIT_RSS",
    "Max processes": "RLIMIT_NPROC",
    "Max open files": "RLIMIT_NOFILE",
    "Max locked memory": "RLIMIT_MEMLOCK",
    "Max address space": "RLIMIT_AS",
    "Max file locks": "RLIMIT_LOCKS",
    "Max pending signals": "RLIMIT_SIGPENDING",
    "Max msgqueue size": "RLIMIT_MSGQUEUE",
    "Max nice priority": "RLIMIT_NICE",
    "Max realtime priority": "RLIMIT_RTPRIO",
    "Max realtime timeout": "RLIMIT_RTTIME",
}


def kernel_limits(info: Info, reply: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """The agent's ``proc_limits`` reply as {resource number: (soft, hard)} in the candidate
    platform's numbering, RLIM_INFINITY where the kernel says unlimited. A row the kit cannot
    name is left out."""
    constants = info.target.constants if info.target is not None else info.constants
    found = {}
    for name, soft, hard in reply["rows"]:
        resource = ROW_NAMES.get(name)
        if resource is None or resource not in constants:
            continue
        found[constants[resource]] = (info.infinity if soft is None else soft, info.infinity if hard is None else hard)
    return found
