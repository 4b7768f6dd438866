"""The reference's native layer: cffi's ABI mode on PyPy (where ctypes calls are slow), ctypes on
CPython (where cffi would be an extra dependency and is no faster); both read the same platform entry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rckit.conformance.environments.discovery import find
from rckit.platforms import current

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from bench import stage_reference  # noqa: E402

BACKEND = "from rckit.reference import _api; print(_api._native.backend)"


def backend_in(command: list[str], stage: Path) -> str:
    """The backend the reference picks when imported by ``command`` from a staged copy."""
    done = subprocess.run([*command, "-c", f"import sys; sys.path.insert(0, {str(stage)!r}); {BACKEND}"],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return done.stdout.strip()


@pytest.mark.skipif(sys.implementation.name == "pypy", reason="the harness runs on CPython; PyPy is judged below")
def test_cpython_binds_the_c_library_with_ctypes(tmp_path: Path) -> None:
    assert backend_in([sys.executable], stage_reference(tmp_path / "stage")) == "ctypes"


@pytest.mark.skipif(sys.implementation.name == "pypy", reason="the harness runs on CPython; PyPy is judged below")
def test_cpython_keeps_ctypes_even_where_cffi_is_installed(tmp_path: Path) -> None:
    """The backend follows the implementation, not what happens to be importable (cffi is a test
    dependency, so the harness's interpreter has it)."""
    pytest.importorskip("cffi", reason="cffi is a test dependency: pip install -e '.[test]'")
    assert backend_in([sys.executable], stage_reference(tmp_path / "stage")) == "ctypes"


def test_pypy_binds_the_c_library_with_cffi(tmp_path: Path) -> None:
    pypy = find("pypy3.9") or find("pypy3")
    if pypy is None:
        pytest.skip("no PyPy on this machine (apt-get install pypy3)")
    assert backend_in(pypy.command.split(), stage_reference(tmp_path / "stage")) == "cffi"


#: Binds two targets whose entry points the C library lacks with the cffi backend; prints each
#: AttributeError's message.
MISSING_ENTRY_POINTS = """
from rckit.reference import _api, _ffi_cffi
host = _api.TARGET
no_rusage = host._replace(rusage=tuple(v._replace(symbol="rckit_no_" + v.symbol) for v in host.rusage))
symbols = dict(host.rlimit.symbols, getrlimit="rckit_no_getrlimit", setrlimit="rckit_no_setrlimit")
no_rlimit = host._replace(rlimit=host.rlimit._replace(symbols=symbols))
no_setrlimit = host._replace(rlimit=host.rlimit._replace(symbols=dict(host.rlimit.symbols, setrlimit="rckit_no_setrlimit")))
for target in (no_rusage, no_rlimit, no_setrlimit):
    try:
        _ffi_cffi.load(target)
    except AttributeError as exc:
        print(exc)
"""


def test_pypy_names_the_entry_points_its_c_library_lacks(tmp_path: Path) -> None:
    """On PyPy (the cffi backend) a C library without getrusage, getrlimit or setrlimit gives an
    AttributeError naming the symbols looked for, as the ctypes backend does."""
    pypy = find("pypy3.9") or find("pypy3")
    if pypy is None:
        pytest.skip("no PyPy on this machine (apt-get install pypy3)")
    stage = stage_reference(tmp_path / "stage")
    script = f"import sys; sys.path.insert(0, {str(stage)!r})\n{MISSING_ENTRY_POINTS}"
    done = subprocess.run([*pypy.command.split(), "-c", script], capture_output=True, text=True, timeout=60, check=True)
    rusage_symbols = [f"rckit_no_{v.symbol}" for v in current().rusage]
    assert done.stdout.splitlines() == [
        f"the C library has none of {rusage_symbols}",
        "the C library has no rckit_no_getrlimit/rckit_no_setrlimit",
        f"the C library has no {current().rlimit.symbols['getrlimit']}/rckit_no_setrlimit",
    ]


def test_pypy_builds_the_c_types_without_parsing_c(tmp_path: Path) -> None:
    """The cffi backend builds its function types with _cffi_backend: importing the reference and
    calling every function loads neither cffi nor its C parser (0.14-0.22 s of each import)."""
    pypy = find("pypy3.9") or find("pypy3")
    if pypy is None:
        pytest.skip("no PyPy on this machine (apt-get install pypy3)")
    stage = stage_reference(tmp_path / "stage")
    script = (
        f"import sys; sys.path.insert(0, {str(stage)!r})\n"
        "from rckit.reference import resource as r\n"
        "r.getrlimit(r.RLIMIT_NOFILE); r.prlimit(0, r.RLIMIT_NOFILE); r.getrusage(r.RUSAGE_SELF); r.getpagesize()\n"
        "print(sorted(m for m in sys.modules if m == 'cffi' or m.startswith('cffi.')))\n"
    )
    done = subprocess.run([*pypy.command.split(), "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout
