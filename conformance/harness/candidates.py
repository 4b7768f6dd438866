"""Candidates: a ``resource`` implementation (a module name) inside an interpreter.

* :class:`AgentCandidate` (the default, also for the harness's own interpreter) drives
  the agent (rckit.conformance.agent) in its own process: any CPython from 2.7, PyPy, a python
  inside ``chroot DIR``.
  Candidate code never runs in the harness's process; rckit.conformance.harness.agent_process guards
  every request (time limits, a hang budget, reply size, output) and the warden of
  rckit.conformance.harness.containment ends whatever the candidate leaves behind.
* :class:`InProcessCandidate`, only when asked for (``--in-process``), imports the module into the
  harness's interpreter. Read-only calls run right here, unguarded; anything that changes limits
  still runs in a child forked from an agent.

Both answer the same methods, so every conformance test runs unchanged against either. Nothing a
candidate does through the suite can change the harness's limits: :meth:`Candidate.call` refuses
setrlimit and prlimit-with-limits, which are only available on an isolated :class:`Session`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rckit.conformance.agent import worker as agent_worker
from rckit.conformance.harness import exchanges
from rckit.conformance.harness.agent_process import (
    CALL_TIMEOUT,
    IMPORT_TIMEOUT,
    AgentError,
    AgentProcess,
    CannotJudge,
    HangBudget,
    NotJudged,
    Session,
    SessionEnded,
)
from rckit.conformance.harness.containment import contained_argv
from rckit.conformance.harness.values import Outcome, encode, outcome_from_reply
from rckit.platforms import Identity, PlatformError, Target, os_family
from rckit.platforms import select as select_target

__all__ = [
    "ISOLATION_MODES",
    "PROGRAMS",
    "AgentCandidate",
    "Candidate",
    "CandidateSpec",
    "InProcessCandidate",
    "Info",
    "IsolationError",
    "Registry",
    "make_candidate",
    "seen_inside",
    "temporary_folder",
]


#: How a candidate's limit-changing examples get a process of their own (CandidateSpec.isolation).
ISOLATION_MODES = ("auto", "fork", "spawn")


class IsolationError(RuntimeError):
    """A limit-changing call was attempted outside an isolated child session."""


@dataclass(frozen=True)
class CandidateSpec:
    """What to judge: ``module`` in the interpreter ``python`` (None: the harness's own), found
    on the import ``paths`` given (staged into a chroot), in an agent unless ``in_process``."""

    module: str
    python: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    paths: tuple[str, ...] = ()
    in_process: bool = False
    #: How sessions are made: "auto" (fork where the interpreter can, probed), "fork" or "spawn".
    isolation: str = "auto"

    @property
    def id(self) -> str:
        """A stable id made from the spec alone (it names test parameters and report columns)."""
        label = "in-process" if self.in_process else interpreter_label(self.python)
        return f"{label}:{self.module}"

    @classmethod
    def parse(
        cls, module: str, python: str | None, paths: Sequence[str] = (), in_process: bool = False, isolation: str = "auto"
    ) -> CandidateSpec:
        """From command-line strings; ``python`` may carry a prefix such as ``chroot DIR``."""
        return cls(module, tuple(shlex.split(python)) if python else None, (), tuple(paths), in_process, isolation)


def interpreter_label(argv: Sequence[str] | None) -> str:
    """A short name for an interpreter command line: host, pyenv-3.12.1, pypy3, chroot-arm64."""
    if not argv:
        return "host"
    root = chroot_root(argv)
    exe = argv[-1]
    parts = Path(exe).parts
    if "versions" in parts and parts.index("versions") + 1 < len(parts):
        name = "pyenv-" + parts[parts.index("versions") + 1]
    else:
        name = Path(exe).name
    return f"chroot-{Path(root).name}/{name}" if root else name


def chroot_root(argv: Sequence[str]) -> str | None:
    """The new root of a ``chroot [options] DIR cmd...`` prefix, if the command has one."""
    return split_chroot(argv)[0]


def split_chroot(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """(DIR, cmd) for ``chroot [options] DIR cmd...``; (None, argv) for any other command."""
    if argv and Path(argv[0]).name == "chroot":
        for index, arg in enumerate(argv[1:], 1):
            if not arg.startswith("-"):
                return arg, list(argv[index + 1 :])
    return None, list(argv)


class Info:
    """What a candidate said about itself (the agent's describe reply), with derived facts."""

    def __init__(self, raw: dict[str, Any], host_machine: str) -> None:
        self.raw = raw
        python, platform, process = raw["python"], raw["platform"], raw["process"]
        self.implementation: str = python["implementation"]
        self.version: str = python["version"]
        self.version_tuple: tuple[int, ...] = tuple(python["version_info"][:3])
        self.build: str = python.get("build", "release")
        self.platform: str = os_family(platform["sys_platform"])
        self.machine: str = platform["machine"]
        self.pointer_bits: int = platform["pointer_bits"]
        self.byteorder: str = platform["byteorder"]
        self.libc: str = platform["libc"]
        self.privileged: bool | None = process["privileged"]
        self.euid: int = process["euid"]
        self.names: list[str] = raw["module"]["names"]
        self.constants: dict[str, int] = raw["module"].get("constants", {})
        self.pid: int = process["pid"]
        self.core_pattern: str | None = platform.get("core_pattern")
        self.nr_open: int | None = platform.get("nr_open")
        self.pid_max: int | None = platform.get("pid_max")
        self.page_size: int = platform["page_size"]
        self.mmap_page_size: int | None = platform.get("mmap_page_size")
        self.import_error: dict[str, Any] | None = raw["module"]["import_error"]
        self.emulated = self.machine != host_machine
        #: How the agent makes sessions and children: "fork", or "spawn" (a fresh process).
        self.isolation: str = raw.get("isolation", "fork")
        #: What the interpreter can do, as the agent probed it: name -> {available, detail}.
        self.capabilities: dict[str, dict[str, Any]] = raw.get("capabilities", {})
        try:
            self.target: Target | None = select_target(
                Identity(self.platform, self.machine, self.pointer_bits, self.byteorder, self.libc)
            )
        except PlatformError:
            self.target = None

    @property
    def infinity(self) -> int:
        """The candidate's RLIM_INFINITY (AssertionError if it has none)."""
        assert "RLIM_INFINITY" in self.constants, "the candidate has no RLIM_INFINITY"
        return self.constants["RLIM_INFINITY"]

    @property
    def nlimits(self) -> int:
        """How many resource numbers the platform has (RLIM_NLIMITS), from platforms/ data."""
        if self.target is not None:
            return self.target.constants.get("RLIM_NLIMITS", self.target.constants.get("RLIMIT_NLIMITS", 0))
        return max((v for n, v in self.constants.items() if n.startswith("RLIMIT_")), default=-1) + 1

    def resource(self, name: str) -> int:
        """The number of resource ``name`` on the candidate's platform (from platforms/ data, so a
        candidate that lacks the constant can still be asked about the resource)."""
        if self.target is not None and name in self.target.constants:
            return self.target.constants[name]
        return self.constants[name]

    @property
    def platform_id(self) -> str:
        """The platforms/ entry id, or a description of the unknown platform."""
        if self.target is not None:
            return self.target.id
        return f"{self.platform}-{self.machine}-{self.libc} (no platforms/ entry)"

    def summary(self) -> dict[str, Any]:
        """The facts a report shows about a candidate."""
        return {
            "implementation": self.implementation,
            "python": self.version,
            "build": self.build,
            "platform": self.platform_id,
            "privileged": self.privileged,
            "euid": self.euid,
            "emulated": self.emulated,
            "module_file": self.raw["module"]["file"],
            "import_error": self.import_error,
            "isolation": self.isolation,
            "capabilities": {name: bool(cap.get("available")) for name, cap in self.capabilities.items()},
            "missing": {name: str(cap.get("detail")) for name, cap in self.capabilities.items() if not cap.get("available")},
        }

    def can(self, capability: str) -> bool:
        """The interpreter has ``capability`` (fork, spawn, threads, exec, signals, proc)."""
        return bool(self.capabilities.get(capability, {}).get("available", True))

    def lacks(self, capability: str) -> str:
        """Why the interpreter lacks ``capability``, in words for an n/a reason."""
        detail = self.capabilities.get(capability, {}).get("detail", "not probed")
        return f"the interpreter cannot {CAPABILITY_WORDS.get(capability, capability)} ({detail})"


#: What each capability lets an interpreter do, for n/a reasons ("the interpreter cannot fork").
CAPABILITY_WORDS = {
    "fork": "fork",
    "spawn": "start a process without fork",
    "threads": "start threads",
    "exec": "exec a program",
    "signals": "handle signals",
    "proc": "read /proc",
}


# --- staging: the files an agent needs, copied where its interpreter can read them ------------

_stages: dict[str, tuple[str, str]] = {}
#: The agent package, in every stage under this name of its own beside the ``rckit`` packages: the
#: folder a program runs from is first on its sys.path, and a candidate's own modules named like
#: the agent's (main, worker, ...) must not be found there, so boot.py takes it off and imports
#: the agent as this package (the one top-level name the stage adds, and one no candidate uses).
PROGRAMS = "_rckit_agent"


def temporary_folder(prefix: str, root: str | None, forget: bool = True) -> Path:
    """A fresh folder in the temporary directory the candidate sees: /tmp inside the chroot
    ``root``, else this machine's. With ``forget`` it is removed when the harness exits."""
    base = Path(root) / "tmp" if root else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    if forget:
        atexit.register(shutil.rmtree, folder, True)
    return folder


def seen_inside(root: str | None, path: Path) -> str:
    """``path`` (a harness path under the chroot ``root``, if any) as the candidate sees it."""
    return "/" + str(path.relative_to(root)) if root else str(path)


def stage(root: str | None) -> tuple[str, str]:
    """Copy the agent package (rckit.conformance.agent, with boot.py, which starts it, and
    exec_limits.py, the program it exec's) as PROGRAMS and the rckit.reference / rckit.platforms
    packages beside it, in a fresh directory (under ``root`` for a chroot). Returns (the program
    that starts an agent, import path) as the candidate sees them."""
    key = root or ""
    if key in _stages:
        return _stages[key]
    from rckit import platforms, reference

    directory = temporary_folder("rckit-stage-", root)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(agent_worker.__file__).parent, directory / PROGRAMS, ignore=ignore)
    (directory / "rckit").mkdir()
    shutil.copytree(next(iter(reference.__path__)), directory / "rckit" / "reference", ignore=ignore)
    shutil.copytree(next(iter(platforms.__path__)), directory / "rckit" / "platforms", ignore=ignore)
    seen = seen_inside(root, directory)
    _stages[key] = (f"{seen}/{PROGRAMS}/boot.py", seen)
    return _stages[key]


def stage_paths(paths: Sequence[str], root: str | None) -> list[str]:
    """The user's import folders as the candidate sees them: as given, or copied into a chroot."""
    if root is None:
        return [str(Path(p).resolve()) for p in paths]
    seen = []
    for path in paths:
        inside = temporary_folder("rckit-path-", root)
        shutil.copytree(path, inside, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        seen.append(seen_inside(root, inside))
    return seen


MUTATING = "setrlimit"


def _check_read_only(fn: str, args: Sequence[Any]) -> None:
    if fn == MUTATING or (fn == "prlimit" and len(args) >= 3 and args[2] is not None):
        raise IsolationError(f"{fn} changes limits: call it on candidate.isolated(), never on the candidate itself")


def _agent_env(extra: Sequence[tuple[str, str]], pythonpath: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "HOME": os.environ.get("HOME", "/"),
    }
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    env.update(dict(extra))
    return env


class Candidate:
    """An implementation under test. Subclasses decide where read-only calls run."""

    def __init__(self, spec: CandidateSpec) -> None:
        self.spec = spec
        self._agent: AgentProcess | None = None
        self._launched: AgentProcess | None = None  # started by launch(), not yet waited for
        self._description: dict[str, Any] = {}
        #: Time limits this candidate may still run into in this process (see agent_process).
        self.budget = HangBudget()

    @property
    def id(self) -> str:
        """The candidate's stable id."""
        return self.spec.id

    def _agent_argv(self) -> tuple[list[str], str | None]:
        """The agent's command line (under its warden) and the PYTHONPATH it needs, if any."""
        python = self.spec.python or (sys.executable,)
        root, command = split_chroot(python)
        boot_path, import_path = stage(root)
        paths = [import_path, *stage_paths(self.spec.paths, root)]
        # The harness's own interpreter also sees the harness's import path (a user's module).
        same = python == (sys.executable,)
        pythonpath = os.pathsep.join(p for p in sys.path if p) if same else None
        argv = [*command, boot_path, "--module", self.spec.module, "--isolation", self.spec.isolation]
        argv += [arg for path in paths for arg in ("--path", path)]
        return contained_argv(argv, root), pythonpath

    @property
    def agent(self) -> AgentProcess:
        """The root agent that isolated sessions are forked from (started on first use, and
        again after it died; CannotJudge if it cannot start or its module does not import)."""
        if self._agent is None or self._agent.proc.poll() is not None:
            if self._agent is not None:
                self._agent.close()
            self._agent = None
            if self.budget.exhausted:
                raise NotJudged(f"{self.id}: {self.budget.refusal()}")
            agent, self._launched = self._launched or self._new_agent(), None
            # Ask now: while a child session is open the root agent cannot answer.
            self._description = agent.start()
            if self.spec.isolation == "fork" and self._description.get("isolation") == "spawn":
                agent.close()
                why = self._description.get("capabilities", {}).get("fork", {}).get("detail")
                raise CannotJudge(f"--isolation fork was asked for, but the interpreter cannot fork ({why})")
            self._agent = agent
        return self._agent

    def _new_agent(self) -> AgentProcess:
        argv, pythonpath = self._agent_argv()
        agent = AgentProcess(argv, _agent_env(self.spec.env, pythonpath), self.id, self.budget)
        agent.extra_env = dict(self.spec.env)
        return agent

    def launch(self) -> None:
        """Start the agent's process now without waiting for it; the first use waits. Several
        candidates then start at once, in this one thread."""
        if self._agent is None and self._launched is None and not self.budget.exhausted:
            self._launched = self._new_agent()

    @cached_property
    def info(self) -> Info:
        """What the candidate says about itself."""
        return Info(self._describe(), os.uname().machine)

    def _describe(self) -> dict[str, Any]:
        self.agent  # noqa: B018 - starting the agent describes it
        return self._description

    def call(self, fn: str, *args: Any, **kwargs: Any) -> Outcome:
        """A read-only call (IsolationError for anything that changes limits)."""
        _check_read_only(fn, args)
        return self._call(fn, args, kwargs)

    def _call(self, fn: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Outcome:
        raw = self.agent.ok("call", fn=fn, args=[encode(a) for a in args], kwargs={k: encode(v) for k, v in kwargs.items()})
        return outcome_from_reply(raw)

    def attr(self, name: str) -> tuple[bool, Any]:
        """(present, value) of a module attribute."""
        from rckit.conformance.harness.values import decode

        raw = self._request("attr", name=name)
        return raw["present"], decode(raw["value"]) if raw["present"] else None

    def is_callable(self, name: str) -> bool:
        """The module has ``name`` and it is callable."""
        raw = self._request("attr", name=name)
        return bool(raw["present"] and raw["callable"])

    def error_class(self) -> dict[str, Any]:
        """Facts about the module's ``error`` attribute."""
        return self._request("error_class")

    def _request(self, op: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.agent.ok(op, **fields)
        return result

    @contextlib.contextmanager
    def isolated(self, unprivileged: bool = False) -> Iterator[Session]:
        """A fresh child process of the agent; with ``unprivileged`` it first drops to uid 65534
        when it runs as root. The child is ended when the block exits."""
        agent = self.agent
        spawns = self._description.get("isolation") == "spawn"
        try:  # a fresh interpreter imports the candidate again: as long as an agent's start
            opened = agent.ok("fork", timeout=IMPORT_TIMEOUT if spawns else CALL_TIMEOUT)
        except SessionEnded as ended:
            raise AgentError(f"{self.id}: the new session {ended.status.describe()} before it answered: "
                             f"{agent.output.last_line()}") from None  # fmt: skip
        session = Session(agent, opened["pid"])
        try:
            if unprivileged:
                dropped = session.act("drop_privileges")
                if dropped["privileged"]:
                    raise AgentError(f"{self.id}: still privileged after dropping to uid {dropped['uid']}")
            yield session
        finally:
            if not session.ended and session.agent.proc.poll() is None:  # a killed agent has no sessions
                session.close()

    @contextlib.contextmanager
    def scratch_dir(self) -> Iterator[tuple[Path, str]]:
        """A fresh world-writable directory: (path for the harness, path as the candidate sees it)."""
        root = chroot_root(self.spec.python) if self.spec.python else None
        directory = temporary_folder("rckit-scratch-", root, forget=False)
        directory.chmod(0o777)
        try:
            yield directory, seen_inside(root, directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def expose(self, path: Path) -> str:
        """Make a harness file readable by the candidate; the path as the candidate sees it."""
        root = chroot_root(self.spec.python) if self.spec.python else None
        if root is None:
            return str(path)
        inside = temporary_folder("rckit-file-", root)
        shutil.copy(path, inside / path.name)
        return seen_inside(root, inside / path.name)

    def variant(self, env: dict[str, str]) -> Candidate:
        """The same candidate started with extra environment (LD_PRELOAD for fault injection),
        always in an agent (an environment needs a process of its own)."""
        env_items = tuple(sorted({**dict(self.spec.env), **env}.items()))
        spec = CandidateSpec(self.spec.module, self.spec.python, env_items, self.spec.paths, isolation=self.spec.isolation)
        variant = AgentCandidate(spec)
        variant.budget = self.budget  # one candidate, one budget for hanging
        return variant

    def close(self) -> None:
        """Stop the agent, if one was started."""
        for agent in (self._agent, self._launched):
            if agent is not None:
                agent.close()
        self._agent = self._launched = None


class InProcessCandidate(Candidate):
    """The module imported into the harness's interpreter (only when asked: ``--in-process``);
    read-only calls run here without the agent's guards, isolation via a same-interpreter agent."""

    def launch(self) -> None:
        """Nothing to start: the module is described in this process."""

    @cached_property
    def worker(self) -> agent_worker.Worker:
        """The agent's request handler, run in this process."""
        return agent_worker.Worker(self.spec.module, stage_paths(self.spec.paths, None))

    def _describe(self) -> dict[str, Any]:
        result: dict[str, Any] = self.worker.handle({"op": "describe"})
        # Described here, where nothing asked for spawn; its sessions come from an agent that
        # spawns when asked to or when this interpreter cannot fork.
        forks = self.spec.isolation != "spawn" and result["capabilities"]["fork"]["available"]
        result["isolation"] = "fork" if forks else "spawn"
        return result

    def _call(self, fn: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Outcome:
        request = {"op": "call", "fn": fn, "args": [encode(a) for a in args], "kwargs": {k: encode(v) for k, v in kwargs.items()}}
        raw = self.worker.handle(request)
        exchanges.note(self, request, {"ok": raw})
        return outcome_from_reply(raw)

    def _request(self, op: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.worker.handle({"op": op, **fields})
        exchanges.note(self, {"op": op, **fields}, {"ok": result})
        return result


class AgentCandidate(Candidate):
    """The module in its own agent process (in the harness's interpreter when ``python`` is None),
    driven over the agent protocol."""


def make_candidate(spec: CandidateSpec) -> Candidate:
    """The right kind of candidate for a spec: an agent unless in-process was asked for."""
    return InProcessCandidate(spec) if spec.in_process else AgentCandidate(spec)


@dataclass
class Registry:
    """Candidates by id, created on first use and closed together."""

    specs: dict[str, CandidateSpec] = field(default_factory=dict)
    live: dict[str, Candidate] = field(default_factory=dict)

    def get(self, candidate_id: str) -> Candidate:
        """The candidate with this id (started lazily)."""
        if candidate_id not in self.live:
            self.live[candidate_id] = make_candidate(self.specs[candidate_id])
        return self.live[candidate_id]

    def close(self) -> None:
        """Stop every agent."""
        for candidate in self.live.values():
            candidate.close()
        self.live.clear()
