"""The *.SYSCALL_ERROR rules where the fault-injection library cannot be built: n/a, with what to
install, in the report (not "not run" without a reason)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from rckit.conformance.environments.toolchain import package_of
from rckit.platforms import debian_architectures, targets

from tests.conftest import run_suite

RULES = ("LIMITS.SYSCALL_ERROR", "USAGE.SYSCALL_ERROR")
#: An ``include`` entry of the CI matrix: the chroot and the packages of its cross compiler.
CROSS = re.compile(r"^\s*-\s+arch:\s*(?P<arch>\S+)\s*\n\s*cross:\s*(?P<packages>\S.*?)\s*$", re.M)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fault injection uses LD_PRELOAD of a Linux build")
def test_without_a_compiler_the_syscall_error_rules_are_na_naming_it(tmp_path: Path) -> None:
    """With a PATH that holds no compiler, the host has no toolchain: each rule's cell is n/a and
    its reason names the compiler commands looked for and the Debian package that brings them."""
    (tmp_path / "bin").mkdir()
    env = dict(os.environ, PATH=str(tmp_path / "bin"))
    report = tmp_path / "report"
    done = run_suite(
        "--impl", "resource", "-n", "0", "--profile", "quick", "--report", str(report), "--", "-k", "syscall_error",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert (report / "conformance.json").exists(), f"no result was recorded: {output[-3000:]}"
    matrix = json.loads((report / "conformance.json").read_text())["matrix"]
    for rule in RULES:
        cell = matrix[rule]["host:resource"]
        assert cell["status"] == "n/a", f"{rule}: {cell}"
        assert "the injection library cannot be built" in cell["reason"], f"{rule}: {cell}"
        assert "cc is not on PATH" in cell["reason"] or "neither cc nor " in cell["reason"], f"{rule}: {cell}"
        assert "(Debian: apt-get install gcc)" in cell["reason"], f"{rule}: {cell}"


def test_the_compiler_package_named_for_each_architecture_is_the_one_ci_installs(repo: Path) -> None:
    """The package a reason names for an architecture chroot's compiler (its own triplet's, else
    its platform entry's) is the one the CI job of that chroot installs."""
    text = (repo / ".github" / "workflows" / "ci.yml").read_text()
    installed = {match["arch"]: match["packages"].split()[0] for match in CROSS.finditer(text)}
    for name, entry in debian_architectures().items():
        triplet = entry.triplet or targets()[entry.target].toolchain["triplet"]
        assert name in installed, f"ci.yml installs no cross compiler for {name}"
        assert package_of(f"{triplet}-gcc") == installed[name], name
