# -*- coding: utf-8 -*-
"""How the agent makes, runs and waits for processes: forked, or started afresh where the
interpreter cannot fork; how a process ended; and how the agent itself ends."""

from __future__ import absolute_import, print_function

import json
import os
import sys

from .codec import safe_str
from .compat import HAVE_SIGNAL, signal

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401


#: How this agent makes processes, for its sessions and for the children its actions need:
#: "fork", or "spawn" (a fresh process of this interpreter started with os.posix_spawn or
#: subprocess: for interpreters that cannot fork, such as GraalPy, or when the harness asks).
#: main() settles it before the candidate is imported. Also: "fork", what the fork probe found;
#: "quick", whether fresh agents start without site (agent_command); "module", the candidate as
#: imported here; "spares", the root agent's sessions started ahead (start_spare); "root", this is
#: the agent the harness started, not a session or a child program.
PROCESSES = {"mode": "fork", "fork": None, "quick": None, "module": None, "spares": [], "root": False}  # type: Dict[str, Any]
#: subprocess.Popen objects of children started without posix_spawn, kept until reap() waits for
#: them: a Popen that is garbage-collected first would be reaped by subprocess behind our back.
_POPENS = {}  # type: Dict[int, Any]


#: What the actions of an unprivileged child need from the standard library: the user it becomes
#: may not be able to read the interpreter's library (a home directory of mode 700).
DROP_IMPORTS = ("ctypes", "ctypes.util", "pickle", "copy", "mmap", "subprocess")


def import_all(names):
    """Import each module that exists (the forked children of this process then inherit them)."""
    for name in names:
        try:
            __import__(name)
        except ImportError:
            pass


def probe_fork():
    """Whether os.fork makes a child here: {"available": bool, "detail": why not / how}."""
    fork = getattr(os, "fork", None)
    if fork is None:
        return {"available": False, "detail": "os has no fork"}
    try:
        pid = fork()
    except Exception as exc:
        return {"available": False, "detail": "os.fork() raised %s: %s" % (type(exc).__name__, safe_str(exc))}
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return {"available": True, "detail": "os.fork"}


def set_cloexec(fd):
    """Close ``fd`` on exec again (after set_inheritable)."""
    import fcntl

    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)


def start_process(argv, keep_fds=()):
    """Start ``argv`` (argv[0] a path) as a new process without forking this interpreter:
    os.posix_spawn where it exists, else subprocess. ``keep_fds`` stay open in it, as they are
    numbered here; stdin, stdout and stderr are this process's. Returns its pid (see reap)."""
    for fd in keep_fds:
        set_inheritable(fd)
    try:
        spawn = getattr(os, "posix_spawn", None)
        if spawn is not None:
            return spawn(argv[0], argv, dict(os.environ))
        import subprocess

        process = subprocess.Popen(argv, close_fds=False)
        _POPENS[process.pid] = process
        return process.pid
    finally:
        for fd in keep_fds:
            set_cloexec(fd)


def reap(pid, options=0):
    """os.waitpid for a child made by fork or start_process: (pid, status)."""
    result = os.waitpid(pid, options)
    if result[0] == pid:
        reaped(pid, result[1])
    return result


def reaped(pid, status):
    """Note that ``pid`` was waited for here (by reap or os.wait4): subprocess must not wait again."""
    process = _POPENS.pop(pid, None)
    if process is not None:
        process.returncode = status


def _stage_program():
    """boot.py beside this file: it starts the agent from the stage's bytecode."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "boot.py")


def agent_command(arguments):
    """The command line of a fresh agent (a session or a child program) with ``arguments``.
    Where it imports the candidate from the same file all the same (tried once, see
    _quick_start_works), it starts without the site module (-S) and is given this process's
    sys.path instead: site's .pth files cost 20-40 ms at each start here (an editable install's
    finder, a certificate bundle), several times what a session does."""
    if _quick_start_works():
        return _quick_command(arguments)
    return [sys.executable, _stage_program()] + arguments


def _quick_command(arguments):
    """A fresh agent with ``arguments``, started without site and given this process's sys.path."""
    return [sys.executable, "-S", _stage_program(), "--sys-path", json.dumps(sys.path)] + arguments


def _quick_start_works():
    """Whether ``python -S`` with this sys.path imports the candidate from the file this process
    imported (tried once; False before the candidate is imported, or where it is not found so)."""
    module = PROCESSES["module"]
    if PROCESSES["quick"] is None and module is not None:
        PROCESSES["quick"] = False  # while trying (the try itself starts without -S)
        params = {"module": module.__name__, "file": getattr(module, "__file__", None)}
        try:
            _, status = reap(start_process(_quick_command(["--child", "import", json.dumps(params)])))
        except OSError:
            return False
        PROCESSES["quick"] = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return bool(PROCESSES["quick"])


def executable_here():
    """A program this process may run to make a process that exits at once: the interpreter if
    its user can run it (a user dropped to may not read a home directory of mode 700), else sh.
    Both exit 0 for ``-c ""``."""
    for program in (sys.executable, "/bin/sh"):
        if program and os.access(program, os.X_OK):
            return program
    return sys.executable


def start_child(kind, params):
    """A child process that runs the child program ``kind`` (CHILD_PROGRAMS) with ``params``:
    forked where this agent forks, else a fresh interpreter running this file with --child.
    Returns its pid; wait for it with reap."""
    if PROCESSES["mode"] == "fork":
        from .children import CHILD_PROGRAMS  # (children's programs start children themselves)

        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                code = CHILD_PROGRAMS[kind](params)
            finally:
                os._exit(code)
        return pid
    return start_process(agent_command(["--child", kind, json.dumps(params)]))


def set_inheritable(fd):
    """Let ``fd`` survive exec (Python 3 opens descriptors close-on-exec)."""
    import fcntl

    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) & ~fcntl.FD_CLOEXEC)


#: Other names of a signal number, never the one to report (SIGABRT, SIGCHLD, SIGIO instead).
SIGNAL_ALIASES = ("SIGIOT", "SIGCLD", "SIGPOLL")


def signal_name(number):
    """This platform's name for a signal number (numbers differ: SIGXCPU is 24 on x86 and ARM,
    30 on MIPS), or None if it has none."""
    for name in sorted(dir(signal)) if HAVE_SIGNAL else ():
        usable = name.startswith("SIG") and not name.startswith("SIG_") and name not in SIGNAL_ALIASES
        if usable and getattr(signal, name) == number:
            return name
    return None


def status_text(status):
    """How a waited-for process ended, in words."""
    if os.WIFSIGNALED(status):
        return "was killed by %s" % (signal_name(os.WTERMSIG(status)) or "signal %d" % os.WTERMSIG(status))
    return "exited with code %d" % os.WEXITSTATUS(status)


def wait_status(status):
    """A waitpid status as JSON: exit code, or signal (its number and, since numbers differ by
    architecture, its name here) and core flag."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return {"exit_code": None, "signal": number, "signal_name": signal_name(number),
                "core_dumped": bool(os.WCOREDUMP(status))}  # fmt: skip
    return {"exit_code": os.WEXITSTATUS(status), "signal": None, "signal_name": None, "core_dumped": False}


def finish(code):
    """Exit now: flush what was printed, and do not wait for threads a candidate left running."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(code)
