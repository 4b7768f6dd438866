"""The reference's version switches and the spec's version ranges agree at every patch boundary.

The reference cannot read the spec (it runs on Python 3.8 and has no TOML parser there), so the
same facts live twice: as rules with PEP 440 ranges in spec/rules, and as functions of
sys.version_info in reference/_behaviour.py. This test keeps the two from drifting apart; the
differential test checks both against the real interpreters.
"""

from __future__ import annotations

import pytest
from rckit.reference import _behaviour
from rckit.spec import load

BOUNDARIES = [
    "2.7.18", "3.8.0", "3.12.9", "3.13.0", "3.13.5", "3.13.6", "3.13.7", "3.13.18",
    "3.14.0", "3.14.1", "3.14.10", "3.15.0", "3.15.2", "3.16.0",
]  # fmt: skip


def _tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@pytest.mark.parametrize("version", BOUNDARIES)
def test_unsigned_limits_where_the_spec_says(version: str) -> None:
    spec = load()
    assert _behaviour.unsigned_limits(_tuple(version)) == spec.rule("LIMITS.UNSIGNED_RANGE").holds_for_version(version)
    assert _behaviour.unsigned_limits(_tuple(version)) != spec.rule("LIMITS.LEGACY_SIGNED_RANGE").holds_for_version(version)


@pytest.mark.parametrize("version", BOUNDARIES)
def test_positive_infinity_where_the_spec_says(version: str) -> None:
    spec = load()
    positive = _behaviour.positive_infinity(_tuple(version))
    assert positive == spec.rule("CONSTANTS.RLIM_INFINITY_POSITIVE").holds_for_version(version)
    assert positive == spec.rule("LIMITS.NEGATIVE_INFINITY_DEPRECATED").holds_for_version(version)
    assert positive == spec.rule("CONSTANTS.RLIM_SAVED_VALUES").holds_for_version(version)
