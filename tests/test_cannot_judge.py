"""A candidate that cannot be judged at all stops the run (exit 4) with one line naming the real
cause: where it happened (before the agent started, during the module's import, after it), the
exception and the line it was raised at, or the signal, and what the interpreter printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_suite
from tests.forkless import interpreter_without

CANNOT = "ERROR: rckit: these candidates cannot be judged:"


def _judge(tmp_path: Path, *args: str) -> tuple[int, str]:
    done = run_suite(*args, "--report", str(tmp_path), "-n", "0", "-q", cwd=tmp_path)
    return done.returncode, done.stdout + done.stderr


def _module(tmp_path: Path, name: str, source: str) -> Path:
    folder = tmp_path / "modules"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(source)
    return folder


def _line(output: str, candidate: str) -> str:
    """The one line the run gave the candidate."""
    assert CANNOT in output, output[-3000:]
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(candidate + ": ")]
    assert len(lines) == 1, output[-3000:]
    return lines[0]


@pytest.mark.parametrize(
    ("ending", "cause"),
    [
        ("os.kill(os.getpid(), signal.SIGKILL)", "it was killed by SIGKILL"),
        ("os.kill(os.getpid(), signal.SIGSEGV)", "it was killed by SIGSEGV"),
        ("os._exit(3)", "it exited with status 3"),
    ],
    ids=["sigkill", "sigsegv", "os-exit"],
)
def test_a_module_that_dies_while_importing_is_named_with_its_signal_and_last_words(
    tmp_path: Path, ending: str, cause: str
) -> None:
    source = f"import os, signal, sys\nsys.stderr.write('loading the tables\\n')\nsys.stderr.flush()\n{ending}\n"
    folder = _module(tmp_path, "dies_at_import", source)
    code, output = _judge(tmp_path, "--impl", "dies_at_import", "--path", str(folder))
    assert code == 4, output[-3000:]
    line = _line(output, "host:dies_at_import")
    assert line == f"host:dies_at_import: the agent died while importing the module: {cause}; its output ends: loading the tables"


def test_a_module_that_does_not_compile_is_named_with_its_syntax_error(tmp_path: Path) -> None:
    folder = _module(tmp_path, "broken_syntax", "def getrlimit(:\n")
    code, output = _judge(tmp_path, "--impl", "broken_syntax", "--path", str(folder))
    assert code == 4, output[-3000:]
    line = _line(output, "host:broken_syntax")
    assert line.startswith("host:broken_syntax: the module does not import (SyntaxError: "), line


def test_an_interpreter_without_a_module_the_agent_needs_is_named_before_the_agent_starts(tmp_path: Path) -> None:
    """The agent needs json: where it cannot be imported, the interpreter stops at once; the line
    says so, with the exception and the agent's line that raised it."""
    python = interpreter_without(tmp_path, "python-nojson", "import sys\nsys.modules['json'] = None\n")
    code, output = _judge(tmp_path, "--python", str(python), "--impl", "resource")
    assert code == 4, output[-3000:]
    line = _line(output, "python-nojson:resource")
    assert line.startswith("python-nojson:resource: its interpreter exited with status 1 before the agent started: "), line
    assert "ModuleNotFoundError: import of json halted; None in sys.modules" in line, line
    assert "_rckit_agent/" in line and "in <module>" in line, line


def test_a_failure_after_the_import_is_not_called_a_death_while_importing(tmp_path: Path) -> None:
    """An interpreter whose os lacks uname imports the module, then the agent's description of
    the interpreter raises: the line says it happened after the import, and names the exception."""
    python = interpreter_without(tmp_path, "python-nouname", "import os\ndel os.uname\n")
    code, output = _judge(tmp_path, "--python", str(python), "--impl", "resource")
    assert code == 4, output[-3000:]
    line = _line(output, "python-nouname:resource")
    assert "died while importing" not in line and "no output" not in line, line
    assert line.startswith(
        "python-nouname:resource: the agent failed after importing the module, describing the interpreter: "
        "AttributeError: module 'os' has no attribute 'uname' (File "
    ), line
    assert "in describe" in line, line
