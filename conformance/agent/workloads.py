# -*- coding: utf-8 -*-
"""The workloads of the usage-field rules: what the kernel says a process used apart from
getrusage, the workloads that should move some fields and not others, and their actions."""

from __future__ import absolute_import, print_function

import itertools
import os
import time

from .codec import RUSAGE_FIELDS, encode, safe_str
from .compat import signal, threading
from .facts import read_text, safe_listdir
from .processes import reap, reaped, start_child

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401


def process_cpu_seconds():
    times = os.times()
    return times[0] + times[1]


_NEW_FILE_NUMBERS = itertools.count(1)


def new_file(directory):
    """(descriptor, path) of a new empty file of this process's in ``directory`` (None: /tmp).
    Not tempfile: it needs _thread, which an interpreter built without threads lacks."""
    number = next(_NEW_FILE_NUMBERS)
    path = os.path.join(directory or "/tmp", "rckit-%d-%d-%d" % (os.getpid(), number, int(time.time() * 1e6)))
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600), path


def wait_for_exit_unreaped(pid):
    """Wait until `pid` is a zombie without reaping it (waitid WNOWAIT, else /proc polling)."""
    if hasattr(os, "waitid") and hasattr(os, "WNOWAIT"):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        return
    deadline = time.time() + 30
    while time.time() < deadline:
        stat = read_text("/proc/%d/stat" % pid) or ""
        if ") Z" in stat:
            return
        time.sleep(0.01)


def _task_counters(task):
    """One thread's faults (/proc/.../stat), CPU ticks and context switches (/proc/.../status)."""
    found = {}  # type: Dict[str, int]
    stat = read_text(task + "/stat")
    if stat:
        fields = stat[stat.rfind(")") + 2:].split()
        found.update(minflt=int(fields[7]), majflt=int(fields[9]), utime=int(fields[11]), stime=int(fields[12]))
    for line in (read_text(task + "/status") or "").splitlines():
        key, _, value = line.partition(":")
        if key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
            found["nvcsw" if key.startswith("vol") else "nivcsw"] = int(value)
    return found


def _kernel_counters():
    """The counters the kernel reports outside getrusage: for the whole process, CPU time from
    times(2) and faults and context switches summed over /proc/self/task/*; for this thread the
    same from /proc/thread-self (``thread_*``); block I/O bytes from /proc/self/io. CPU times are
    in clock ticks. Missing ones are absent."""
    ticks, times = os.sysconf("SC_CLK_TCK"), os.times()
    found = {"utime": int(round(times[0] * ticks)), "stime": int(round(times[1] * ticks)), "tick": 1.0 / ticks}  # type: Dict[str, Any]
    tasks = [_task_counters("/proc/self/task/" + tid) for tid in safe_listdir("/proc/self/task")]
    for key in ("minflt", "majflt", "nvcsw", "nivcsw"):
        if tasks and all(key in task for task in tasks):
            found[key] = sum(task[key] for task in tasks)
    for key, value in _task_counters("/proc/thread-self").items():
        found["thread_" + key] = value
    for line in (read_text("/proc/self/io") or "").splitlines():
        key, _, value = line.partition(":")
        if key in ("read_bytes", "write_bytes"):
            found[key] = int(value)
    return found


def _spin_cpu(seconds, step):
    """Run ``step`` until this process has used ``seconds`` of CPU time (or 30 s have passed)."""
    start, deadline = process_cpu_seconds(), time.time() + 30
    while process_cpu_seconds() - start < seconds and time.time() < deadline:
        step()


def workload(kind, params):
    """(prepare, run, clean_up) for one workload of act_usage_workload."""
    state = {}  # type: Dict[str, Any]
    size = params.get("bytes", 4 << 20)

    def nothing():
        pass

    if kind == "user":
        return nothing, lambda: _spin_cpu(params.get("seconds", 0.3), lambda: sum(range(2000))), nothing
    if kind == "system":
        def prepare_system():
            # /dev/urandom, not /dev/zero: the kernel computes every byte, so its time dwarfs
            # what an emulator (qemu-user) spends in user mode checking the guest's buffer page
            # by page, which is about as long as clearing it.
            state["fd"] = os.open("/dev/urandom", os.O_RDONLY)
            state["buffer"] = bytearray(1 << 20)

        def step():  # the kernel generates a megabyte per call: time in system mode
            if hasattr(os, "readv"):
                os.readv(state["fd"], [state["buffer"]])
            else:  # pragma: no cover - Python 2.7
                os.read(state["fd"], 1 << 20)
        return prepare_system, lambda: _spin_cpu(params.get("seconds", 0.3), step), lambda: os.close(state["fd"])
    if kind == "faults":
        import mmap

        def touch():
            pages = params.get("pages", 2048)
            area = mmap.mmap(-1, pages * mmap.PAGESIZE)
            for page in range(pages):
                area[page * mmap.PAGESIZE:page * mmap.PAGESIZE + 1] = b"x"
            state["area"] = area
        return nothing, touch, lambda: state["area"].close()  # noqa: PLW0108 - the area exists later
    if kind == "majfaults":
        import mmap

        def prepare_mapping():
            fd, state["path"] = new_file(params["dir"])
            os.write(fd, b"m" * size)
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # out of the cache: touching needs I/O
            state["area"] = mmap.mmap(fd, size, prot=mmap.PROT_READ)
            state["area"].madvise(mmap.MADV_RANDOM)  # no read-ahead: a fault per page
            os.close(fd)

        def touch_mapping():
            for offset in range(0, size, mmap.PAGESIZE):
                state["area"][offset]

        def unmap():
            state["area"].close()
            os.unlink(state["path"])
        return prepare_mapping, touch_mapping, unmap
    if kind in ("write", "read"):
        def prepare_file():
            fd, state["path"] = new_file(params["dir"])
            if kind == "read":
                os.write(fd, b"r" * size)
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # so reading needs the disk
            state["fd"] = fd

        def run_file():
            if kind == "write":
                block = b"w" * 65536
                for _ in range(size // 65536):
                    os.write(state["fd"], block)
                os.fsync(state["fd"])
            else:
                os.lseek(state["fd"], 0, 0)
                while os.read(state["fd"], 1 << 20):
                    pass

        def clean_file():
            os.close(state["fd"])
            os.unlink(state["path"])
        return prepare_file, run_file, clean_file
    if kind == "sleep":
        def sleeps():
            for _ in range(params.get("count", 50)):
                time.sleep(0.002)
        return nothing, sleeps, nothing
    if kind == "preempted":
        def prepare_competition():
            cpu = None
            if hasattr(os, "sched_setaffinity"):
                cpu = sorted(os.sched_getaffinity(0))[0]
                os.sched_setaffinity(0, [cpu])
            count = 1 if cpu is not None else 2 * (os.sysconf("SC_NPROCESSORS_ONLN") or 1)
            # Competitors for the same CPU (the affinity is inherited), until they are killed.
            state["competitors"] = [start_child("compete", {}) for _ in range(count)]

        def stop_competition():
            for pid in state["competitors"]:
                os.kill(pid, signal.SIGKILL)
                reap(pid)
        return prepare_competition, lambda: _spin_cpu(params.get("seconds", 0.3), lambda: sum(range(2000))), stop_competition
    raise ValueError("unknown workload %r" % (kind,))


def act_usage_workload(params, worker):
    """getrusage(`who`) from the candidate before and after one workload that should move some
    fields and not others (user, system, faults, write, read, sleep, preempted), each reading
    between two readings of the kernel's own counters: whatever the candidate's calls cost, the
    true growth lies between (third - second) and (fourth - first) of the kernel's readings."""
    module = worker.module
    who = params.get("who", module.RUSAGE_SELF)
    prepare, run, clean_up = workload(params["workload"], params)
    prepare()
    try:
        first = _kernel_counters()
        before = module.getrusage(who)
        second = _kernel_counters()
        run()
        third = _kernel_counters()
        after = module.getrusage(who)
        fourth = _kernel_counters()
    finally:
        clean_up()
    return {"before": encode(before), "after": encode(after), "kernel": [first, second, third, fourth]}


def act_child_wait4(params, worker):
    """getrusage(CHILDREN) before and after waiting with os.wait4 for a child that computed,
    touched pages and slept; and the child's usage as wait4 reported it."""
    module = worker.module
    pid = start_child("workloads", dict(params, kinds=["user", "faults", "sleep"]))
    wait_for_exit_unreaped(pid)
    before = encode(module.getrusage(module.RUSAGE_CHILDREN))
    _, status, usage = os.wait4(pid, 0)
    reaped(pid, status)
    after = encode(module.getrusage(module.RUSAGE_CHILDREN))
    return {"before": before, "after": after, "wait4": dict((name, getattr(usage, name)) for name in RUSAGE_FIELDS)}


def act_thread_workload(params, worker):
    """act_usage_workload in a new thread, with `who` (RUSAGE_THREAD) asked from that thread."""
    result = {}  # type: Dict[str, Any]

    def run():
        try:
            result.update(act_usage_workload(params, worker))
        except BaseException as exc:
            result["error"] = "%s: %s" % (type(exc).__name__, safe_str(exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result
