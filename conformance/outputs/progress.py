"""Progress of a conformance run on the terminal: which candidate is being judged, how many of its
tests are done, the time elapsed and the time left.

On a terminal one line is redrawn in place (stderr); elsewhere (CI logs) plain lines are written,
one when a candidate is done and one every :data:`HEARTBEAT` seconds. ``off`` writes nothing.
The counts come from the collected test ids (in the xdist controller, from the workers'
collection), the candidate of each test from its parameter id.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["HEARTBEAT", "MODES", "CandidateProgress", "Progress", "candidate_of", "duration_text"]

MODES = ("auto", "tty", "lines", "off")
#: Seconds between two plain progress lines when nothing finished in between.
HEARTBEAT = 30.0
#: Seconds between two redraws of the terminal line.
REDRAW = 0.2


def duration_text(seconds: float) -> str:
    """``75.0`` -> ``"1m15s"``; under a minute, seconds with one decimal."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes}m{secs:02d}s"


def candidate_of(nodeid: str, candidate_ids: list[str]) -> str | None:
    """The candidate a test id belongs to: the longest candidate id inside its parameters."""
    params = nodeid.partition("[")[2]
    found = [cid for cid in candidate_ids if cid in params]
    return max(found, key=len) if found else None


@dataclass
class CandidateProgress:
    """One candidate's count of tests and when its first and last results arrived."""

    total: int = 0
    done: int = 0
    failed: int = 0
    started: float | None = None
    finished: float | None = None

    @property
    def complete(self) -> bool:
        """Every collected test of this candidate has a result."""
        return self.total > 0 and self.done >= self.total


@dataclass
class Progress:
    """Counts results per candidate and writes what a person watching the run wants to know."""

    mode: str
    candidate_ids: list[str]
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Any = time.monotonic
    candidates: dict[str, CandidateProgress] = field(default_factory=dict)
    begun: float = 0.0
    last_write: float = 0.0
    drawn: bool = False

    def __post_init__(self) -> None:
        if self.mode == "auto":
            self.mode = "tty" if self.stream.isatty() else "lines"
        self.begun = self.last_write = self.clock()
        self.candidates = {cid: CandidateProgress() for cid in self.candidate_ids}

    def expect(self, nodeids: list[str]) -> None:
        """The collected tests (set once, from the first collection that arrives)."""
        if any(p.total for p in self.candidates.values()):
            return
        for nodeid in nodeids:
            cid = candidate_of(nodeid, self.candidate_ids)
            if cid is not None:
                self.candidates[cid].total += 1

    def result(self, candidate: str, failed: bool) -> None:
        """A test of ``candidate`` has its result (called once per test, at its last phase)."""
        now = self.clock()
        entry = self.candidates.setdefault(candidate, CandidateProgress())
        entry.started = entry.started if entry.started is not None else now
        entry.done += 1
        entry.failed += failed
        if entry.complete and entry.finished is None:
            entry.finished = now
            self._finished(candidate, entry)
        elif self.mode == "tty" and now - self.last_write >= REDRAW:
            self._draw(self.status_line(candidate))
        elif self.mode == "lines" and now - self.last_write >= HEARTBEAT:
            self._line(self.status_line(candidate))

    def status_line(self, current: str) -> str:
        """``[3/12] judging CID: 40/130 tests · 1m02s elapsed · ~4m10s left``."""
        total = sum(p.total for p in self.candidates.values())
        done = sum(p.done for p in self.candidates.values())
        finished = sum(1 for p in self.candidates.values() if p.complete)
        elapsed = self.clock() - self.begun
        left = f" · ~{duration_text(elapsed / done * (total - done))} left" if done and total > done else ""
        entry = self.candidates[current]
        return (
            f"rckit: [{finished}/{len(self.candidates)} done] judging {current}: {entry.done}/{entry.total or '?'} tests"
            f" · {duration_text(elapsed)} elapsed{left}"
        )

    def _finished(self, candidate: str, entry: CandidateProgress) -> None:
        seconds = (entry.finished or 0.0) - (entry.started or 0.0)
        failed = f", {entry.failed} unexpected" if entry.failed else ""
        self._line(f"rckit: judged {candidate}: {entry.done} tests in {duration_text(seconds)}{failed}")

    def _draw(self, text: str) -> None:
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self.drawn = True
        self.last_write = self.clock()

    def _line(self, text: str) -> None:
        if self.mode == "off":
            return
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.drawn = False
        self.stream.write(text + "\n")
        self.stream.flush()
        self.last_write = self.clock()

    def close(self) -> None:
        """Clear the terminal line (the final summary follows)."""
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False
