"""Proof that a run left the harness alone: snapshot every limit at the start, compare at the end."""

from __future__ import annotations

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
    """The (soft, hard) limits of every resource of this process at one moment."""

    limits: tuple[tuple[int, int], ...]

    @classmethod
    def take(cls) -> LimitsSnapshot:
        """Read every limit of the running process."""
        return cls(tuple(resource.getrlimit(r) for r in _all_resources()))

    def changes(self) -> list[str]:
        """What differs now from the snapshot, one line per resource (empty if nothing)."""
        now = LimitsSnapshot.take().limits
        return [
            f"resource {r}: {before} at the start, {after} now"
            for r, (before, after) in enumerate(zip(self.limits, now, strict=True))
            if before != after
        ]
