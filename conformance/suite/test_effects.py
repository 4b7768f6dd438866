"""EFFECTS.*: what a limit does to the process that has it. Each experiment runs in a disposable
child; the ones that kill their process (SIGXCPU, SIGXFSZ, SIGABRT) report how it ended."""

from __future__ import annotations

import errno

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.sessions import EndStatus, Session
from rckit.conformance.support.applicability import not_applicable, require

rule = pytest.mark.rule


def _set_soft(child: Session, number: int, soft: int, infinity: int) -> None:
    _, hard = child.getrlimit(number)
    if hard != infinity and hard < soft:
        not_applicable(f"resource {number}: hard limit {hard} is below the {soft} the experiment needs")
    outcome = child.call("setrlimit", number, (soft, hard))
    assert outcome.returned, f"setrlimit({number}, ({soft}, {hard})) {outcome}"


def _file_core_pattern(candidate: Candidate) -> None:
    require(candidate, "signals")
    pattern = candidate.info.core_pattern
    if pattern is None:
        not_applicable("cannot read /proc/sys/kernel/core_pattern")
    if pattern.startswith("|") or "/" in pattern:
        not_applicable(f"core_pattern {pattern!r} does not write cores into the working directory")


@rule("EFFECTS.CORE_ZERO")
def test_effects_core_zero_leaves_no_core(candidate: Candidate) -> None:
    """With RLIMIT_CORE 0 a SIGABRT leaves no core file (and with room for one, it does)."""
    _file_core_pattern(candidate)
    info, number = candidate.info, candidate.info.resource("RLIMIT_CORE")
    with candidate.scratch_dir() as (host_dir, seen_dir):
        with candidate.isolated() as child:
            _set_soft(child, number, 0, info.infinity)
            ended = child.act_until_end("crash", cwd=seen_dir)
        assert isinstance(ended, EndStatus) and ended.killed_by("SIGABRT"), f"the child {ended}"
        assert not ended.core_dumped and not list(host_dir.iterdir()), (
            f"with RLIMIT_CORE 0: {ended}, files {list(host_dir.iterdir())}"
        )
        # Control: the same crash with the soft limit at the hard limit does leave a core, so the
        # check above can fail. Not possible when the hard limit cannot hold a core.
        with candidate.isolated() as child:
            _, hard = child.getrlimit(number)
            if hard != info.infinity and hard < (64 << 20):
                return
            assert child.call("setrlimit", number, (hard, hard)).returned
            control = child.act_until_end("crash", cwd=seen_dir)
        assert list(host_dir.iterdir()), f"control: with RLIMIT_CORE {hard}, no core was written ({control})"


@rule("EFFECTS.CORE_PARTIAL")
def test_effects_core_partial(candidate: Candidate) -> None:
    """With a small positive RLIMIT_CORE, the core file is no larger than the limit."""
    _file_core_pattern(candidate)
    info, number, limit = candidate.info, candidate.info.resource("RLIMIT_CORE"), 256 << 10
    with candidate.scratch_dir() as (host_dir, seen_dir):
        with candidate.isolated() as child:
            _set_soft(child, number, limit, info.infinity)
            ended = child.act_until_end("crash", cwd=seen_dir)
        cores = [p for p in host_dir.iterdir() if p.is_file()]
        assert cores, f"no core file at all with RLIMIT_CORE {limit} ({ended})"
        # The limit counts bytes written; skipped pages leave holes, so the apparent size may be
        # larger (CLARIFY.CORE_LIMIT_COUNTS_WRITTEN_BYTES). Allocated blocks are what was written.
        written = {p.name: p.stat().st_blocks * 512 for p in cores}
        block = max(p.stat().st_blksize for p in cores)
        assert all(0 < size <= limit + block for size in written.values()), f"bytes written beyond RLIMIT_CORE {limit}: {written}"


@rule("EFFECTS.CPU_SIGXCPU")
def test_effects_cpu_sigxcpu_handled(candidate: Candidate) -> None:
    """Past the soft RLIMIT_CPU the process receives SIGXCPU (a handler runs)."""
    require(candidate, "signals")
    info, number = candidate.info, candidate.info.resource("RLIMIT_CPU")
    with candidate.isolated() as child:
        _set_soft(child, number, 1, info.infinity)
        result = child.act("spin", seconds=4, handler=True, wall_timeout=30, timeout=60)
    assert result["signal_received"], f"no SIGXCPU after {result['cpu']:.2f}s of CPU with RLIMIT_CPU 1"
    assert result["cpu"] >= 0.5, f"SIGXCPU came after only {result['cpu']:.2f}s of CPU"


@rule("EFFECTS.CPU_SIGXCPU")
def test_effects_cpu_sigxcpu_kills(candidate: Candidate) -> None:
    """Without a handler, SIGXCPU ends the process."""
    info, number = candidate.info, candidate.info.resource("RLIMIT_CPU")
    with candidate.isolated() as child:
        _set_soft(child, number, 1, info.infinity)
        ended = child.act_until_end("spin", seconds=4, wall_timeout=30, timeout=60)
    assert isinstance(ended, EndStatus) and ended.killed_by("SIGXCPU"), f"with RLIMIT_CPU 1 the child {ended}"


@rule("EFFECTS.FSIZE")
@given(limit=st.one_of(st.sampled_from([1, 4095, 4096, 4097, 65536]), st.integers(1, 300_000)), in_thread=st.booleans())
def test_effects_fsize_efbig(candidate: Candidate, limit: int, in_thread: bool) -> None:
    """With SIGXFSZ ignored, writing past RLIMIT_FSIZE (from any thread) stops at the limit with EFBIG."""
    require(candidate, "signals")
    assume(candidate.info.can("threads") or not in_thread)  # without threads, from the main thread only
    info, number = candidate.info, candidate.info.resource("RLIMIT_FSIZE")
    with candidate.scratch_dir() as (_, seen_dir), candidate.isolated() as child:
        _set_soft(child, number, limit, info.infinity)
        result = child.act("write_file", size=limit + 5000, dir=seen_dir, sigxfsz="ignore", thread=in_thread)
    assert result["written"] == limit and result["errno"] == errno.EFBIG, f"limit {limit}: {result}"


@rule("EFFECTS.FSIZE")
def test_effects_fsize_sigxfsz_kills(candidate: Candidate) -> None:
    """With SIGXFSZ at its default action, writing past RLIMIT_FSIZE ends the process."""
    require(candidate, "signals")
    info, number = candidate.info, candidate.info.resource("RLIMIT_FSIZE")
    with candidate.scratch_dir() as (_, seen_dir), candidate.isolated() as child:
        _set_soft(child, number, 10_000, info.infinity)
        ended = child.act_until_end("write_file", size=20_000, dir=seen_dir, sigxfsz="default")
    assert isinstance(ended, EndStatus) and ended.killed_by("SIGXFSZ"), f"the child {ended}"


def _memory_limit_experiment(candidate: Candidate, name: str, status_field: str) -> None:
    info = candidate.info
    if name not in info.constants and (info.target is None or name not in info.target.constants):
        not_applicable(f"the platform has no {name}")
    number = info.resource(name)
    with candidate.isolated() as child:
        status = child.act("proc_status")
        if status_field not in status:
            not_applicable(f"no {status_field} in /proc/self/status to size the limit from")
        in_use = int(status[status_field].split()[0]) * 1024
        _set_soft(child, number, in_use + (64 << 20), info.infinity)
        small = child.act("allocate", bytes=1 << 20)
        large = child.act("allocate", bytes=512 << 20)
    assert not small["memory_error"], f"1 MiB failed under {name} = use + 64 MiB"
    assert large["memory_error"], f"512 MiB succeeded under {name} = use + 64 MiB"


@rule("EFFECTS.AS")
def test_effects_as_limits_allocation(candidate: Candidate) -> None:
    """An allocation beyond RLIMIT_AS raises MemoryError; a small one still works."""
    _memory_limit_experiment(candidate, "RLIMIT_AS", "VmSize")


@rule("EFFECTS.DATA")
def test_effects_data_limits_allocation(candidate: Candidate) -> None:
    """An allocation beyond RLIMIT_DATA raises MemoryError; a small one still works."""
    _memory_limit_experiment(candidate, "RLIMIT_DATA", "VmData")


@rule("EFFECTS.VMEM")
def test_effects_vmem_limits_allocation(candidate: Candidate) -> None:
    """Where RLIMIT_VMEM exists, an allocation beyond it raises MemoryError."""
    _memory_limit_experiment(candidate, "RLIMIT_VMEM", "VmSize")


@rule("EFFECTS.NOFILE")
@given(extra=st.integers(1, 64))
def test_effects_nofile_emfile(candidate: Candidate, extra: int) -> None:
    """Descriptors handed out stay below the soft RLIMIT_NOFILE; once all are used, EMFILE."""
    info, number = candidate.info, candidate.info.resource("RLIMIT_NOFILE")
    with candidate.isolated() as child:
        open_now = child.act("open_fds", below=4096)["fds"]
        soft = max(open_now) + 1 + extra
        _set_soft(child, number, soft, info.infinity)
        result = child.act("open_until_failure")
    assert result["errno"] == errno.EMFILE, f"opening stopped with errno {result['errno']}"
    assert all(fd < soft for fd in result["fds"]), f"descriptor >= soft limit {soft}: {max(result['fds'])}"
    assert sorted(set(result["fds"]) | {fd for fd in open_now if fd < soft}) == list(range(soft)), (
        "a free number below the limit was refused"
    )


@rule("EFFECTS.NPROC")
def test_effects_nproc_fork_fails(candidate: Candidate) -> None:
    """An unprivileged process whose user is at its RLIMIT_NPROC cannot fork (EAGAIN), though it has
    created no process: with a limit of 1 its own process is the one its user has (the erratum
    NPROC_COUNTS_USER). Below the limit it can."""
    number = candidate.info.resource("RLIMIT_NPROC")
    with candidate.isolated(unprivileged=True) as child:
        control = child.act("fork_probe")
        assert control["forked"], f"fork failed before the limit was set: {control}"
        assert child.call("setrlimit", number, (1, 1)).returned
        result = child.act("fork_probe")
    assert not result["forked"] and result["errno"] == errno.EAGAIN, (
        f"with RLIMIT_NPROC 1, counting the user's processes: {result}"
    )


@rule("EFFECTS.MEMLOCK")
def test_effects_memlock(candidate: Candidate) -> None:
    """Unprivileged, mlock beyond RLIMIT_MEMLOCK fails; within it, it works."""
    info, number = candidate.info, candidate.info.resource("RLIMIT_MEMLOCK")
    page = info.page_size
    with candidate.isolated(unprivileged=True) as child:
        _, hard = child.getrlimit(number)
        if hard != info.infinity and hard < 16 * page:
            not_applicable(f"the hard RLIMIT_MEMLOCK {hard} leaves no room for the control")
        assert child.call("setrlimit", number, (16 * page, 16 * page)).returned
        control = child.act("mlock", bytes=4 * page)
        if not control["available"]:
            not_applicable("the candidate's interpreter has no ctypes to call mlock")
        assert child.call("setrlimit", number, (page, page)).returned
        result = child.act("mlock", bytes=8 * page)
    assert control["locked"], f"mlock of 4 pages under a 16-page limit failed: {control}"
    assert not result["locked"] and result["errno"] in (errno.ENOMEM, errno.EPERM), (
        f"mlock of 8 pages under a 1-page limit: {result}"
    )


@rule("EFFECTS.INHERITED_BY_FORK")
@given(soft=st.integers(0, 1 << 20))
def test_effects_inherited_by_fork(candidate: Candidate, soft: int) -> None:
    """A forked child starts with its parent's limits."""
    require(candidate, "fork")
    number = candidate.info.resource("RLIMIT_CORE")
    with candidate.isolated() as child:
        _, hard = child.getrlimit(number)
        soft = soft if hard == candidate.info.infinity else min(soft, hard)
        assert child.call("setrlimit", number, (soft, hard)).returned
        with child.fork() as grandchild:
            assert grandchild.getrlimit(number) == (soft, hard)


@rule("EFFECTS.SURVIVE_EXEC")
@given(soft=st.integers(0, 1 << 20), files=st.integers(256, 1024))
def test_effects_limits_survive_exec(candidate: Candidate, soft: int, files: int) -> None:
    """After exec, the new program sees the limits the process set before."""
    info = candidate.info
    core, nofile = info.resource("RLIMIT_CORE"), info.resource("RLIMIT_NOFILE")
    with candidate.isolated() as child:
        _, core_hard = child.getrlimit(core)
        _, nofile_hard = child.getrlimit(nofile)
        soft = soft if core_hard == info.infinity else min(soft, core_hard)
        files = files if nofile_hard == info.infinity else min(files, nofile_hard)
        assert child.call("setrlimit", core, (soft, core_hard)).returned
        assert child.call("setrlimit", nofile, (files, nofile_hard)).returned
        result, ended = child.act_then_end("exec_report", resources=[core, nofile])
    assert ended.exit_code == 0, f"the exec'd program {ended}"
    assert result["limits"] == {str(core): [soft, core_hard], str(nofile): [files, nofile_hard]}, result
