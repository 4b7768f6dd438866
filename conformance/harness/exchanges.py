"""The example a test ran: the protocol exchanges of its last hypothesis example, kept for the report.

While a conformance test runs, every request the harness sends to a candidate's agent and the
reply it got are recorded here (:func:`note`, called by rckit.conformance.harness.agent_process). Each
hypothesis example starts the record afresh (:func:`wrap_examples`), so when a test fails the
record is the example hypothesis ran last: the shrunk falsifying example, which it replays at the
end. The suite's conftest attaches it to a failing test; the report stores it on the result, and
``python -m rckit.conformance repro`` turns it into a standalone script (rckit.conformance.outputs.repro.script).

A step is a JSON object: ``session`` (0 for an agent itself, 1, 2, ... for the forked children in
the order they appeared), ``op`` (call, attr, act, fork, exit, error_class), the request's fields
(``fn``, ``args``, ``kwargs`` in the protocol's tagged encoding; ``action``, ``params``; ``name``),
``reply`` (the agent's ``ok``, ``error`` without its traceback, or ``ended``), ``parent`` for a
fork and ``env`` for the first step of an agent started with extra environment (LD_PRELOAD).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

__all__ = [
    "MAX_BYTES",
    "MAX_STEPS",
    "PROPERTY",
    "Recorder",
    "begin",
    "current",
    "first_lines",
    "note",
    "start",
    "stop",
    "wrap_examples",
]

#: The user property (pytest) that carries a failing test's example, as JSON, to the report.
PROPERTY = "rckit-example"

#: At most this many steps are kept (the first half and the last half of a longer record).
MAX_STEPS = 200
#: A stored example larger than this (JSON bytes) keeps only its last steps that fit.
MAX_BYTES = 64 << 10
#: Requests that are the harness's own business, not the candidate's behaviour.
SKIPPED_OPS = frozenset({"describe"})


class Recorder:
    """The steps of the current example, with the child sessions numbered as they appear."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.dropped = 0
        self.sessions: dict[tuple[int, int | None], int] = {}
        self.envs: dict[int, dict[str, str]] = {}
        self.assertion = ""

    def restart(self) -> None:
        """Forget everything: a new example begins."""
        self.__init__()  # type: ignore[misc]

    def _session(self, agent: Any, pid: int | None) -> int:
        key = (id(agent), pid)
        if key not in self.sessions:
            self.sessions[key] = len(self.sessions)
        return self.sessions[key]

    def note(
        self, agent: Any, message: dict[str, Any], reply: dict[str, Any] | None, env: dict[str, str], size: int | None = None
    ) -> None:
        """Record one request and its reply (None: no reply came; ``size``: its length in JSON, if known)."""
        op = message.get("op")
        if op in SKIPPED_OPS or (op == "exit" and message.get("to") is None):
            return
        session = self._session(agent, message.get("to"))
        step: dict[str, Any] = {"session": session, "op": op}
        step.update({k: v for k, v in message.items() if k not in ("id", "op", "to")})
        if env and session not in self.envs:
            self.envs[session] = env
            step["env"] = env
        step["reply"] = _trim(reply, size)
        if op == "fork" and reply and "ok" in reply:
            step["parent"] = session
            step["session"] = self._session(agent, reply["ok"].get("pid"))
        ended = (reply or {}).get("ended")
        if ended is not None or op == "exit":  # a later child may get the same pid
            self.sessions.pop((id(agent), ended["pid"] if ended else message.get("to")), None)
        if len(self.steps) >= MAX_STEPS:
            del self.steps[MAX_STEPS // 2]
            self.dropped += 1
        self.steps.append(step)

    def example(self) -> dict[str, Any]:
        """The record as the report stores it (at most MAX_BYTES of JSON)."""
        steps, dropped = list(self.steps), self.dropped
        result = {"steps": steps, "omitted": dropped, "assertion": self.assertion[:600]}
        while len(json.dumps(result)) > MAX_BYTES and steps:
            cut = max(1, len(steps) // 4)
            del steps[:cut]
            dropped += cut
            result["omitted"] = dropped
        return result


#: A reply longer than this (JSON bytes) keeps only the kind of its outcome.
MAX_REPLY_BYTES = 16 << 10


def _trim(reply: dict[str, Any] | None, size: int | None = None) -> dict[str, Any]:
    if reply is None:
        return {"lost": "no reply (the agent hung or died)"}
    if "error" in reply:
        error = reply["error"]
        return {"error": {k: str(error.get(k))[:500] for k in ("kind", "type", "message") if k in error}}
    kept = {k: v for k, v in reply.items() if k in ("ok", "ended")}
    if size is None or size > MAX_REPLY_BYTES:  # measure only what may be long
        size = len(json.dumps(kept))
    if size > MAX_REPLY_BYTES:
        ok: dict[str, Any] = kept["ok"] if isinstance(kept.get("ok"), dict) else {}
        value = {"t": "object", "type": "?", "repr": f"<a reply of {size} bytes, not kept>"}
        kept = {"ok": {"outcome": ok.get("outcome"), "value": value, "warnings": [], "audit": [], "too_large": size}}
    return kept


#: The record of the running test, or None when no conformance test is running.
current: Recorder | None = None


def start() -> Recorder:
    """Begin recording a test."""
    global current
    current = Recorder()
    return current


def stop() -> None:
    """Stop recording."""
    global current
    current = None


def begin() -> None:
    """A new example begins: forget the steps of the previous one. :func:`wrap_examples` does it
    for @given tests; a state machine calls it where each run starts."""
    if current is not None:
        current.restart()


def note(
    agent: Any, message: dict[str, Any], reply: dict[str, Any] | None, env: dict[str, str] | None = None, size: int | None = None
) -> None:
    """Record a request and its reply if a test is being recorded (agent_process calls this)."""
    if current is not None:
        current.note(agent, message, reply, env or {}, size)


def wrap_examples(test: Any) -> None:
    """Make each hypothesis example of ``test`` (a @given function) start the record afresh and
    note the message of the exception that ends it. Does nothing for other tests."""
    handle: Any = getattr(test, "hypothesis", None)
    inner: Callable[..., Any] | None = getattr(handle, "inner_test", None)
    if handle is None or inner is None or getattr(inner, "_rckit_recorded", False):
        return

    @functools.wraps(inner)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        begin()
        try:
            return inner(*args, **kwargs)
        except BaseException as exc:
            if current is not None:
                current.assertion = first_lines(exc)
            raise

    recorded._rckit_recorded = True  # type: ignore[attr-defined]
    handle.inner_test = recorded


def first_lines(exc: BaseException) -> str:
    """The message of an exception as a report shows it: its first lines, at most 600 characters.
    Of a group (hypothesis found several distinct failures), the last one's: hypothesis replays
    them in order, so the record holds the last one's steps."""
    while isinstance(getattr(exc, "exceptions", None), tuple) and exc.exceptions:  # type: ignore[attr-defined]
        exc = exc.exceptions[-1]  # type: ignore[attr-defined]
    text = str(exc).strip() or type(exc).__name__
    return "\n".join(text.splitlines()[:6])[:600]
