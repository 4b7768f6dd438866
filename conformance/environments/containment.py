"""How a candidate's processes are kept in: every agent starts under a warden.

* The warden (:mod:`rckit.conformance.environments.warden`) runs the agent as its child and adopts, as child
  subreaper, every process below it that loses its parent (a daemon that called ``setsid``
  included); when the agent ends, or the harness tells it to (SIGTERM), it kills them all.
* The warden dies with the harness process that started it: PR_SET_PDEATHSIG delivers SIGTERM
  (Linux), so a harness killed by a CI time limit or Ctrl-C leaves nothing running.
* With root and util-linux ``unshare`` (Linux) the warden also starts a PID namespace (and a
  private mount namespace with its own /proc): the candidate cannot see, so cannot signal or
  prlimit, any process outside it, and the kernel kills whatever is left when the warden exits.

``RCKIT_NO_PID_NAMESPACE=1`` turns the namespace off (to exercise the warden on its own).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence

from rckit.conformance.environments.warden import PR_SET_PDEATHSIG, prctl

__all__ = ["PID_NAMESPACES", "contained_argv", "end", "preexec"]

#: How long the warden gets to end what is below it before its whole group is killed.
END_GRACE = 3.0


def _uses_pid_namespaces() -> bool:
    return (
        sys.platform.startswith("linux")
        and os.geteuid() == 0
        and shutil.which("unshare") is not None
        and os.environ.get("RCKIT_NO_PID_NAMESPACE") != "1"
    )


#: Agents run in PID namespaces of their own (root, Linux, util-linux unshare).
PID_NAMESPACES = _uses_pid_namespaces()


def _end_with_parent() -> None:
    """Run in the child between fork and exec: SIGTERM when the harness process dies."""
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def preexec() -> Callable[[], None] | None:
    """The ``preexec_fn`` for a warden's Popen (None where it has no effect)."""
    return _end_with_parent if sys.platform.startswith("linux") else None


def contained_argv(command: Sequence[str], root: str | None = None) -> list[str]:
    """The command line that runs ``command`` (chrooted into ``root`` if given) under a warden,
    in PID and mount namespaces of its own where the machine allows."""
    where = ["--root", root] if root else []
    warden = [sys.executable, "-m", "rckit.conformance.environments.warden", *where]
    if PID_NAMESPACES:
        unshare = ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private"]
        return [*unshare, *warden, "--proc", "--", *command]
    return [*warden, "--", *command]


def end(process: subprocess.Popen[bytes]) -> None:
    """End a warden and everything below it. In a PID namespace, SIGKILL to its process group
    (unshare and the warden) is enough: the kernel ends the namespace. Otherwise SIGTERM first (the
    warden kills what it keeps), then, after END_GRACE seconds, SIGKILL to the group."""
    if process.poll() is None and not PID_NAMESPACES:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=END_GRACE)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
