"""The keeper of one agent: starts it, adopts whatever it leaves behind, and ends it all.

    python -m rckit.conformance.environments.warden [--root DIR] [--proc] -- COMMAND...

The harness starts every agent under a warden. The warden runs COMMAND (chrooted into DIR if
given) as its child, makes itself the child subreaper of everything below (Linux), so that a
process that leaves its session with ``setsid`` and loses its parent is adopted by the warden,
and reaps what it adopts. When the agent ends, or the harness asks (SIGTERM, also sent
automatically if the harness dies), the warden kills every process it still has below it,
reaps them, and exits with the agent's status.

With root the harness also puts the warden in a PID namespace of its own (``unshare --pid``):
the warden is then PID 1, ``--proc`` mounts a /proc that shows only that namespace, the candidate
cannot name any process outside it (so prlimit cannot reach the harness or its parent), and the
kernel kills whatever is left when the warden exits.

Standard library only; it runs in the harness's interpreter, outside any chroot.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

__all__ = ["PR_SET_PDEATHSIG", "main", "prctl"]

PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, value: int) -> None:
    """prctl(2) with one argument (Linux; nothing elsewhere, or where it fails)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(option, value, 0, 0, 0)


def _mount_proc(root: str | None) -> None:
    """A /proc of this namespace (the mount namespace is private, so it vanishes with it)."""
    target = os.path.join(root, "proc") if root else "/proc"
    if os.path.isdir(target):
        subprocess.run(["mount", "-t", "proc", "proc", target], check=False, stderr=subprocess.DEVNULL)


def _start(root: str | None, command: list[str]) -> None:
    """In the child: become the agent (dying with the warden), chrooted if asked."""
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if root:
            os.chroot(root)
            os.chdir("/")
        os.execvp(command[0], command)
    except BaseException as exc:
        os.write(2, f"warden: cannot start {command[0]}: {exc}\n".encode())
    os._exit(127)


class _Stop(Exception):
    """SIGTERM arrived: end everything now."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def _own_proc() -> bool:
    """/proc shows this process's PID namespace (it does not in a PID namespace whose /proc was
    mounted inside a chroot only: there the kernel's end of the namespace does the sweeping)."""
    try:
        return os.readlink("/proc/self") == str(os.getpid())
    except OSError:
        return False


def _children() -> list[int]:
    """The processes whose parent is this one (the agent and every orphan adopted)."""
    mine, found = os.getpid(), []
    for entry in os.listdir("/proc") if _own_proc() else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()
            if len(fields) > 1 and int(fields[1]) == mine:
                found.append(int(entry))
    return found


def _end_everything() -> None:
    """Kill and reap every process below the warden until none is left (orphans keep arriving
    while their parents die)."""
    if os.getpid() == 1 and not _own_proc():
        # PID 1 of a namespace whose /proc it cannot read (mounted inside the chroot): kill(-1)
        # reaches every other process of the namespace. Without it the warden waited below for
        # whatever the agent left running (a prlimit target sleeps 60 s), and so did its harness.
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
    for _ in range(100):
        children = _children()
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            while os.waitpid(-1, 0):
                pass
        except ChildProcessError:
            pass
        if not children:
            return


def main(argv: Sequence[str] | None = None) -> int:
    """Run COMMAND as the warden's child until it ends; then end everything below; its status."""
    args = list(sys.argv[1:] if argv is None else argv)
    root, proc = None, False
    while args and args[0] in ("--root", "--proc"):
        if args[0] == "--root":
            root, args = args[1], args[2:]
        else:
            proc, args = True, args[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.stderr.write("usage: python -m rckit.conformance.environments.warden [--root DIR] [--proc] -- COMMAND...\n")
        return 2
    prctl(_PR_SET_CHILD_SUBREAPER, 1)
    if proc:
        _mount_proc(root)
    signal.signal(signal.SIGTERM, _stop)
    status = 128 + signal.SIGKILL
    try:
        agent = os.fork()
        if agent == 0:
            _start(root, args)
        while True:
            try:
                pid, raw = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if pid == agent:
                status = os.waitstatus_to_exitcode(raw) if os.WIFEXITED(raw) else 128 + os.WTERMSIG(raw)
                break
    except _Stop:
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _end_everything()
    return status


if __name__ == "__main__":
    sys.exit(main())
