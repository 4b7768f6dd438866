"""Candidates: a ``resource`` implementation (a module name) inside an interpreter.

* :class:`InProcessCandidate` imports the module into the harness's own interpreter. Read-only
  calls run right here; anything that changes limits runs in a child forked from a light agent
  started with the same interpreter.
* :class:`AgentCandidate` drives ``agent.py`` running under another interpreter (any CPython from
  2.7, PyPy, a python3 inside ``chroot DIR``), over the JSON-lines protocol of docs/protocol.md.

Both answer the same methods, so every conformance test runs unchanged against either. Nothing a
candidate does can change the harness's limits: :meth:`Candidate.call` refuses setrlimit and
prlimit-with-limits, which are only available on an isolated :class:`Session` (a forked child).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rckit.conformance import agent as agent_module
from rckit.conformance.values import Outcome, encode, outcome_from_reply
from rckit.platforms import Identity, PlatformError, Target, os_family
from rckit.platforms import select as select_target

__all__ = [
    "AgentCandidate",
    "AgentError",
    "Candidate",
    "CandidateSpec",
    "EndStatus",
    "InProcessCandidate",
    "Info",
    "IsolationError",
    "Session",
    "SessionEnded",
    "make_candidate",
]

DEFAULT_TIMEOUT = 60.0
PROTOCOL_LOG_ENV = "RCKIT_PROTOCOL_LOG"


class AgentError(RuntimeError):
    """The agent misbehaved: it died, timed out, or answered outside the protocol."""


class IsolationError(RuntimeError):
    """A limit-changing call was attempted outside an isolated child session."""


@dataclass(frozen=True)
class EndStatus:
    """How a forked child session ended."""

    exit_code: int | None
    signal: int | None
    core_dumped: bool

    def describe(self) -> str:
        """Human words for assertion messages."""
        if self.signal is not None:
            name = signal.Signals(self.signal).name if self.signal in signal.Signals._value2member_map_ else str(self.signal)
            return f"killed by {name}" + (" (core dumped)" if self.core_dumped else "")
        return f"exited with code {self.exit_code}"


class SessionEnded(Exception):
    """The child session ended while a request was in flight (a signal killed it, say)."""

    def __init__(self, status: EndStatus) -> None:
        super().__init__(status.describe())
        self.status = status


@dataclass(frozen=True)
class CandidateSpec:
    """What to judge: ``module`` in the interpreter ``python`` (None: the harness's own)."""

    module: str
    python: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        """A stable id made from the spec alone (it names test parameters and report columns)."""
        return f"{interpreter_label(self.python)}:{self.module}"

    @classmethod
    def parse(cls, module: str, python: str | None) -> CandidateSpec:
        """From command-line strings; ``python`` may carry a prefix such as ``chroot DIR``."""
        return cls(module, tuple(shlex.split(python)) if python else None)


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
        }


# --- staging: the files an agent needs, copied where its interpreter can read them ------------

_stages: dict[str, tuple[str, str]] = {}


def stage(root: str | None) -> tuple[str, str]:
    """Copy agent.py and the rckit.reference / rckit.platforms packages into a fresh directory
    (under ``root`` for a chroot). Returns (agent path, import path) as the candidate sees them."""
    key = root or ""
    if key in _stages:
        return _stages[key]
    from rckit import platforms, reference

    base = Path(root) / "tmp" if root else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="rckit-stage-", dir=base))
    atexit.register(shutil.rmtree, directory, True)
    shutil.copy(agent_module.__file__, directory / "agent.py")
    (directory / "rckit").mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(next(iter(reference.__path__)), directory / "rckit" / "reference", ignore=ignore)
    shutil.copytree(next(iter(platforms.__path__)), directory / "rckit" / "platforms", ignore=ignore)
    seen = "/" + str(directory.relative_to(root)) if root else str(directory)
    _stages[key] = (f"{seen}/agent.py", seen)
    return _stages[key]


# --- the agent process ---------------------------------------------------------------------


class AgentProcess:
    """One running agent: requests go to its stdin, replies come from its stdout."""

    def __init__(self, argv: list[str], env: dict[str, str], label: str) -> None:
        self.label = label
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the agent's stderr, read on failure
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env, start_new_session=True
        )
        self.pending = b""
        self.next_id = 1
        self.sessions: dict[int, Session] = {}
        log = os.environ.get(PROTOCOL_LOG_ENV)
        # The log lives as long as the agent; close() closes it.
        self.log = open(log, "a") if log else None  # noqa: SIM115

    def _stderr_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")[-2000:]

    def _readline(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise AgentError(f"{self.label}: no reply within the time limit; agent killed")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AgentError(f"{self.label}: the agent exited. Its stderr:\n{self._stderr_tail()}")
                self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        if self.log:
            self.log.write(json.dumps({"direction": "reply", "message": reply}) + "\n")
        return reply

    def request(self, op: str, to: int | None = None, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> dict[str, Any]:
        """Send one request and return its reply (``ok``, ``error`` or ``ended``)."""
        if to is None and self.sessions and not (op == "exit" and not fields):
            raise AgentError(f"{self.label}: a child session is open; the root agent answers only after it ends")
        message = {"id": self.next_id, "op": op, **fields}
        if to is not None:
            message["to"] = to
        self.next_id += 1
        if self.log:
            self.log.write(json.dumps({"direction": "request", "message": message}) + "\n")
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AgentError(f"{self.label}: the agent is gone. Its stderr:\n{self._stderr_tail()}") from None
        if op == "exit" and to is None:
            return {}
        reply = self._readline(time.monotonic() + timeout)
        if "ended" not in reply and reply.get("id") != message["id"]:
            raise AgentError(f"{self.label}: reply {reply} does not answer request {message['id']}")
        return self._note_end(reply)

    def read_unsolicited(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Read a message no request asked for (the end of a session that exited by itself)."""
        return self._note_end(self._readline(time.monotonic() + timeout))

    def _note_end(self, reply: dict[str, Any]) -> dict[str, Any]:
        if "ended" in reply:
            ended = reply["ended"]
            session = self.sessions.pop(ended["pid"], None)
            if session is not None:
                session.status = EndStatus(ended["exit_code"], ended["signal"], ended["core_dumped"])
        return reply

    def ok(self, op: str, to: int | None = None, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> Any:
        """Send a request and return its result; AgentError for an error reply."""
        reply = self.request(op, to, timeout, **fields)
        if "error" in reply:
            error = reply["error"]
            raise AgentError(
                f"{self.label}: {error.get('type', error.get('kind'))}: {error.get('message')}\n{error.get('traceback', '')}"
            )
        if "ended" in reply:
            raise SessionEnded(EndStatus(reply["ended"]["exit_code"], reply["ended"]["signal"], reply["ended"]["core_dumped"]))
        return reply["ok"]

    def kill(self) -> None:
        """Kill the agent and every process it started."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        """Ask the agent to exit, then make sure its whole process group is gone."""
        if self.proc.poll() is None:
            with contextlib.suppress(AgentError, OSError):
                self.request("exit")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        self.kill()
        if self.log:
            self.log.close()


class Session:
    """A forked child of an agent: a disposable process in which limits may be changed."""

    def __init__(self, agent: AgentProcess, pid: int) -> None:
        self.agent = agent
        self.pid = pid
        self.status: EndStatus | None = None
        agent.sessions[pid] = self

    @property
    def ended(self) -> bool:
        """The child process is gone."""
        return self.status is not None

    def _ok(self, op: str, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> Any:
        if self.status is not None:
            raise SessionEnded(self.status)
        return self.agent.ok(op, to=self.pid, timeout=timeout, **fields)

    def call(self, fn: str, *args: Any, **kwargs: Any) -> Outcome:
        """Call ``module.fn(*args, **kwargs)`` in the child."""
        raw = self._ok("call", fn=fn, args=[encode(a) for a in args], kwargs={k: encode(v) for k, v in kwargs.items()})
        return outcome_from_reply(raw)

    def getrlimit(self, resource: int) -> tuple[int, int]:
        """The child's limits for ``resource``; AssertionError if the candidate cannot say."""
        outcome = self.call("getrlimit", resource)
        assert outcome.returned and isinstance(outcome.value, tuple), f"getrlimit({resource}) {outcome}"
        return outcome.value

    def act(self, action: str, timeout: float = DEFAULT_TIMEOUT, **params: Any) -> dict[str, Any]:
        """Run an agent action (see agent.py act_*) in the child and return its result."""
        result: dict[str, Any] = self._ok("act", timeout=timeout, action=action, params=params)
        return result

    def act_then_end(self, action: str, timeout: float = DEFAULT_TIMEOUT, **params: Any) -> tuple[dict[str, Any], EndStatus]:
        """Run an action after which the child exits by itself (exec_report): its result, then
        how the child ended."""
        result = self.act(action, timeout=timeout, **params)
        reply = self.agent.read_unsolicited(timeout)
        if "ended" not in reply or self.status is None:
            raise AgentError(f"{self.agent.label}: expected the end of session {self.pid}, got {reply}")
        return result, self.status

    def act_until_end(self, action: str, timeout: float = DEFAULT_TIMEOUT, **params: Any) -> EndStatus | dict[str, Any]:
        """Run an action that may kill the child: its EndStatus if it died, else its result."""
        try:
            return self.act(action, timeout=timeout, **params)
        except SessionEnded as ended:
            return ended.status

    def attr(self, name: str) -> tuple[bool, Any]:
        """(present, value) of a module attribute in the child."""
        from rckit.conformance.values import decode

        raw = self._ok("attr", name=name)
        return raw["present"], decode(raw["value"]) if raw["present"] else None

    def fork(self) -> Session:
        """A grandchild session (this child waits until it ends)."""
        return Session(self.agent, self._ok("fork")["pid"])

    def close(self) -> EndStatus:
        """End the child (if it is still alive) and return how it ended."""
        if self.status is None:
            reply = self.agent.request("exit", to=self.pid)
            if "ended" not in reply:
                raise AgentError(f"{self.agent.label}: exit of session {self.pid} answered {reply}")
        assert self.status is not None
        return self.status

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


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
        self._description: dict[str, Any] = {}

    @property
    def id(self) -> str:
        """The candidate's stable id."""
        return self.spec.id

    def _agent_argv(self) -> tuple[list[str], str | None]:
        raise NotImplementedError

    @property
    def agent(self) -> AgentProcess:
        """The root agent that isolated sessions are forked from (started on first use)."""
        if self._agent is None or self._agent.proc.poll() is not None:
            argv, pythonpath = self._agent_argv()
            self._agent = AgentProcess(argv, _agent_env(self.spec.env, pythonpath), self.id)
            # Ask now: while a child session is open the root agent cannot answer.
            self._description = self._agent.ok("describe")
        return self._agent

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
        from rckit.conformance.values import decode

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
        session = Session(self.agent, self.agent.ok("fork")["pid"])
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
        base = Path(root) / "tmp" if root else Path(tempfile.gettempdir())
        directory = Path(tempfile.mkdtemp(prefix="rckit-scratch-", dir=base))
        directory.chmod(0o777)
        try:
            yield directory, "/" + str(directory.relative_to(root)) if root else str(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    def expose(self, path: Path) -> str:
        """Make a harness file readable by the candidate; the path as the candidate sees it."""
        root = chroot_root(self.spec.python) if self.spec.python else None
        if root is None:
            return str(path)
        inside = Path(tempfile.mkdtemp(prefix="rckit-file-", dir=Path(root) / "tmp"))
        atexit.register(shutil.rmtree, inside, True)
        shutil.copy(path, inside / path.name)
        return "/" + str((inside / path.name).relative_to(root))

    def variant(self, env: dict[str, str]) -> Candidate:
        """The same candidate started with extra environment (LD_PRELOAD for fault injection)."""
        python = self.spec.python or (sys.executable,)  # an environment needs a process of its own
        spec = CandidateSpec(self.spec.module, python, tuple(sorted({**dict(self.spec.env), **env}.items())))
        return AgentCandidate(spec)

    def close(self) -> None:
        """Stop the agent, if one was started."""
        if self._agent is not None:
            self._agent.close()
            self._agent = None


class InProcessCandidate(Candidate):
    """The module imported into the harness's interpreter; isolation via a same-interpreter agent."""

    @cached_property
    def worker(self) -> agent_module.Worker:
        """The agent's request handler, run in this process."""
        return agent_module.Worker(self.spec.module)

    def _agent_argv(self) -> tuple[list[str], str | None]:
        return [sys.executable, agent_module.__file__, "--module", self.spec.module], os.pathsep.join(p for p in sys.path if p)

    def _describe(self) -> dict[str, Any]:
        result: dict[str, Any] = self.worker.handle({"op": "describe"})
        return result

    def _call(self, fn: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Outcome:
        raw = self.worker.handle(
            {"op": "call", "fn": fn, "args": [encode(a) for a in args], "kwargs": {k: encode(v) for k, v in kwargs.items()}}
        )
        return outcome_from_reply(raw)

    def _request(self, op: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.worker.handle({"op": op, **fields})
        return result


class AgentCandidate(Candidate):
    """The module in another interpreter, driven over the agent protocol."""

    def _agent_argv(self) -> tuple[list[str], str | None]:
        assert self.spec.python is not None
        agent_path, import_path = stage(chroot_root(self.spec.python))
        # The harness's own interpreter also sees the harness's import path (a user's module).
        same = self.spec.python == (sys.executable,)
        pythonpath = os.pathsep.join(p for p in sys.path if p) if same else None
        root, command = split_chroot(self.spec.python)
        if root is not None:  # enter with a private /proc (see rckit.conformance.chroots)
            from rckit.conformance.chroots import enter_argv

            command = enter_argv(root, command)
        return [*command, agent_path, "--module", self.spec.module, "--path", import_path], pythonpath


def make_candidate(spec: CandidateSpec) -> Candidate:
    """The right kind of candidate for a spec."""
    return InProcessCandidate(spec) if spec.python is None else AgentCandidate(spec)


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
