"""Candidates: a ``resource`` implementation (a module name) inside an interpreter.

* :class:`AgentCandidate` (the default, also for the harness's own interpreter) drives
  the agent (rckit.conformance.agent) in its own process: any CPython from 2.7, PyPy, a python
  inside ``chroot DIR``.
  Candidate code never runs in the harness's process; rckit.conformance.harness.agent_process guards
  every request (time limits, a hang budget, reply size, output) and the warden of
  rckit.conformance.environments.containment ends whatever the candidate leaves behind.
* :class:`InProcessCandidate`, only when asked for (``--in-process``), imports the module into the
  harness's interpreter. Read-only calls run right here, unguarded; anything that changes limits
  still runs in a child forked from an agent.

Both answer the same methods, so every conformance test runs unchanged against either. Nothing a
candidate does through the suite can change the harness's limits: :meth:`Candidate.call` refuses
setrlimit and prlimit-with-limits, which are only available on an isolated :class:`Session`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rckit.conformance.agent import worker as agent_worker
from rckit.conformance.environments.containment import contained_argv
from rckit.conformance.harness import exchanges
from rckit.conformance.harness.agent_process import AgentProcess
from rckit.conformance.harness.errors import AgentError, CannotJudge, NotJudged
from rckit.conformance.harness.info import Info
from rckit.conformance.harness.sessions import Session, SessionEnded
from rckit.conformance.harness.specs import CandidateSpec, chroot_root, split_chroot
from rckit.conformance.harness.staging import seen_inside, stage, stage_paths, temporary_folder
from rckit.conformance.harness.timeouts import CALL_TIMEOUT, IMPORT_TIMEOUT, HangBudget
from rckit.conformance.harness.values import Outcome, encode, outcome_from_reply

__all__ = ["AgentCandidate", "Candidate", "InProcessCandidate", "IsolationError", "Registry", "make_candidate"]


class IsolationError(RuntimeError):
    """A limit-changing call was attempted outside an isolated child session."""


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
