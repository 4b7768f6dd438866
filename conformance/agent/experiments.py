# -*- coding: utf-8 -*-
"""The experiments the effect rules need, run by name through the ``act`` request (actions.ACTIONS):
descriptors, CPU time, file sizes, memory, processes, privileges, exec, threads and the result type."""

from __future__ import absolute_import, print_function

import os
import sys
import time

from .codec import RUSAGE_FIELDS, decode, encode, safe_repr, safe_str, type_name
from .compat import signal, threading
from .facts import can_raise_hard_limit, proc_status, read_text
from .processes import (
    DROP_IMPORTS,
    PROCESSES,
    executable_here,
    finish,
    import_all,
    reap,
    set_inheritable,
    start_child,
    start_process,
)
from .workloads import new_file, process_cpu_seconds, wait_for_exit_unreaped

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401

    from .worker import Worker  # noqa: F401


def act_open_until_failure(params, worker):
    """Open /dev/null until open fails or `cap` descriptors are open; report fds and errno."""
    fds = []  # type: List[int]
    failure = None
    try:
        while len(fds) < params.get("cap", 100000):
            try:
                fds.append(os.open(os.devnull, os.O_RDONLY))
            except OSError as exc:
                failure = exc.errno
                break
    finally:
        for fd in fds:
            os.close(fd)
    return {"fds": fds, "errno": failure}


def act_open_fds(params, worker):
    # type: (Dict[str, Any], Optional[Worker]) -> Dict[str, List[int]]
    """The descriptor numbers below `below` open in this process."""
    below = params.get("below", 1024)
    try:
        # Where the kernel lists them (Linux, illumos): a few fstat calls instead of `below`
        # (4096 under qemu take about 0.9 s). The listing's own descriptor is closed by then.
        listed = [int(name) for name in os.listdir("/proc/self/fd") if name.isdigit()]
    except OSError:
        listed = list(range(below))
    found = []
    for fd in sorted(fd for fd in listed if fd < below):
        try:
            os.fstat(fd)
            found.append(fd)
        except OSError:
            pass
    return {"fds": found}


def act_spin(params, worker):
    """Burn CPU for up to `seconds` of CPU time, or until SIGXCPU arrives (with `handler`)."""
    received = []
    if params.get("handler"):
        signal.signal(signal.SIGXCPU, lambda signum, frame: received.append(signum))
    start = process_cpu_seconds()
    deadline = time.time() + params.get("wall_timeout", 30)
    while not received and process_cpu_seconds() - start < params["seconds"] and time.time() < deadline:
        sum(range(2000))
    return {"signal_received": bool(received), "cpu": process_cpu_seconds() - start}


def act_write_file(params, worker):
    """Write `size` bytes to a new file (in a thread with `thread`); report written and errno."""
    if params.get("sigxfsz") == "default":
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    elif params.get("sigxfsz") == "ignore":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    result = {}  # type: Dict[str, Any]

    def write():
        fd, path = new_file(params.get("dir"))
        written, failure = 0, None
        try:
            block = b"x" * 4096
            while written < params["size"]:
                try:
                    count = os.write(fd, block[: min(4096, params["size"] - written)])
                except OSError as exc:
                    failure = exc.errno
                    break
                written += count
        finally:
            os.close(fd)
            os.unlink(path)
        result.update(written=written, errno=failure)

    if params.get("thread"):
        runner = threading.Thread(target=write)
        runner.start()
        runner.join()
    else:
        write()
    return result


def act_allocate(params, worker):
    """Allocate (and touch) `bytes`; report whether MemoryError was raised."""
    try:
        block = bytearray(params["bytes"])
        if params.get("touch"):
            for offset in range(0, len(block), 4096):
                block[offset] = 1
        del block
        return {"memory_error": False}
    except MemoryError:
        return {"memory_error": True}


def act_fork_probe(params, worker):
    """Try to create a child process that exits at once (fork, or a fresh process where this
    agent spawns); report errno of a failure."""
    try:
        if PROCESSES["mode"] == "fork":
            pid = os.fork()
            if pid == 0:
                os._exit(0)
        else:
            pid = start_process([executable_here(), "-c", ""])
    except OSError as exc:
        return {"forked": False, "errno": exc.errno, "how": PROCESSES["mode"]}
    reap(pid)
    return {"forked": True, "errno": None, "how": PROCESSES["mode"]}


def act_drop_privileges(params, worker):
    """Become an unprivileged user (root only): supplementary groups, gid, then uid."""
    uid, gid = params.get("uid", 65534), params.get("gid", 65534)
    import_all(DROP_IMPORTS)  # already done by the serving agent (see main); then it costs nothing
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return {"uid": os.getuid(), "euid": os.geteuid(), "privileged": can_raise_hard_limit(worker.module, worker.paths)}


def act_crash(params, worker):
    """Change to `cwd` and die of SIGABRT with its default action (a core dump if allowed)."""
    os.chdir(params["cwd"])
    signal.signal(signal.SIGABRT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGABRT)
    time.sleep(5)
    return {"survived": True}


def act_exec_report(params, worker):
    """Replace this process by a fresh interpreter running exec_limits.py, which imports the
    candidate, answers this request with the limits it sees, and exits. Where the interpreter
    has no execv, the new program runs as a child (started with exec all the same) and this
    process ends with it."""
    wanted = ",".join(str(r) for r in params["resources"])
    reply_fd = worker.channel.write_fd if worker.channel is not None else 1
    program = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_limits.py")
    argv = [sys.executable, program, worker.module_name, wanted, str(params["_id"]), str(reply_fd)] + worker.paths
    sys.stdout.flush()
    if not hasattr(os, "execv"):
        _, status = reap(start_process(argv, keep_fds=(reply_fd,)))
        finish(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)
    set_inheritable(reply_fd)
    os.execv(sys.executable, argv)


def act_proc_status(params, worker):
    """/proc/self/status (Linux), for VmHWM and friends."""
    return proc_status()


def act_touch_memory(params, worker):
    """Allocate and touch `bytes`, keep them until the session ends (raises the peak RSS)."""
    block = bytearray(params["bytes"])
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    worker.kept.append(block)
    return {"kept": len(block)}


def act_thread_usage(params, worker):
    """getrusage(SELF) and getrusage(`who_thread`) before and after another thread burns CPU."""
    module = worker.module
    thread_who = params.get("who_thread")

    def snapshot():
        shot = {"self": encode(module.getrusage(module.RUSAGE_SELF))}
        if thread_who is not None:
            shot["thread"] = encode(module.getrusage(thread_who))
        return shot

    before = snapshot()
    burner = threading.Thread(target=act_spin, args=({"seconds": params["seconds"]}, worker))
    burner.start()
    burner.join()
    return {"before": before, "after": snapshot()}


def act_child_usage(params, worker):
    """getrusage(CHILDREN) before a child burns CPU, after it died but before it is waited for,
    and after waitpid; getrusage(SELF) before the fork and after waitpid."""
    module = worker.module
    children, own = module.RUSAGE_CHILDREN, module.RUSAGE_SELF
    before, self_before = encode(module.getrusage(children)), encode(module.getrusage(own))
    pid = start_child("spin", {"seconds": params["seconds"]})
    wait_for_exit_unreaped(pid)
    unreaped = encode(module.getrusage(children))
    reap(pid)
    after, self_after = encode(module.getrusage(children)), encode(module.getrusage(own))
    return {"before": before, "unreaped": unreaped, "after": after, "self_before": self_before, "self_after": self_after}


def act_spawn_sleeper(params, worker):
    """Start a child that only sleeps (a target for prlimit); it is killed when the session ends."""
    pid = start_child("sleep", {"uid": params.get("uid"), "seconds": params.get("seconds", 60)})
    worker.sleepers.append(pid)
    return {"pid": pid}


def act_proc_limits(params, worker):
    """/proc/<pid>/limits as the kernel prints it: [name, soft, hard] rows in the kernel's own
    resource order (rckit.conformance.support.proc_limits maps them by name), None meaning unlimited."""
    text = read_text("/proc/%s/limits" % params["pid"])
    if text is None:
        return {"available": False}
    rows = []
    for line in text.splitlines()[1:]:
        name, rest = line[:26].strip(), line[26:].split()
        rows.append([name] + [None if v == "unlimited" else int(v) for v in rest[:2]])
    return {"available": True, "rows": rows}


def act_concurrent_calls(params, worker):
    """Run the given calls from several threads at once; count results that differ from the
    single-threaded answer."""
    module = worker.module
    calls = [(getattr(module, fn), [decode(a, module) for a in args]) for fn, args in params["calls"]]
    expected = [fn(*args) for fn, args in calls]
    mismatches = []
    start = threading.Event()

    def run(offset):
        start.wait()
        for i in range(params["iterations"]):
            index = (i + offset) % len(calls)
            fn, args = calls[index]
            got = fn(*args)
            if got != expected[index]:
                mismatches.append([index, safe_repr(got), safe_repr(expected[index])])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(params["threads"])]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()
    return {"mismatches": mismatches[:20], "count": len(mismatches)}


def act_mlock(params, worker):
    """mlock `bytes` of fresh memory through ctypes; report errno of a failure."""
    try:
        import ctypes
        import ctypes.util
    except ImportError:
        return {"available": False}
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "mlock"):
        return {"available": False}
    buf = ctypes.create_string_buffer(params["bytes"])
    rc = libc.mlock(buf, ctypes.c_size_t(params["bytes"]))
    err = ctypes.get_errno()
    if rc == 0:
        libc.munlock(buf, ctypes.c_size_t(params["bytes"]))
    return {"available": True, "locked": rc == 0, "errno": None if rc == 0 else err}


def act_inspect_result_type(params, worker):
    """Structural facts about getrusage's result type: tuple-ness, counts, immutability, pickle."""
    import copy
    import pickle

    module = worker.module
    value = module.getrusage(module.RUSAGE_SELF)
    kind = type(value)
    facts = {
        "type": type_name(kind),
        "is_tuple": isinstance(value, tuple),
        "len": len(value) if hasattr(value, "__len__") else None,
        "n_fields": getattr(kind, "n_fields", None),
        "n_sequence_fields": getattr(kind, "n_sequence_fields", None),
        "n_unnamed_fields": getattr(kind, "n_unnamed_fields", None),
        "repr_prefix": safe_repr(value).split("(")[0],
        "match_args": list(getattr(kind, "__match_args__", ())) or None,
    }
    for label, attempt in (
        ("setattr_field", lambda: setattr(value, "ru_utime", 1.0)),
        ("setitem", lambda: value.__class__.__setitem__(value, 0, 1.0)),
        ("delattr_field", lambda: delattr(value, "ru_maxrss")),
    ):
        try:
            attempt()
            facts[label] = None
        except Exception as exc:
            facts[label] = type(exc).__name__
    for label, attempt in (
        ("setattr_other", lambda: setattr(value, "not_a_field", 1)),
        ("delattr_other", lambda: delattr(value, "not_a_field")),
        ("replace_unknown", lambda: value.__replace__(not_a_field=1, nor_this=2)),
        ("replace_field", lambda: list(kind(range(16)).__replace__(ru_maxrss=-5))),
    ):
        if label.startswith("replace") and not hasattr(kind, "__replace__"):
            continue
        try:
            facts[label] = encode(attempt())
        except Exception as exc:
            facts[label] = "%s: %s" % (type(exc).__name__, safe_str(exc))
    facts["unchanged"] = encode(value)
    try:
        copied = pickle.loads(pickle.dumps(value, protocol=2))
        facts["pickle_equal"] = copied == value
        facts["pickle_same_type"] = type(copied) is kind
    except Exception as exc:
        facts["pickle_error"] = "%s: %s" % (type(exc).__name__, safe_str(exc))
    try:
        facts["copy_equal"] = copy.copy(value) == value
    except Exception as exc:
        facts["copy_error"] = type(exc).__name__
    return facts


def act_tuple_operations(params, worker):
    """Use a getrusage result the ways a 16-tuple is used; report what worked."""
    module = worker.module
    value = module.getrusage(module.RUSAGE_SELF)
    checks = {}  # type: Dict[str, Any]
    for label, check in (
        ("len", lambda: len(value) == 16),
        ("index", lambda: [value[i] for i in range(16)] == list(value)),
        ("negative_index", lambda: value[-1] == value[15] and value[-16] == value[0]),
        ("slice", lambda: tuple(value[2:5]) == (value[2], value[3], value[4])),
        ("unpack", lambda: len(tuple(a for a in value)) == 16),
        ("iterate", lambda: sum(1 for _ in value) == 16),
        ("equal_to_tuple", lambda: value == tuple(value)),
        ("fields_match_items", lambda: all(getattr(value, n) == value[i] for i, n in enumerate(RUSAGE_FIELDS))),
    ):
        try:
            checks[label] = bool(check())
        except Exception as exc:
            checks[label] = "%s: %s" % (type(exc).__name__, safe_str(exc))
    checks["exact_tuple"] = type(value) is tuple
    return checks
