"""Which limit values a candidate must accept, and how it must show them, for its Python version.

The answer comes from the spec, not from a version table here: the rule that holds for the
candidate's version (LIMITS.LEGACY_SIGNED_RANGE or LIMITS.UNSIGNED_RANGE; CONSTANTS.RLIM_INFINITY_VALUE
or CONSTANTS.RLIM_INFINITY_POSITIVE; LIMITS.NEGATIVE_INFINITY_DEPRECATED) decides, and the platform
entry gives rlim_t's width and the C RLIM_INFINITY. Strategies draw limit values from this range
and tests expect the exceptions it predicts, so a version that changed the rules (3.13.7, 3.14.1,
3.15) is judged by its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rckit.conformance.harness.info import Info
from rckit.conformance.support.applicability import not_applicable
from rckit.spec import load

__all__ = ["LimitRange", "limit_range"]

Refusal = Literal["ValueError", "OverflowError"]


@dataclass(frozen=True)
class LimitRange:
    """The limit values of one candidate: what is accepted, what is stored, what reads back."""

    signed: bool  #: values are signed 64-bit C integers (else unsigned rlim_t)
    bits: int  #: width of rlim_t
    c_infinity: int  #: the platform's C RLIM_INFINITY (as an unsigned bit pattern)
    positive_infinity: bool  #: RLIM_INFINITY (and an unlimited limit read back) is the C value
    alias_warns: bool  #: the negative spelling of RLIM_INFINITY warns (DeprecationWarning)

    @property
    def rlim_max(self) -> int:
        """The largest rlim_t."""
        return (1 << self.bits) - 1

    @property
    def highest(self) -> int:
        """The largest value accepted."""
        return 2**63 - 1 if self.signed else self.rlim_max

    @property
    def max_finite(self) -> int:
        """The largest accepted value that is not RLIM_INFINITY: the top of any finite range."""
        return min(self.highest, self.c_infinity - 1)

    @property
    def shown_infinity(self) -> int:
        """RLIM_INFINITY as the module must show it (CONSTANTS.RLIM_INFINITY_*)."""
        return self.c_infinity if self.positive_infinity else self._as_signed(self.c_infinity)

    @property
    def negative_alias(self) -> int | None:
        """The negative value that means RLIM_INFINITY (-1 on Linux), or None where none does.
        Before 3.13.7 every negative value is accepted, and -1 is the documented one."""
        if self.signed:
            return -1
        alias = self._as_signed(self.c_infinity)
        return alias if alias < 0 else None

    def refusal(self, value: int) -> Refusal | None:
        """The exception setrlimit must raise for ``value`` as a limit, or None if it is accepted."""
        if self.signed:
            return None if -(2**63) <= value < 2**63 else "OverflowError"
        if value < 0:
            return None if value == self.negative_alias else "ValueError"
        return "OverflowError" if value > self.rlim_max else None

    def shown(self, value: int) -> int:
        """What getrlimit must report after ``value`` (accepted) was set."""
        stored = value & self.rlim_max
        if self.signed:
            return self._as_signed(stored & self.c_infinity)
        if stored == self.c_infinity:
            return self.shown_infinity
        return stored

    def _as_signed(self, pattern: int) -> int:
        return pattern - (1 << self.bits) if pattern >> (self.bits - 1) else pattern


def limit_range(info: Info) -> LimitRange:
    """The candidate's limit range; n/a when the kit has no platform entry for its platform."""
    if info.target is None:
        not_applicable(f"platforms/ has no entry for {info.platform_id}, so rlim_t is unknown")
    spec = load()

    def holds(rule_id: str) -> bool:
        return spec.rule(rule_id).holds_for_version(info.version)

    return LimitRange(
        signed=holds("LIMITS.LEGACY_SIGNED_RANGE"),
        bits=8 * info.target.rlimit.rlim_size,
        c_infinity=info.target.rlimit.infinity,
        positive_infinity=holds("CONSTANTS.RLIM_INFINITY_POSITIVE"),
        alias_warns=holds("LIMITS.NEGATIVE_INFINITY_DEPRECATED"),
    )
