"""USAGE.* field rules: each field of getrusage's result means what the documentation's table
says, checked against the kernel's own counters (Linux), with a workload that moves that field
and not its neighbours. Everything runs in a disposable child of the agent.

How exact: each of the candidate's two getrusage calls is read between two readings of the
kernel's counters (times(2), /proc/thread-self/stat and status, /proc/self/io), so the field must
have grown by at least the growth between the middle readings and at most the growth between the
outer ones: no tolerance for counters. CPU times are in clock ticks (1/SC_CLK_TCK, 10 ms) there,
truncated, and the kernel splits a process's run time between user and system time anew at each
reading (cputime_adjust), so two ticks either way are allowed for them.
"""

from __future__ import annotations

from typing import Any

import pytest
from rckit.conformance.agent.codec import RUSAGE_FIELDS
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.values import Foreign, decode
from rckit.conformance.support.applicability import not_applicable, require

rule = pytest.mark.rule
FIELDS = RUSAGE_FIELDS  # the 16 fields of struct_rusage, in order
TIMES = {"ru_utime": "utime", "ru_stime": "stime"}  # the times(2) counter of each time field
UNMAINTAINED = ("ru_ixrss", "ru_idrss", "ru_isrss", "ru_nswap", "ru_msgsnd", "ru_msgrcv", "ru_nsignals")


class Shots:
    """A workload's two getrusage results and the four kernel readings around them."""

    def __init__(self, raw: dict[str, Any]) -> None:
        if "error" in raw:
            raise AssertionError(f"the workload failed: {raw['error']}")
        self.before, self.after = _fields(raw["before"]), _fields(raw["after"])
        self.kernel: list[dict[str, Any]] = raw["kernel"]
        self.tick: float = self.kernel[0]["tick"]

    def grew(self, field: str) -> Any:
        """How much the candidate's ``field`` grew."""
        return self.after[field] - self.before[field]

    def bounds(self, counter: str) -> tuple[Any, Any]:
        """(least, most) the kernel's ``counter`` grew between the candidate's two readings
        (n/a if this kernel does not report it)."""
        if any(counter not in reading for reading in self.kernel):
            not_applicable(f"the kernel does not report {counter} here (proc(5))")
        first, second, third, fourth = (reading[counter] for reading in self.kernel)
        return third - second, fourth - first

    def check_count(self, field: str, counter: str, scale: int = 1) -> Any:
        """``field`` grew as the kernel's ``counter`` (divided by ``scale``) did; its growth."""
        least, most = self.bounds(counter)
        grew = self.grew(field)
        assert least // scale <= grew <= most // scale, (
            f"{field} grew by {grew}; the kernel's {counter} by {least}..{most} (/{scale})"
        )
        return grew

    def check_time(self, field: str, counter: str) -> float:
        """``field`` grew as the kernel's ``counter`` (clock ticks) did, within two ticks."""
        least, most = self.bounds(counter)
        grew = float(self.grew(field))
        low, high = (least - 2) * self.tick, (most + 2) * self.tick
        assert low <= grew <= high, f"{field} grew by {grew:.3f}s; the kernel's {counter} by {low:.3f}s..{high:.3f}s"
        return grew


def _fields(raw: dict[str, Any]) -> dict[str, Any]:
    value = decode(raw)
    assert isinstance(value, Foreign), f"getrusage returned {value!r}"
    if value.fields:
        return value.fields
    assert value.items is not None and len(value.items) == 16, f"getrusage returned {value.repr}"
    return dict(zip(FIELDS, value.items, strict=True))


def _workload(candidate: Candidate, kind: str, **params: Any) -> Shots:
    with candidate.isolated() as child:
        return Shots(child.act("usage_workload", workload=kind, timeout=120, **params))


@rule("USAGE.TIMES_MEAN_CPU")
def test_usage_user_time_is_user_mode(candidate: Candidate) -> None:
    """Computing in Python: ru_utime grows as times(2)'s user time, ru_stime as its system time."""
    _cpu_mode(candidate, "user", "ru_utime", "ru_stime", "a user-mode loop")


@rule("USAGE.TIMES_MEAN_CPU")
def test_usage_system_time_is_kernel_mode(candidate: Candidate) -> None:
    """Reading megabytes from /dev/urandom: ru_stime grows as times(2)'s system time, and more
    than ru_utime (natively and under qemu-user alike)."""
    _cpu_mode(candidate, "system", "ru_stime", "ru_utime", "a system-call loop")


def _cpu_mode(candidate: Candidate, workload: str, busy: str, idle: str, what: str) -> None:
    """Run ``workload`` (``what``): both time fields grow as times(2)'s, the ``busy`` one more
    than the ``idle`` one."""
    shots = _workload(candidate, workload, seconds=0.4)
    more, less = shots.check_time(busy, TIMES[busy]), shots.check_time(idle, TIMES[idle])
    assert more > less, f"{what} grew {idle} ({less:.3f}s) more than {busy} ({more:.3f}s)"


@rule("USAGE.FAULTS_MEAN_FAULTS")
def test_usage_touching_pages_counts_minor_faults(candidate: Candidate) -> None:
    """2048 fresh anonymous pages touched: ru_minflt grows by at least that, as the kernel's
    count does, and ru_majflt only as the kernel's (no I/O was needed)."""
    pages = 2048
    shots = _workload(candidate, "faults", pages=pages)
    minor = shots.check_count("ru_minflt", "minflt")
    assert minor >= pages, f"ru_minflt grew by {minor} after touching {pages} pages"
    shots.check_count("ru_majflt", "majflt")


@rule("USAGE.FAULTS_MEAN_FAULTS")
def test_usage_touching_an_uncached_file_counts_major_faults(candidate: Candidate) -> None:
    """The pages of a 4 MiB file mapped after leaving the cache, touched one by one (no
    read-ahead): ru_majflt grows, as the kernel counts, by about one per page."""
    shots = _block_io(candidate, "majfaults")
    if shots.bounds("majflt")[1] == 0:
        not_applicable("touching the mapped file needed no I/O (tmpfs, an overlay, or eviction refused)")
    major = shots.check_count("ru_majflt", "majflt")
    assert major >= (4 << 20) // 4096 // 2, f"ru_majflt grew by {major} over 1024 pages that each needed I/O"
    shots.check_count("ru_minflt", "minflt")


def _block_io(candidate: Candidate, kind: str) -> Shots:
    if kind == "majfaults" and candidate.info.version_tuple < (3, 8):
        not_applicable("the workload needs mmap.madvise (Python 3.8+) to turn read-ahead off")
    if kind == "read" and candidate.info.version_tuple < (3, 3):
        not_applicable("the read workload needs os.posix_fadvise (Python 3.3+) to evict the file from the cache")
    with candidate.scratch_dir() as (_, inside):
        return _workload(candidate, kind, dir=inside, bytes=4 << 20)


@rule("USAGE.BLOCKS_MEAN_BLOCK_IO")
def test_usage_writing_a_file_counts_block_output(candidate: Candidate) -> None:
    """4 MiB written and synced: ru_oublock grows by write_bytes / 512 (/proc/self/io), ru_inblock
    by read_bytes / 512."""
    shots = _block_io(candidate, "write")
    if shots.bounds("write_bytes")[1] == 0:
        not_applicable("no block output reached a disk (the scratch directory is on tmpfs or an overlay)")
    assert shots.check_count("ru_oublock", "write_bytes", 512) >= (4 << 20) // 512
    shots.check_count("ru_inblock", "read_bytes", 512)


@rule("USAGE.BLOCKS_MEAN_BLOCK_IO")
def test_usage_reading_an_uncached_file_counts_block_input(candidate: Candidate) -> None:
    """4 MiB read after leaving the cache: ru_inblock grows by read_bytes / 512."""
    shots = _block_io(candidate, "read")
    if shots.bounds("read_bytes")[1] == 0:
        not_applicable("the file came from the cache (tmpfs, an overlay, or eviction refused)")
    shots.check_count("ru_inblock", "read_bytes", 512)
    shots.check_count("ru_oublock", "write_bytes", 512)


@rule("USAGE.SWITCHES_MEAN_SWITCHES")
def test_usage_sleeping_counts_voluntary_switches(candidate: Candidate) -> None:
    """50 short sleeps: ru_nvcsw grows by at least 45, as the kernel counts; ru_nivcsw as it does.
    Not by 50: Python 3.11+ sleeps until an absolute deadline, and a sleep whose deadline has
    passed before the call (the interpreter preempted, or slow under qemu-user) returns without
    blocking (seen here: 49 on ppc64el under qemu)."""
    shots = _workload(candidate, "sleep", count=50)
    assert shots.check_count("ru_nvcsw", "nvcsw") >= 45
    shots.check_count("ru_nivcsw", "nivcsw")


@rule("USAGE.SWITCHES_MEAN_SWITCHES")
def test_usage_preemption_counts_involuntary_switches(candidate: Candidate) -> None:
    """0.4 s of computing against a competitor for the same CPU: ru_nivcsw grows, as the kernel
    counts, by more than ru_nvcsw."""
    shots = _workload(candidate, "preempted", seconds=0.4)
    involuntary = shots.check_count("ru_nivcsw", "nivcsw")
    voluntary = shots.check_count("ru_nvcsw", "nvcsw")
    assert involuntary >= 10 and involuntary > voluntary, f"preempted for 0.4 s: ru_nivcsw +{involuntary}, ru_nvcsw +{voluntary}"


@rule("USAGE.LINUX_UNMAINTAINED_ZERO")
@pytest.mark.parametrize("who", ["RUSAGE_SELF", "RUSAGE_CHILDREN", "RUSAGE_THREAD"])
def test_usage_unmaintained_fields_are_zero(candidate: Candidate, who: str) -> None:
    """After faults, a waited child and sleeps, the fields Linux does not maintain are all 0."""
    if who not in candidate.info.constants:
        not_applicable(f"the module has no {who}")
    with candidate.isolated() as child:
        child.act("child_wait4", pages=512, seconds=0.05, count=5)
        shots = Shots(child.act("usage_workload", workload="faults", pages=512, who=candidate.info.constants[who]))
    nonzero = {f: shots.after[f] for f in UNMAINTAINED if shots.after[f] != 0}
    assert not nonzero, f"getrusage({who}) has values in fields Linux leaves at 0: {nonzero}"


@rule("USAGE.CHILDREN_MATCH_WAIT4")
def test_usage_children_grow_by_the_waited_childs_usage(candidate: Candidate) -> None:
    """A child computed, touched 1024 pages and slept: RUSAGE_CHILDREN grows by its wait4 usage."""
    with candidate.isolated() as child:
        raw = child.act("child_wait4", pages=1024, seconds=0.2, count=10, timeout=120)
    before, after, wait4 = _fields(raw["before"]), _fields(raw["after"]), raw["wait4"]
    for field in ("ru_utime", "ru_stime"):
        grew = after[field] - before[field]
        assert abs(grew - wait4[field]) <= 0.001, f"{field} grew by {grew:.6f}s, wait4 says the child used {wait4[field]:.6f}s"
    for field in FIELDS[3:]:
        grew = after[field] - before[field]
        assert grew == wait4[field], f"{field} grew by {grew}, wait4 says the child counted {wait4[field]}"
    assert after["ru_maxrss"] >= wait4["ru_maxrss"], f"ru_maxrss {after['ru_maxrss']} < the child's {wait4['ru_maxrss']}"


@rule("USAGE.THREAD_MATCHES_TASK")
@pytest.mark.parametrize("workload", ["user", "faults"])
def test_usage_thread_counts_the_threads_own_work(candidate: Candidate, workload: str) -> None:
    """In a new thread: RUSAGE_THREAD's CPU time and faults grow as /proc/thread-self/stat's."""
    if "RUSAGE_THREAD" not in candidate.info.constants:
        not_applicable("the module has no RUSAGE_THREAD")
    require(candidate, "threads")
    with candidate.isolated() as child:
        who = candidate.info.constants["RUSAGE_THREAD"]
        shots = Shots(child.act("thread_workload", workload=workload, seconds=0.3, pages=1024, who=who))
    if workload == "user":
        assert shots.check_time("ru_utime", "thread_utime") >= 0.2
    else:
        assert shots.check_count("ru_minflt", "thread_minflt") >= 1024
