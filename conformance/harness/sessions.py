"""A child session of an agent (a disposable process in which limits may be changed) and how it
ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rckit.conformance.harness.errors import AgentError
from rckit.conformance.harness.timeouts import CALL_TIMEOUT
from rckit.conformance.harness.values import Outcome, decode, encode, outcome_from_reply

if TYPE_CHECKING:
    from rckit.conformance.harness.agent_process import AgentProcess


def signal_called(number: int) -> str | None:
    """This machine's name for signal ``number`` (SIGKILL), or None if it has none."""
    import signal

    return signal.Signals(number).name if number in signal.Signals._value2member_map_ else None


@dataclass(frozen=True)
class EndStatus:
    """How a forked child session ended."""

    exit_code: int | None
    signal: int | None
    core_dumped: bool
    #: The signal's name on the candidate's platform, where numbers differ (SIGXCPU is 30 on MIPS).
    signal_name: str | None = None

    @classmethod
    def from_reply(cls, ended: dict[str, Any]) -> EndStatus:
        """The status an agent's ``ended`` message describes."""
        return cls(ended["exit_code"], ended["signal"], ended["core_dumped"], ended.get("signal_name"))

    def killed_by(self, name: str) -> bool:
        """The child died of the signal called ``name`` on its own platform."""
        return self.signal is not None and self.signal_name == name

    def describe(self) -> str:
        """Human words for assertion messages."""
        if self.signal is not None:
            name = self.signal_name or signal_called(self.signal) or str(self.signal)
            return f"killed by {name}" + (" (core dumped)" if self.core_dumped else "")
        return f"exited with code {self.exit_code}"


class SessionEnded(Exception):
    """The child session ended while a request was in flight (a signal killed it, say)."""

    def __init__(self, status: EndStatus) -> None:
        super().__init__(status.describe())
        self.status = status


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

    def _ok(self, op: str, timeout: float = CALL_TIMEOUT, **fields: Any) -> Any:
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

    def act(self, action: str, timeout: float = CALL_TIMEOUT, **params: Any) -> dict[str, Any]:
        """Run an agent action (see agent/actions.py) in the child and return its result."""
        result: dict[str, Any] = self._ok("act", timeout=timeout, action=action, params=params)
        return result

    def act_then_end(self, action: str, timeout: float = CALL_TIMEOUT, **params: Any) -> tuple[dict[str, Any], EndStatus]:
        """Run an action after which the child exits by itself (exec_report): its result, then
        how the child ended."""
        result = self.act(action, timeout=timeout, **params)
        reply = self.agent.read_unsolicited(timeout)
        if "ended" not in reply or self.status is None:
            raise AgentError(f"{self.agent.label}: expected the end of session {self.pid}, got {reply}")
        return result, self.status

    def act_until_end(self, action: str, timeout: float = CALL_TIMEOUT, **params: Any) -> EndStatus | dict[str, Any]:
        """Run an action that may kill the child: its EndStatus if it died, else its result."""
        try:
            return self.act(action, timeout=timeout, **params)
        except SessionEnded as ended:
            return ended.status

    def attr(self, name: str) -> tuple[bool, Any]:
        """(present, value) of a module attribute in the child."""
        raw = self._ok("attr", name=name)
        return raw["present"], decode(raw["value"]) if raw["present"] else None

    def fork(self) -> Session:
        """A grandchild session made by fork itself, whatever way the candidate's sessions are
        made (this child waits until it ends); AgentError where the interpreter cannot fork."""
        return Session(self.agent, self._ok("fork", via="fork")["pid"])

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
