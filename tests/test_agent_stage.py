"""The stage agents start from: its bytecode, compiled once per interpreter, the agent package in
it (boot.py starts it, exec_limits.py is what EFFECTS.SURVIVE_EXEC exec's), and the names it
keeps out of a candidate's way."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
from rckit.conformance.agent import exec_limits
from rckit.conformance.environments.discovery import find
from rckit.conformance.harness.candidates import AgentCandidate
from rckit.conformance.harness.specs import CandidateSpec
from rckit.conformance.harness.staging import PROGRAMS, stage

INTERPRETERS = ["host", "cpython2.7", "pypy3.9"]
#: The agent package's files, as the stage must hold them.
AGENT_FILES = sorted(p.name for p in Path(exec_limits.__file__).parent.glob("*.py"))


def _python(interpreter: str) -> str:
    python = sys.executable if interpreter == "host" else getattr(find(interpreter), "command", None)
    if python is None:
        pytest.skip(f"{interpreter} is not installed on this machine")
    return python


@pytest.mark.parametrize(
    "limits",
    [
        {4: [0, -1], 7: [1024, 1048576]},
        {4: [2**64 - 1, -(2**63)]},
        {},
    ],
)
def test_exec_report_writes_ints_as_json_would(limits: dict[int, list[int]]) -> None:
    line = exec_limits.answer(12, limits)
    assert line.endswith("\n") and line.count("\n") == 1
    expected = {"id": 12, "ok": {"limits": {str(r): v for r, v in limits.items()}}}
    assert json.loads(line) == expected


@pytest.mark.parametrize("odd", [True, 1.5, None, "7"])
def test_exec_report_leaves_what_is_not_an_exact_int_to_json(odd: object) -> None:
    decoded = json.loads(exec_limits.answer(3, {4: [odd, 5]}))
    assert decoded["ok"]["limits"]["4"] == [odd, 5]
    assert type(decoded["ok"]["limits"]["4"][0]) is type(odd), "a bool or float was written as an int"


def test_every_program_of_the_stage_is_staged() -> None:
    _, folder = stage(None)
    assert sorted(p.name for p in (Path(folder) / PROGRAMS).glob("*.py")) == AGENT_FILES
    assert not list(Path(folder).glob("*.py")), "nothing importable by a plain name beside the rckit packages"
    assert sorted(p.name for p in Path(folder).iterdir()) == [PROGRAMS, "rckit"], "one top-level name beside rckit"


@pytest.mark.parametrize("interpreter", INTERPRETERS)
def test_the_first_agent_compiles_the_stage_for_its_interpreter(interpreter: str) -> None:
    candidate = AgentCandidate(CandidateSpec.parse("resource", _python(interpreter)))
    info = candidate.info
    version = tuple(info.raw["python"]["version_info"][:2])
    candidate.close()
    folder = Path(stage(None)[1])
    if version < (3,):
        compiled = {p.name for p in folder.rglob("*.pyc")}
        assert "main.pyc" in compiled and "_api.pyc" not in compiled, compiled  # the reference is 3.8+
        return
    tag = "%s%s%d%d" % (info.implementation, "-" if info.implementation == "cpython" else "", *version)
    compiled = {p.name for p in folder.rglob(f"__pycache__/*.{tag}.pyc")}
    agent = {name.replace(".py", f".{tag}.pyc") for name in AGENT_FILES}
    assert {*agent, f"_api.{tag}.pyc"} <= compiled, (tag, sorted(compiled))


def test_the_agent_runs_from_the_stage_bytecode() -> None:
    """A stage whose agent's main.py source no longer compiles after the first start still starts: the
    second agent runs the bytecode and never compiles the source."""
    python = _python("host")
    first = AgentCandidate(CandidateSpec.parse("resource", python))
    first.info  # noqa: B018 - starts the agent, which compiles the stage
    first.close()
    source = Path(stage(None)[1]) / PROGRAMS / "main.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    assert cached.exists()
    text, stat = source.read_text(), source.stat()
    try:
        # Same size and mtime, so the cache stays valid, but source that would not compile.
        source.write_text("(" * (len(text.encode()) - 1) + "\n")
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        second = AgentCandidate(CandidateSpec.parse("resource", python))
        assert second.call("getrlimit", 4).returned
        second.close()
    finally:
        source.write_text(text)
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_module_in_the_working_directory_does_not_shadow_the_candidate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "resource.py").write_text("raise SystemExit('the working directory was searched')\n")
    monkeypatch.chdir(tmp_path)
    candidate = AgentCandidate(CandidateSpec.parse("resource", _python("host")))
    assert candidate.info.import_error is None
    assert candidate.call("getrlimit", 4).returned
    candidate.close()


def test_candidates_are_checked_for_usability_together(tmp_path: Path) -> None:
    """The check before a run starts agents side by side: two candidates whose imports each wait
    for the other both import (checked one after the other, the first would give up)."""
    from rckit.conformance.plugin import unusable

    folder = tmp_path / "marks"
    folder.mkdir()
    env = (("RCKIT_RENDEZVOUS", str(folder)), ("RCKIT_RENDEZVOUS_WAIT", "10"))
    candidates = str(Path(__file__).resolve().parent / "candidates")
    specs = [CandidateSpec("rendezvous", (sys.executable,), env, (candidates,))] * 2
    assert unusable(specs) == []
    assert len(list(folder.iterdir())) == 2


def test_an_interpreter_without_a_bytecode_cache_runs_the_agent_from_source(tmp_path: Path) -> None:
    """Where an interpreter keeps no bytecode (``sys.implementation.cache_tag`` None), the boot
    skips compiling and the agent still starts and answers."""
    import shutil
    import subprocess

    package = tmp_path / PROGRAMS
    shutil.copytree(Path(stage(None)[1]) / PROGRAMS, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    boot = str(package / "boot.py")
    code = (
        "import runpy, sys; sys.implementation.cache_tag = None; sys.path[0] = %r; "
        "sys.argv = [%r, '--module', 'resource']; runpy.run_path(%r, run_name='__main__')" % (str(package), boot, boot)
    )
    done = subprocess.run([sys.executable, "-c", code], input=b"", capture_output=True, timeout=60, check=False)
    assert done.returncode == 0 and b'"hello"' in done.stdout, done
    assert not list(tmp_path.rglob("*.pyc")), "bytecode was written for an interpreter without a cache"


def test_a_candidates_own_modules_named_like_the_agents_programs_are_its_own(tmp_path: Path) -> None:
    """A candidate that imports installed modules named like every module of the agent (main,
    worker, codec, ..., and the former agent, agent_boot and exec_report; on PYTHONPATH, after the
    program's own folder) gets them, in the agent, in a spawned session and in the program the
    exec rule runs: the agent's folder is not on its path, and its modules are not top-level."""
    installed = tmp_path / "site"
    installed.mkdir()
    names = sorted({"agent", "agent_boot", "exec_report", *(name[:-3] for name in AGENT_FILES if name != "__init__.py")})
    for name in names:
        (installed / f"{name}.py").write_text(f"MINE = {name!r}\n")
    (tmp_path / "ownmods.py").write_text(
        "import importlib\n"
        f"for name in {names!r}:\n"
        "    assert importlib.import_module(name).MINE == name, name\n"
        "from resource import *\n"
    )
    for isolation in ("fork", "spawn"):
        env = (("PYTHONPATH", str(installed)),)
        candidate = AgentCandidate(CandidateSpec("ownmods", (sys.executable,), env, (str(tmp_path),), isolation=isolation))
        assert candidate.info.import_error is None, candidate.info.import_error
        mine = candidate.call("getrlimit", 4).value
        with candidate.isolated() as child:
            assert child.getrlimit(4) == mine
            result, ended = child.act_then_end("exec_report", resources=[4])
        assert ended.exit_code == 0 and "4" in result["limits"], (isolation, result, ended)
        candidate.close()
