"""The reference is typed like the stdlib module: mypy.stubtest against typeshed's resource.pyi
(read from the installed mypy at test time, never copied into the repository) finds nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import mypy
import rckit.reference

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
