# -*- coding: utf-8 -*-
"""The agent's command line and start: the root agent (hello, import, serve), a spawned session,
or a child program. boot.py runs ``run``; docs/protocol.md describes the protocol."""

from __future__ import absolute_import, print_function

import json
import os
import sys

from .channel import PROTOCOL_VERSION, Channel, quiet_standard_streams, take_protocol_streams
from .codec import format_exc
from .compat import HAVE_SIGNAL, signal
from .processes import DROP_IMPORTS, PROCESSES, finish, import_all, probe_fork, set_cloexec
from .sessions import serve
from .worker import Worker

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401


def _parse_arguments(argv):
    """The agent's command line: (options, None), or (None, the error)."""
    options = {"module": "resource", "paths": [], "isolation": "auto", "session": None, "child": None,
               "spare": None, "sys_path": None}  # type: Dict[str, Any]
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == "--module" and args:
            options["module"] = args.pop(0)
        elif flag == "--path" and args:
            options["paths"].append(args.pop(0))
        elif flag == "--isolation" and args and args[0] in ("auto", "fork", "spawn"):
            options["isolation"] = args.pop(0)
        elif flag == "--session" and args:
            options["session"] = [int(part) for part in args.pop(0).split(",")]
        elif flag == "--spare" and args:
            options["spare"] = int(args.pop(0))
        elif flag == "--sys-path" and args:
            options["sys_path"] = json.loads(args.pop(0))
        elif flag == "--child" and len(args) >= 2:
            options["child"] = (args.pop(0), json.loads(args.pop(0)))
        else:
            return None, "agent: unknown or incomplete argument %s" % flag
    return options, None


def _settle_processes(isolation):
    """How this agent makes processes: fork where it works (probed) unless spawn is asked for."""
    PROCESSES["fork"] = probe_fork()
    forks = isolation != "spawn" and PROCESSES["fork"]["available"]
    PROCESSES["mode"] = "fork" if forks else "spawn"


def main(argv):
    options, problem = _parse_arguments(argv)
    if options is None:
        sys.stderr.write(problem + "\n")
        return 2
    if options["sys_path"] is not None:  # started with -S (agent_command): so are its own
        sys.path[:] = options["sys_path"]
    if options["child"] is not None or options["session"] is not None:
        # Settled by the agent that started this process, never tried here: the try is a child
        # whose CPU time would show in a session's RUSAGE_CHILDREN in the middle of an experiment.
        PROCESSES["quick"] = options["sys_path"] is not None
    if options["child"] is not None:  # a child program of an agent that spawns (start_child)
        PROCESSES["mode"] = "spawn"
        kind, params = options["child"]
        from .children import CHILD_PROGRAMS

        return CHILD_PROGRAMS[kind](params)
    if HAVE_SIGNAL:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if options["session"] is not None:
        return _serve_session(options)
    channel = take_protocol_streams()
    # Said before the candidate is imported: the harness can tell an interpreter that does not
    # start from a module whose import does not end.
    channel.send({"id": None, "hello": {"protocol": PROTOCOL_VERSION, "pid": os.getpid()}})
    _settle_processes(options["isolation"])
    PROCESSES["root"] = True
    if PROCESSES["mode"] == "fork":
        # Once here rather than in each child that drops privileges (tens of ms each, seconds
        # under qemu): forked children inherit the modules. A spawned session imports them
        # itself, when it drops privileges (act_drop_privileges).
        import_all(DROP_IMPORTS)
    worker = Worker(options["module"], options["paths"])
    worker.channel = channel
    PROCESSES["module"] = worker.module
    # Said once the import has ended, whatever it did: the harness can tell a death during the
    # import from one after it.
    channel.send({"id": None, "imported": {"error": worker.import_error is not None}})
    return serve(worker, channel)


def _serve_session(options):
    """A spawned session (open_session): the protocol is on the inherited descriptors; answer
    the request that opened it with this pid once the candidate is imported, then serve."""
    read_fd, write_fd, rid = options["session"]
    for fd in (read_fd, write_fd):
        set_cloexec(fd)
    channel = Channel(read_fd, write_fd)
    quiet_standard_streams()
    PROCESSES["mode"] = "spawn"
    worker = Worker(options["module"], options["paths"])
    worker.channel = channel
    PROCESSES["module"] = worker.module
    if worker.module is None:  # imported in the agent, not here: the session ends unanswered
        sys.stderr.write("agent session: the candidate did not import: %s\n" % (worker.import_error or {}).get("message"))
        return 70
    if options["spare"] is not None:  # started ahead: wait for the request to answer
        order = b""
        while not order.endswith(b"\n"):
            chunk = os.read(options["spare"], 64)
            if not chunk:  # the agent dropped this spare, or ended
                return 0
            order += chunk
        os.close(options["spare"])
        rid = int(order)
    channel.send({"id": rid, "ok": {"pid": os.getpid()}})
    return serve(worker, channel)


def run():
    """Run the agent with this process's command line and exit with its code."""
    try:
        exit_code = main(sys.argv[1:])
    except BaseException:
        sys.stderr.write(format_exc())
        exit_code = 70
    finish(exit_code)
