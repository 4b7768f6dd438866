"""platforms/ agrees with the real C headers: the probe compiled and run now, natively and (where a
Debian cross compiler and qemu are installed) for the other architectures the kit runs on."""

from __future__ import annotations

import shutil

import pytest
from rckit.conformance.environments.toolchain import for_target
from rckit.platforms import Field, current, targets
from rckit.platforms.cprobe import build_and_run, compare

FOREIGN = ["linux-i386-glibc", "linux-aarch64-glibc", "linux-s390x-glibc"]


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc) on this machine")
def test_this_machine_agrees_with_its_headers() -> None:
    target = current()
    assert compare(target, build_and_run(target, ["cc"])) == []


@pytest.mark.parametrize("target_id", FOREIGN)
def test_foreign_architecture_agrees_with_its_headers(target_id: str) -> None:
    target = targets()[target_id]
    toolchain = for_target(target)
    if toolchain is None:
        pytest.skip(f"{target_id}: cross compiler or qemu not installed ({target.toolchain}); .ci/run installs them")
    assert compare(target, build_and_run(target, toolchain.cc, toolchain.static, toolchain.run_prefix)) == []


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc) on this machine")
def test_a_wrong_entry_is_caught() -> None:
    """The comparison can fail: a constant, a field offset and RLIM_INFINITY changed in a copy."""
    target = current()
    layout = target.rusage[0].layout
    fields = dict(layout.fields, ru_maxrss=Field(layout.fields["ru_maxrss"].offset + 8, 8))
    wrong = target._replace(
        constants=dict(target.constants, RLIMIT_NOFILE=target.constants["RLIMIT_NOFILE"] + 1),
        rlimit=target.rlimit._replace(infinity=target.rlimit.infinity - 1),
        rusage=(target.rusage[0]._replace(layout=layout._replace(fields=fields)),),
    )
    problems = compare(wrong, build_and_run(wrong, ["cc"]))
    assert any(p.startswith("RLIMIT_NOFILE") for p in problems), problems
    assert any("RLIM_INFINITY" in p for p in problems), problems
    assert any("ru_maxrss" in p for p in problems), problems
