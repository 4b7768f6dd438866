"""platforms/data: loads, is consistent, cites its sources, and selects one entry per identity."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from rckit.platforms import DATA_DIR, Identity, PlatformError, Target, host_identity, python_names, select, targets

SOURCES = json.loads((Path(DATA_DIR) / "sources.json").read_text())
RUSAGE_FIELDS = 16


@pytest.fixture(scope="module", params=sorted(targets()))
def target(request: pytest.FixtureRequest) -> Target:
    return targets()[request.param]


def test_every_constant_cites_a_known_source(target: Target) -> None:
    unknown = {name: src for name, src in target.constant_sources.items() if src not in SOURCES}
    assert not unknown, unknown


def test_rlimit_layout_is_two_rlim_t(target: Target) -> None:
    layout = target.rlimit.layout
    assert layout.size == 2 * target.rlimit.rlim_size
    assert {f.size for f in layout.fields.values()} == {target.rlimit.rlim_size}


def test_rusage_layouts_fit_and_do_not_overlap(target: Target) -> None:
    for variant in target.rusage:
        fields = sorted(variant.layout.fields.values())
        assert len(fields) == RUSAGE_FIELDS, variant.symbol
        for before, after in itertools.pairwise(fields):
            assert before.offset + before.size <= after.offset, (variant.symbol, before, after)
        assert fields[-1].offset + fields[-1].size <= variant.layout.size
        assert variant.layout.timeval is not None
        assert variant.layout.fields["ru_utime"].size == variant.layout.timeval.size


def test_infinity_fits_rlim_t(target: Target) -> None:
    assert 0 < target.rlimit.infinity < 2 ** (8 * target.rlimit.rlim_size)


def test_core_constants_present(target: Target) -> None:
    for name in (
        "RLIMIT_CPU",
        "RLIMIT_FSIZE",
        "RLIMIT_DATA",
        "RLIMIT_STACK",
        "RLIMIT_CORE",
        "RLIMIT_NOFILE",
        "RUSAGE_SELF",
        "RUSAGE_CHILDREN",
    ):
        assert name in target.constants, name
    assert ("RLIM_NLIMITS" in target.constants) or ("RLIMIT_NLIMITS" in target.constants) or target.os == "illumos"


def test_identities_are_unique() -> None:
    seen: dict[tuple[object, ...], str] = {}
    for tid, t in targets().items():
        for machine in t.machines:
            key = (t.os, machine, t.pointer_bits, t.byteorder, t.libc)
            assert key not in seen, f"{tid} and {seen[key]} both match {key}"
            seen[key] = tid


def test_select_finds_this_machine() -> None:
    assert select(host_identity()).os == host_identity().os


@pytest.mark.parametrize("built", ["only the match", "every entry"])
def test_select_builds_the_entry_targets_has(built: str) -> None:
    """select builds just the matching entry until targets() has built them all; either way it is
    the entry targets() gives, for every machine of every platform."""
    every = targets()
    for tid, t in every.items():
        for machine in t.machines:
            if built == "only the match":
                targets.cache_clear()
            found = select(Identity(t.os, machine, t.pointer_bits, t.byteorder, t.libc))
            assert found == t, (tid, machine)
            assert (targets.cache_info().currsize == 0) == (built == "only the match"), "select built every entry"


def test_select_rejects_an_unknown_platform() -> None:
    with pytest.raises(PlatformError, match="no platform entry"):
        select(Identity("plan9", "mips", 32, "big", "none"))


def test_i386_on_a_64_bit_kernel_is_i386() -> None:
    """A 32-bit process reports the kernel's machine (x86_64); pointer width tells them apart."""
    assert select(Identity("linux", "x86_64", 32, "little", "glibc")).id == "linux-i386-glibc"
    assert select(Identity("linux", "x86_64", 64, "little", "glibc")).id == "linux-x86_64-glibc"


def test_thirty_two_bit_glibc_uses_the_64_bit_entry_points() -> None:
    for t in targets().values():
        if t.libc == "glibc" and t.pointer_bits == 32:
            assert t.rlimit.symbols["getrlimit"] == "getrlimit64", t.id
            assert t.rlimit.rlim_size == 8, t.id


def test_python_names_have_versions() -> None:
    names = python_names()
    assert names["functions"]["prlimit"]["since"] == "3.4"
    assert names["constants"]["RUSAGE_THREAD"]["since"] == "3.2"
