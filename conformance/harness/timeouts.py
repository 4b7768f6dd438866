"""The time limits of the agent protocol (each can be set in the environment) and the hang budget
that bounds how long one harness process waits for a hung candidate."""

from __future__ import annotations

import os


def _seconds(name: str, default: float) -> float:
    """A time limit, from the environment variable ``name`` if set (the kit's own tests shorten them)."""
    return float(os.environ.get(name, default))


#: Seconds to wait for one reply unless the request says otherwise (a read-only call, a fork).
CALL_TIMEOUT = _seconds("RCKIT_CALL_TIMEOUT", 10.0)
#: Seconds for the interpreter to start the agent (it says hello before importing the candidate).
START_TIMEOUT = _seconds("RCKIT_START_TIMEOUT", 60.0)
#: Seconds for the candidate module to import.
IMPORT_TIMEOUT = _seconds("RCKIT_IMPORT_TIMEOUT", 30.0)
#: Seconds of waiting for a hung candidate, per harness process: a request never waits longer than
#: what is left, and once it is spent the candidate's remaining tests are not judged (errors).
HANG_BUDGET = _seconds("RCKIT_HANG_BUDGET", 30.0)
#: How many times longer a candidate of another machine (run by qemu-user) may take for anything:
#: its time limits and its hang budget are stretched by this factor once it has described itself.
#: Measured here (2 cores, load 5): python3 under qemu-aarch64 starting a second python3 took
#: 6.7-8.2 s (natively 0.2 s), so a test that execs a new interpreter ran past CALL_TIMEOUT and
#: the hang budget, and every later test of the candidate went unjudged.
EMULATION_SLOWDOWN = _seconds("RCKIT_EMULATION_SLOWDOWN", 5.0)


class HangBudget:
    """Seconds of time limits a candidate may still run into; shared by its agents in one process."""

    def __init__(self, seconds: float = HANG_BUDGET) -> None:
        self.left = seconds
        self.hangs: list[str] = []
        self.stretched = False

    def stretch(self, factor: float) -> None:
        """Give an emulated candidate ``factor`` times the budget (once, however many agents)."""
        if not self.stretched:
            self.left *= factor
            self.stretched = True

    @property
    def exhausted(self) -> bool:
        """No time is left: requests are refused without waiting."""
        return self.left <= 0

    def spend(self, seconds: float, what: str) -> None:
        """Record a hang of ``seconds`` while doing ``what``."""
        self.left -= seconds
        self.hangs.append(what)

    def refusal(self) -> str:
        """Why requests are refused now."""
        return f"not judged: the candidate hung {len(self.hangs)} time(s) already ({'; '.join(self.hangs[:3])})"
