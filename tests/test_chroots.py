"""Release chroots: which interpreters count as candidates, in which order (on a real directory
tree laid out like a Debian chroot's /usr/bin)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rckit.conformance.environments import chroots
from rckit.platforms import debian_architectures, debian_releases, targets


def test_every_release_names_its_suite_packages_and_fallback_script() -> None:
    releases = debian_releases()
    assert "sid" in releases and releases["sid"].ci
    for release in releases.values():
        assert release.packages and set(release.seen) <= set(release.packages), release.name
        assert release.script in ("sid", release.suite), release.name
    assert not set(releases) & {name for name in chroots.chroot_names() if chroots.release(name) is None}


def test_a_release_chroot_offers_every_cpython_debug_build_and_pypy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroots, "CACHE", tmp_path)
    bin_dir = tmp_path / "sid" / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python3", "python3.13", "python3.13d", "python3.13-dbg", "python3.15", "python3.9", "python3-config",
                 "pypy3", "pypy3.11", "pypy3clean", "python3.15d-config"):  # fmt: skip
        (bin_dir / name).write_text("")
    (tmp_path / "sid" / chroots.MARKER).write_text(json.dumps({"release": "sid"}))
    assert chroots.is_built("sid")
    assert [c.rsplit("/", 1)[-1] for c in chroots.interpreters("sid")] == [
        "python3.9", "python3.13", "python3.13d", "python3.15", "pypy3",
    ]  # fmt: skip
    assert chroots.interpreters("sid")[0] == f"chroot {tmp_path / 'sid'} /usr/bin/python3.9"


def test_an_architecture_chroot_offers_its_python3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroots, "CACHE", tmp_path)
    assert chroots.interpreters("arm64") == [f"chroot {tmp_path / 'arm64'} /usr/bin/python3"]


def test_every_chroot_has_a_nox_session(repo: Path) -> None:
    """noxfile.py lists the chroots literally (CI's workflow check reads it without running it)."""
    tree = ast.parse((repo / "noxfile.py").read_text())
    literal = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "CHROOTS"
    )
    assert literal == chroots.chroot_names()


def test_every_architecture_chroot_names_its_release_entry_and_source() -> None:
    """Which Debian architecture and release each chroot is comes from platforms/ data, and each
    32-bit one says the width of time_t its programs use (both ARM ABIs appear: time32 and time64)."""
    found = debian_architectures()
    debian = {"i386", "arm64", "armel", "armhf", "ppc64el", "riscv64", "s390x", "mips64el"}
    assert {entry.arch for entry in found.values()} >= debian
    for entry in found.values():
        target = targets()[entry.target]
        assert set(entry.suites) <= {"bookworm", "trixie", "forky"}, entry.name
        assert (entry.time_bits is not None) == (target.pointer_bits == 32), entry.name
        if entry.time_bits == 64:
            assert "rusage-ilp32-time64" in {variant.layout.name for variant in target.rusage}, entry.name
    assert {e.time_bits for e in found.values() if e.arch == "armhf"} == {32, 64}
    assert {e.time_bits for e in found.values() if e.arch == "armel"} == {32, 64}


def test_an_architecture_chroot_of_another_release_counts_as_not_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroots, "CACHE", tmp_path)
    (tmp_path / "armhf").mkdir()
    marker = tmp_path / "armhf" / chroots.MARKER
    marker.write_text(json.dumps({"arch": "armhf", "suite": "bookworm"}))
    assert not chroots.is_built("armhf")
    marker.write_text(json.dumps({"arch": "armhf", "suite": chroots.architecture("armhf").suites[0]}))
    assert chroots.is_built("armhf")


def test_an_unknown_architecture_chroot_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="armhf-bookworm"):
        chroots.target_for_arch("armhf-sarge")


@pytest.mark.parametrize(
    ("python", "expected"),
    [
        ("chroot /var/cache/rckit/chroots/arm64 /usr/bin/python3", True),
        ("chroot /var/cache/rckit/chroots/s390x /usr/bin/python3", True),
        ("chroot /var/cache/rckit/chroots/i386 /usr/bin/python3", False),  # runs natively on x86_64
        ("chroot /var/cache/rckit/chroots/sid /usr/bin/python3.15", False),  # a release: this machine's arch
        ("/usr/bin/pypy3", False),
        (None, False),
    ],
)
def test_candidates_under_qemu_are_told_apart_to_start_first(python: str | None, expected: bool) -> None:
    from rckit.conformance.harness.specs import CandidateSpec
    from rckit.conformance.plugin import emulated

    assert emulated(CandidateSpec.parse("resource", python)) is expected


@pytest.mark.parametrize(
    ("name", "lacking"),
    [
        ("sid", "debootstrap (Debian: apt-get install debootstrap)"),
        ("arm64", "mmdebstrap (Debian: apt-get install mmdebstrap)"),
        ("arm64", "qemu-aarch64-static (Debian: apt-get install qemu-user-static)"),
    ],
)
def test_building_without_its_tools_names_each_tool_and_its_package(tmp_path: Path, name: str, lacking: str) -> None:
    """No traceback: one line naming what is missing and the package that brings it."""
    (tmp_path / "cache").mkdir()
    (tmp_path / "bin").mkdir()
    env = dict(os.environ, PATH=str(tmp_path / "bin"), RCKIT_CHROOT_CACHE=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-m", "rckit.conformance.environments.chroots", "build", name],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{name}: cannot build here, missing "), done.stderr
    assert lacking in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_chroot_the_mirror_cannot_serve_is_named_in_one_line_and_the_rest_still_built(tmp_path: Path) -> None:
    """A real mmdebstrap against a mirror that answers nothing: each chroot asked for is named as
    not built with the releases tried, exit 1, no traceback, and nothing is left in the cache."""
    import shutil

    if os.geteuid() != 0 or shutil.which("mmdebstrap") is None:
        pytest.skip("needs root and mmdebstrap (Debian: apt-get install mmdebstrap) to build a chroot")
    env = dict(os.environ, RCKIT_CHROOT_CACHE=str(tmp_path), RCKIT_DEBIAN_MIRROR="http://127.0.0.1:9/debian")
    done = subprocess.run(
        [sys.executable, "-m", "rckit.conformance.environments.chroots", "build", "i386", "armhf-bookworm"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "i386: not built: the mirror http://127.0.0.1:9/debian served none of trixie for i386" in done.stderr, done.stderr
    assert "armhf-bookworm: not built: the mirror " in done.stderr, done.stderr
    assert done.stderr.rstrip().endswith("not built: i386, armhf-bookworm"), done.stderr
    assert not list(tmp_path.iterdir()), "a half-built chroot was left in the cache"


def test_each_architecture_chroot_needs_its_own_cross_compiler_and_c_library() -> None:
    """What `nox -s "chroot(NAME)"` installs: the compiler the C probe and the fault-injection
    library use for that chroot's interpreter (armel's own, not armhf's), its C library, and
    qemu-user where the chroot is emulated, and mmdebstrap to build it; a release chroot needs
    debootstrap alone."""
    for entry in debian_architectures().values():
        needed = chroots.packages(entry.name)
        toolchain = chroots.target_for_arch(entry.name).toolchain
        triplet = entry.triplet or toolchain["triplet"]
        assert needed[:3] == ["mmdebstrap", f"gcc-{triplet}", f"libc6-dev-{entry.arch}-cross"], needed
        assert ("qemu-user-static" in needed) == bool(toolchain.get("qemu")), needed
    assert chroots.packages("sid") == ["debootstrap"]
    assert "gcc-arm-linux-gnueabi" in chroots.packages("armel") and "gcc-arm-linux-gnueabihf" in chroots.packages("armhf")


def test_every_package_a_chroot_needs_is_one_debian_serves() -> None:
    """Each name `chroots packages` prints is a package this machine's Debian mirror has (the
    names are built from triplets and architectures, so a wrong rule of naming shows here)."""
    import shutil

    if shutil.which("apt-cache") is None:
        pytest.skip("no apt-cache here to ask Debian's package lists")
    names = sorted({package for name in chroots.chroot_names() for package in chroots.packages(name)})
    policy = subprocess.run(["apt-cache", "policy", *names], capture_output=True, text=True, check=False).stdout
    if "Candidate:" not in policy:
        pytest.skip("apt's package lists are empty here (apt-get update was never run)")
    listed = {line[:-1] for line in policy.splitlines() if line.endswith(":") and not line.startswith(" ")}
    served = {name for name in listed if f"{name}:\n  Installed: (none)\n  Candidate: (none)" not in policy}
    unknown = [name for name in names if name not in served]
    assert not unknown, f"not served by Debian here: {unknown}"
