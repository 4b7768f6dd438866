"""The reference's version switches and the spec's version ranges agree at every patch boundary.

The reference cannot read the spec (it runs on Python 3.8 and has no TOML parser there), so the
same facts live twice: as rules with PEP 440 ranges in spec/rules, and as functions of
sys.version_info in reference/_behaviour.py. This test keeps the two from drifting apart; the
differential test checks both against the real interpreters.
"""

from __future__ import annotations

import importlib.util
import sys
import types

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


#: The versions around each switch the reference makes at import (it runs on 3.8 and later).
IMPORT_BOUNDARIES = ["3.8.0", "3.9.0", "3.9.18", "3.10.0", "3.11.9", "3.12.0", "3.12.3", "3.13.0", "3.14.0", "3.15.0"]


def _behaviour_at(version: str) -> types.ModuleType:
    """reference/_behaviour.py as CPython ``version`` imports it (its switches read
    sys.version_info once, at import)."""
    found = importlib.util.spec_from_file_location("_behaviour_at_" + version.replace(".", "_"), _behaviour.__file__)
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "version_info", (*_tuple(version), "final", 0))
        found.loader.exec_module(module)
    return module


@pytest.mark.parametrize("version", IMPORT_BOUNDARIES)
def test_prlimit_none_reads_where_the_spec_says(version: str) -> None:
    assert load().rule("PRLIMIT.LIMITS_NONE").holds_for_version(version) == _behaviour_at(version).PRLIMIT_NONE_READS


@pytest.mark.parametrize("version", IMPORT_BOUNDARIES)
def test_audit_events_where_the_spec_says(version: str) -> None:
    spec, audit = load(), _behaviour_at(version).AUDIT
    assert audit == spec.rule("LIMITS.AUDIT_SETRLIMIT").holds_for_version(version)
    assert audit == spec.rule("PRLIMIT.AUDIT").holds_for_version(version)


@pytest.mark.parametrize("version", IMPORT_BOUNDARIES)
def test_int_fallback_where_the_spec_says(version: str) -> None:
    """__int__ (floats included) is still used, with a DeprecationWarning, exactly where the spec
    says floats are deprecated rather than rejected."""
    spec, fallback = load(), _behaviour_at(version).INT_FALLBACK
    assert fallback == spec.rule("LIMITS.FLOAT_DEPRECATED").holds_for_version(version)
    assert fallback != spec.rule("LIMITS.FLOAT_REJECTED").holds_for_version(version)


@pytest.mark.parametrize("version", BOUNDARIES[1:])
def test_import_time_conversion_switches_follow_the_functions(version: str) -> None:
    """The switches read at import are the functions above applied to the full version."""
    module = _behaviour_at(version)
    assert _behaviour.unsigned_limits(_tuple(version)) == module.UNSIGNED_LIMITS
    assert _behaviour.positive_infinity(_tuple(version)) == module.POSITIVE_INFINITY
