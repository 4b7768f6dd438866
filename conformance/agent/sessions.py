# -*- coding: utf-8 -*-
"""The serve loop and the child sessions it opens: forked, or spawned as fresh agents (with
spares started ahead) where the interpreter cannot fork."""

from __future__ import absolute_import, print_function

import os

from .codec import format_exc, safe_str
from .compat import signal
from .processes import PROCESSES, agent_command, finish, reap, set_cloexec, start_process, wait_status


def serve(worker, channel):
    """Answer requests until EOF or an exit request; returns the exit code for this process."""
    while True:
        request = channel.receive()
        if request is None:
            _drop_spares()
            return 0
        rid = request.get("id")
        target = request.get("to")
        if target is not None and target != os.getpid():
            channel.send({"id": rid, "error": {"kind": "no-such-session", "message": "process %s is not serving" % target}})
            continue
        op = request.get("op")
        if op == "exit":
            worker.end_session()
            _drop_spares()
            return int(request.get("code", 0))
        if op == "fork":
            via = request.get("via") or PROCESSES["mode"]
            try:
                pid = open_session(worker, channel, rid, via)
            except Exception as exc:  # no process could be made: the harness is told why
                channel.send({"id": rid, "error": {"kind": "agent", "type": type(exc).__name__, "message": "no session: %s" % safe_str(exc)[:2000], "traceback": format_exc()[-3000:]}})
                continue
            if PROCESSES["root"] and via == "spawn":
                while len(PROCESSES["spares"]) < SPARES:  # they start while this session works
                    start_spare(worker, channel)
            _, status = reap(pid)
            channel.send({"id": None, "ended": dict(wait_status(status), pid=pid)})
            continue
        try:
            result = worker.handle(request)
        except BaseException as exc:  # whatever candidate code raised, the agent answers
            channel.send({"id": rid, "error": {"kind": "agent", "type": type(exc).__name__, "message": safe_str(exc)[:2000], "traceback": format_exc()[-3000:]}})
        else:
            channel.send({"id": rid, "ok": result})


def open_session(worker, channel, rid, via):
    """A child session that answers request ``rid`` with its pid and then serves requests on
    ``channel`` until it ends; returns its pid (the caller waits for it). ``via`` "fork" forks
    this process; "spawn" starts a fresh agent of this interpreter on the same descriptors,
    which imports the candidate anew (for interpreters that cannot fork)."""
    if via == "spawn":
        if channel.pending:
            raise RuntimeError("a request arrived before the session was opened")
        spare = _take_spare(rid)
        if spare is not None:
            return spare
        arguments = _session_arguments(worker, channel, rid)
        return start_process(agent_command(arguments), keep_fds=(channel.read_fd, channel.write_fd))
    if not hasattr(os, "fork"):
        raise RuntimeError("this interpreter cannot fork (os has no fork)")
    # The experiments, imported once before the first fork so that every forked session inherits
    # them (a spawned session imports them at its first act request, a forked one need not).
    from . import actions  # noqa: F401

    pid = os.fork()
    if pid != 0:
        channel.pending = b""  # anything already read belongs to the child now
        return pid
    code = 70
    try:  # the child never returns into its parent's loop, whatever happens
        worker.kept, worker.sleepers = [], []
        # Not the root agent: the spares are its parent's (ending this child must not end them).
        PROCESSES["root"], PROCESSES["spares"] = False, []
        channel.send({"id": rid, "ok": {"pid": os.getpid()}})
        code = serve(worker, channel)
    finally:
        finish(code)
    return pid  # not reached


def _session_arguments(worker, channel, rid):
    """The agent's arguments for a spawned session that answers request ``rid`` on ``channel``."""
    arguments = ["--module", worker.module_name, "--isolation", "spawn",
                 "--session", "%d,%d,%s" % (channel.read_fd, channel.write_fd, rid)]  # fmt: skip
    for path in worker.paths:
        arguments += ["--path", path]
    return arguments


#: How many spawned sessions the root agent keeps started ahead of their requests (start_spare).
#: A fresh CPython takes 30-50 ms of CPU to import the candidate, several times what an example
#: does with its session; two starting at once keep both CPUs of a -n 0 run busy.
SPARES = 2


def start_spare(worker, channel):
    """Start a spawned session ahead of its request (the root agent keeps SPARES of them once
    its first session was asked for): it imports the candidate, then waits on a pipe of its own
    for the id of the request it answers. A spare is the same as a session started at the
    request: it is a fresh process of this agent, whose limits never change."""
    control, order = os.pipe()
    try:
        arguments = _session_arguments(worker, channel, 0) + ["--spare", str(control)]
        pid = start_process(agent_command(arguments), keep_fds=(channel.read_fd, channel.write_fd, control))
    except OSError:
        os.close(order)
        return
    finally:
        os.close(control)
    set_cloexec(order)
    PROCESSES["spares"].append((pid, order))


def _take_spare(rid):
    """The oldest spare session that is still alive, told to answer ``rid``; None if none is."""
    while PROCESSES["spares"]:
        pid, order = PROCESSES["spares"].pop(0)
        try:
            if reap(pid, os.WNOHANG)[0] == 0:
                os.write(order, ("%d\n" % rid).encode("ascii"))
                return pid
        except OSError:
            pass
        finally:
            os.close(order)
    return None


def _drop_spares():
    """End the spare sessions (each would also exit once its pipe closes)."""
    spares, PROCESSES["spares"] = PROCESSES["spares"], []
    for pid, order in spares:
        os.close(order)
        try:
            os.kill(pid, signal.SIGKILL)
            reap(pid)
        except OSError:
            pass
