"""The harness's side of the agent protocol: one running agent, and every guard on the way of a
request. Its child sessions are in rckit.conformance.harness.sessions, its time limits and hang
budget in rckit.conformance.harness.timeouts.

The route of one request, and what guards it:

1. :meth:`AgentProcess.request` refuses at once if the candidate has used up its
   :class:`HangBudget` (it hung before; a hung candidate costs at most ``HANG_BUDGET`` seconds of
   waiting per harness process, not a time limit per test).
2. The request goes to the agent's stdin as one JSON line. The agent reads it on a private copy of
   the descriptor (candidate code sees /dev/null as stdin and stderr as stdout, see agent/channel.py).
3. The reply is read with a deadline (``CALL_TIMEOUT`` unless the caller gives one) and a size
   limit (``MAX_REPLY``): no reply in time spends the budget and kills the agent; an over-long
   reply kills it too. Both raise :class:`AgentError`; the test fails, the run goes on.
4. A forked child session that ends while a request is in flight (a signal, ``os._exit``) comes
   back as ``ended`` and raises :class:`SessionEnded` with its :class:`EndStatus`.

Whatever the candidate writes to stdout or stderr is drained by a thread into a bounded tail
(:class:`OutputTail`), so output at any volume costs neither memory nor a blocked agent. The agent
runs under a warden (rckit.conformance.environments.containment), which ends every process it leaves behind.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import select
import subprocess
import threading
import time
from typing import IO, Any

from rckit.conformance.environments import containment
from rckit.conformance.harness import exchanges
from rckit.conformance.harness.errors import AgentError, CannotJudge, NotJudged
from rckit.conformance.harness.sessions import EndStatus, Session, SessionEnded, signal_called
from rckit.conformance.harness.timeouts import CALL_TIMEOUT, EMULATION_SLOWDOWN, IMPORT_TIMEOUT, START_TIMEOUT, HangBudget

__all__ = ["MAX_REPLY", "OUTPUT_TAIL", "AgentProcess", "OutputTail"]


#: The longest reply line accepted (bytes).
MAX_REPLY = 8 << 20
#: How much of the agent's output (stdout and stderr of the candidate) is kept for messages.
OUTPUT_TAIL = 16 << 10
PROTOCOL_LOG_ENV = "RCKIT_PROTOCOL_LOG"


def _ended(status: int | None) -> str:
    """How the warden of an agent ended, in words (it exits 128 + N when the agent died of signal N)."""
    if status is None:
        return "is still running"
    number = -status if status < 0 else status - 128 if status > 128 else 0
    name = signal_called(number) if number else None
    return f"was killed by {name}" if name else f"exited with status {status}"


def _reason(error: Exception) -> str:
    """An agent's error reply in one line: the exception and the last line of its traceback
    that names a place."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    head = lines[0].split(": ", 1)[-1] if lines else str(error)
    where = next((line for line in reversed(lines) if line.startswith("File ")), "")
    return head[:300] + (f" ({where[:200]})" if where else "")


class OutputTail:
    """Drains a pipe in a thread, keeping only the last ``size`` bytes and counting the rest."""

    def __init__(self, pipe: IO[bytes], size: int = OUTPUT_TAIL) -> None:
        self.size, self.total = size, 0
        self.chunks: collections.deque[bytes] = collections.deque()
        self.kept = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True, name="rckit-agent-output")
        self.thread.start()

    def _drain(self, pipe: IO[bytes]) -> None:
        fd = pipe.fileno()
        with contextlib.suppress(OSError, ValueError):
            while chunk := os.read(fd, 65536):
                with self.lock:
                    self.total += len(chunk)
                    self.chunks.append(chunk)
                    self.kept += len(chunk)
                    while self.kept - len(self.chunks[0]) >= self.size:
                        self.kept -= len(self.chunks.popleft())
        with contextlib.suppress(OSError):
            pipe.close()

    def text(self) -> str:
        """The last bytes of output, decoded; a note first if more was written."""
        with self.lock:
            data = b"".join(self.chunks)[-self.size :]
            total = self.total
        dropped = f"[{total - len(data)} earlier bytes not kept]\n" if total > len(data) else ""
        return dropped + data.decode("utf-8", "replace")

    def last_line(self) -> str:
        """The last non-empty line of output (for one-line messages)."""
        lines = [line for line in self.text().splitlines() if line.strip()]
        return lines[-1][:300] if lines else "no output"


class AgentProcess:
    """One running agent under its warden: requests go to its stdin, replies come from its stdout."""

    def __init__(self, argv: list[str], env: dict[str, str], label: str, budget: HangBudget | None = None) -> None:
        self.label = label
        self.budget = budget or HangBudget()
        #: Time limits are multiplied by this (EMULATION_SLOWDOWN once the candidate turns out to
        #: run on another machine than the harness).
        self.slowdown = 1.0
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
            preexec_fn=containment.preexec(),  # noqa: PLW1509 - only a prctl, no Python state
        )
        assert self.proc.stderr is not None
        self.output = OutputTail(self.proc.stderr)
        self.pending = b""
        self.next_id = 1
        self.sessions: dict[int, Session] = {}
        #: The environment the candidate was started with beyond the usual (recorded with examples).
        self.extra_env: dict[str, str] = {}
        #: The length of the last reply line (the recorded example keeps only the kind of a long one).
        self.last_reply_bytes = 0
        log = os.environ.get(PROTOCOL_LOG_ENV)
        # The log lives as long as the agent; close() closes it.
        self.log = open(log, "a") if log else None  # noqa: SIM115

    # --- starting ----------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        """Wait for the agent's hello, its word that the candidate's import ended, then its
        description. CannotJudge says in one line what went wrong, and where: before the agent
        started, during the import, or after it."""
        try:
            hello = self._readline(time.monotonic() + START_TIMEOUT)
        except AgentError:
            self.kill()
            status = self.proc.returncode
            if status == 127:  # the warden could not exec the interpreter
                raise CannotJudge(f"its interpreter does not run ({self.output.last_line()})") from None
            if status is not None and status != -9:
                raise CannotJudge(f"its interpreter {_ended(status)} before the agent started: {self._cause()}") from None
            raise CannotJudge(f"its interpreter did not start the agent within {START_TIMEOUT:.0f} s") from None
        if "hello" not in hello:
            self.kill()
            raise CannotJudge(f"its agent does not speak the protocol (first message: {str(hello)[:200]})")
        try:
            imported = self._readline(time.monotonic() + IMPORT_TIMEOUT)
        except AgentError as exc:
            self.kill()
            if "time limit" in str(exc):
                raise CannotJudge(f"the module did not finish importing within {IMPORT_TIMEOUT:.0f} s") from None
            raise CannotJudge(
                f"the agent died while importing the module: it {_ended(self.proc.returncode)}; {self._cause()}"
            ) from None
        if "imported" not in imported:
            self.kill()
            raise CannotJudge(f"its agent does not speak the protocol (second message: {str(imported)[:200]})")
        try:
            description: dict[str, Any] = self.ok("describe", timeout=IMPORT_TIMEOUT)
        except AgentError as exc:
            self.kill()
            why = _reason(exc)
            raise CannotJudge(f"the agent failed after importing the module, describing the interpreter: {why}") from None
        if description.get("platform", {}).get("machine", os.uname().machine) != os.uname().machine:
            self.slowdown = EMULATION_SLOWDOWN
            self.budget.stretch(EMULATION_SLOWDOWN)
        return description

    def _cause(self) -> str:
        """The interpreter's own last words: a traceback's last line (the exception) with the
        line before it (where it was raised), or the last line of its output."""
        self.output.thread.join(timeout=2)  # what the dead interpreter wrote, to its end
        lines = [line.strip() for line in self.output.text().splitlines() if line.strip()]
        if not lines:
            return "no output"
        for index in range(len(lines) - 1, -1, -1):
            if lines[index].startswith("Traceback (most recent call last)"):
                tail = lines[index + 1 :]
                exception = next((line for line in reversed(tail) if not line.startswith(("File ", "^", "~"))), tail[-1])
                where = next((line for line in reversed(tail) if line.startswith("File ")), "")
                return f"{exception[:300]}" + (f" ({where[:200]})" if where else "")
        return f"its output ends: {lines[-1][:300]}"

    # --- one request ----------------------------------------------------------------------------

    def _readline(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AgentError(f"{self.label}: no reply within the time limit")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self.proc.wait()
                    raise AgentError(f"{self.label}: the agent exited (status {self.proc.returncode}). "
                                     f"Its output:\n{self.output.text()[-2000:]}")  # fmt: skip
                self.pending += chunk
                if b"\n" not in self.pending and len(self.pending) > MAX_REPLY:
                    self.kill()
                    raise AgentError(f"{self.label}: a reply longer than {MAX_REPLY} bytes; agent killed")
        line, _, self.pending = self.pending.partition(b"\n")
        self.last_reply_bytes = len(line)
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError:
            self.kill()
            raise AgentError(f"{self.label}: not a protocol message: {line[:200]!r}; agent killed") from None
        if self.log:
            self.log.write(json.dumps({"direction": "reply", "message": reply}) + "\n")
        return reply

    def request(self, op: str, to: int | None = None, timeout: float = CALL_TIMEOUT, **fields: Any) -> dict[str, Any]:
        """Send one request and return its reply (``ok``, ``error`` or ``ended``)."""
        if self.budget.exhausted and not (op == "exit" and not fields):
            raise NotJudged(f"{self.label}: {self.budget.refusal()}")
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
        except (BrokenPipeError, ValueError):
            raise AgentError(f"{self.label}: the agent is gone. Its output:\n{self.output.text()[-2000:]}") from None
        if op == "exit" and to is None:
            return {}
        timeout *= self.slowdown
        limit = timeout if self.budget.left >= timeout else max(self.budget.left, 0.1)
        started = time.monotonic()
        try:
            reply = self._readline(started + limit)
        except AgentError as exc:
            exchanges.note(self, message, None, self.extra_env)
            if "no reply within" in str(exc):
                self.budget.spend(time.monotonic() - started, f"{op} {fields.get('fn') or fields.get('action') or ''}".strip())
                self.kill()
                raise AgentError(f"{self.label}: no reply within {limit:.0f} s to {op}; agent killed") from None
            raise
        if "ended" not in reply and reply.get("id") != message["id"]:
            raise AgentError(f"{self.label}: reply {str(reply)[:300]} does not answer request {message['id']}")
        exchanges.note(self, message, reply, self.extra_env, self.last_reply_bytes)
        return self._note_end(reply)

    def read_unsolicited(self, timeout: float = CALL_TIMEOUT) -> dict[str, Any]:
        """Read a message no request asked for (the end of a session that exited by itself)."""
        return self._note_end(self._readline(time.monotonic() + timeout * self.slowdown))

    def _note_end(self, reply: dict[str, Any]) -> dict[str, Any]:
        if "ended" in reply:
            ended = reply["ended"]
            session = self.sessions.pop(ended["pid"], None)
            if session is not None:
                session.status = EndStatus.from_reply(ended)
        return reply

    def ok(self, op: str, to: int | None = None, timeout: float = CALL_TIMEOUT, **fields: Any) -> Any:
        """Send a request and return its result; AgentError for an error reply."""
        reply = self.request(op, to, timeout, **fields)
        if "error" in reply:
            error = reply["error"]
            raise AgentError(
                f"{self.label}: {error.get('type', error.get('kind'))}: {error.get('message')}\n{error.get('traceback', '')}"
            )
        if "ended" in reply:
            raise SessionEnded(EndStatus.from_reply(reply["ended"]))
        return reply["ok"]

    # --- ending ----------------------------------------------------------------------------

    def kill(self) -> None:
        """End the agent and every process it left (its warden does the sweeping)."""
        containment.end(self.proc)

    def close(self) -> None:
        """Ask the agent to exit, then make sure it and everything below it is gone."""
        if self.proc.poll() is None:
            with contextlib.suppress(AgentError, OSError):
                self.request("exit")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        self.kill()
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        with contextlib.suppress(OSError):
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        if self.log:
            self.log.close()
