"""The reference is typed like the stdlib module: mypy.stubtest against typeshed's resource.pyi
(read from the installed mypy at test time, never copied into the repository) finds nothing, in
this interpreter and in each CPython of the sid chroot (3.13.18, 3.14.10, 3.15.2)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mypy
import pytest
import rckit.platforms
import rckit.reference
from mypy.version import __version__ as mypy_version
from rckit.conformance.environments.chroots import chroot_dir, enter_argv, interpreters, is_built

ALLOWLIST = Path(__file__).with_name("stubtest-allowlist.txt")


def test_reference_ships_py_typed() -> None:
    assert (Path(next(iter(rckit.reference.__path__))) / "py.typed").is_file()


def test_stubtest_against_typeshed(tmp_path: Path) -> None:
    """stubtest sees typeshed's stub for the stdlib module as the stub of rckit.reference.resource."""
    stub = Path(mypy.__file__).parent / "typeshed" / "stdlib" / "resource.pyi"
    package = tmp_path / "rckit" / "reference"
    package.mkdir(parents=True)
    shutil.copy(stub, package / "resource.pyi")
    (package / "__init__.pyi").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "rckit.reference.resource", "--allowlist", str(ALLOWLIST)],
        env={"MYPYPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _chroot_cpythons() -> list[str]:
    """The release-build CPythons of the built sid chroot (ids for parametrize)."""
    if not is_built("sid"):
        return ["sid"]
    return [
        command.rsplit("/", 1)[-1] for command in interpreters("sid") if re.fullmatch(r"python3\.\d+", command.rsplit("/", 1)[-1])
    ]


@pytest.mark.parametrize("exe", _chroot_cpythons())
def test_stubtest_in_the_sid_chroot(exe: str, tmp_path: Path) -> None:
    """The same check run by CPython 3.13.18, 3.14.10 and 3.15.2 (sid), whose runtime the stub
    describes per version (RLIM_SAVED_* from 3.15): mypy for that version is installed into the
    chroot from PyPI (cached there), and the reference runs in that interpreter."""
    if exe == "sid" or os.geteuid() != 0:
        pytest.skip("the sid chroot is not built here (as root: python -m rckit.conformance chroots build sid)")
    root = chroot_dir("sid")
    version = subprocess.run(
        ["chroot", str(root), f"/usr/bin/{exe}", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    tools = root / "opt" / f"rckit-mypy-{mypy_version}-{version}"
    if not (tools / "mypy").is_dir():
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(tools), "--python-version", version,
             "--implementation", "cp", "--only-binary=:all:", f"mypy=={mypy_version}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            shutil.rmtree(tools, ignore_errors=True)
            pytest.skip(f"mypy {mypy_version} for Python {version} could not be installed: {done.stderr[-300:]}")
    # The reference and its platform data, with typeshed's stub beside the module it describes.
    stage = Path(tempfile.mkdtemp(prefix="rckit-stubtest-", dir=root / "tmp"))
    try:
        for part in (rckit.reference, rckit.platforms):
            name = part.__name__.rsplit(".", 1)[-1]
            shutil.copytree(next(iter(part.__path__)), stage / "rckit" / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(Path(mypy.__file__).parent / "typeshed" / "stdlib" / "resource.pyi", stage / "rckit" / "reference")
        shutil.copy(ALLOWLIST, stage / "allowlist.txt")
        inside = "/" + str(stage.relative_to(root))
        done = subprocess.run(
            enter_argv(str(root), [f"/usr/bin/{exe}", "-m", "mypy.stubtest", "rckit.reference.resource",
                                   "--allowlist", f"{inside}/allowlist.txt"]),
            env={"PYTHONPATH": f"/{tools.relative_to(root)}:{inside}", "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    assert done.returncode == 0, done.stdout + done.stderr
