"""Proof that a run left the harness alone: snapshot every limit, compare later, restore what can be.

A snapshot is of this process (getrlimit) or of another one, such as the harness's parent
(prlimit, Linux). The suite takes one around every test and names the candidate that changed one.
"""

from __future__ import annotations

import contextlib
import os
import resource
from dataclasses import dataclass

__all__ = ["LimitsSnapshot"]


def _all_resources() -> range:
    """Every resource number the kernel accepts (getrlimit fails past the last one)."""
    count = 0
    while True:
        try:
            resource.getrlimit(count)
        except (ValueError, OSError):
            return range(count)
        count += 1


@dataclass(frozen=True)
class LimitsSnapshot:
    """The (soft, hard) limits of every resource of one process at one moment."""

    limits: tuple[tuple[int, int], ...]
    pid: int = 0  #: 0: the process that took the snapshot

    @classmethod
    def take(cls, pid: int = 0) -> LimitsSnapshot:
        """Read every limit of this process (``pid`` 0) or of process ``pid`` (Linux)."""
        if pid == 0:
            return cls(tuple(resource.getrlimit(r) for r in _all_resources()))
        return cls(tuple(resource.prlimit(pid, r) for r in _all_resources()), pid)

    @classmethod
    def of_parent(cls) -> LimitsSnapshot | None:
        """The parent's limits, where they can be read (Linux, same user); else None."""
        if not hasattr(resource, "prlimit"):
            return None
        try:
            return cls.take(os.getppid())
        except OSError:
            return None

    def changes(self) -> list[str]:
        """What differs now from the snapshot, one line per resource (empty if nothing; a process
        that is gone has nothing to compare)."""
        try:
            now = LimitsSnapshot.take(self.pid).limits
        except ProcessLookupError:
            return []
        whose = f"process {self.pid}, " if self.pid else ""
        return [
            f"{whose}resource {r}: {before} at the start, {after} now"
            for r, (before, after) in enumerate(zip(self.limits, now, strict=True))
            if before != after
        ]

    def restore(self) -> None:
        """Set this process's limits back to the snapshot where the kernel allows (a lowered
        hard limit cannot be raised without privilege)."""
        for number, limits in enumerate(self.limits):
            with contextlib.suppress(ValueError, OSError):
                if self.pid:
                    resource.prlimit(self.pid, number, limits)
                elif resource.getrlimit(number) != limits:
                    resource.setrlimit(number, limits)
