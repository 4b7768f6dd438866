"""CONSTANTS.*: the symbols against the platform's C headers (platforms/ data and a C probe)."""

from __future__ import annotations

import shutil

import pytest
from packaging.version import Version
from rckit.conformance.environments.toolchain import probe_for
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.harness.info import Info
from rckit.conformance.support.applicability import not_applicable
from rckit.conformance.support.limit_range import limit_range
from rckit.platforms import Target, python_names

rule = pytest.mark.rule


def _target(info: Info) -> Target:
    if info.target is None:
        not_applicable(f"platforms/ has no entry for {info.platform_id}")
    return info.target


def _symbols(info: Info, prefix: str) -> dict[str, int]:
    return {n: v for n, v in info.constants.items() if n.startswith(prefix)}


@rule("CONSTANTS.RLIMIT_C_VALUES")
def test_constants_rlimit_values_match_platform_data(candidate: Candidate) -> None:
    """Every RLIMIT_* equals the value platforms/ records for the C name."""
    target = _target(candidate.info)
    wrong = {
        n: (v, target.constants.get(n)) for n, v in _symbols(candidate.info, "RLIMIT_").items() if target.constants.get(n) != v
    }
    assert not wrong, f"(module, C) values differ: {wrong}"


@rule("CONSTANTS.RLIMIT_C_VALUES")
def test_constants_rlimit_values_match_c_probe(candidate: Candidate) -> None:
    """Every RLIMIT_* equals what the platform's C headers say, compiled and run now."""
    probe = probe_for(candidate.info)
    if probe is None:
        not_applicable(
            f"no C compiler for {candidate.info.platform_id} here "
            f"(looked for {shutil.which('cc') or 'cc'} and Debian cross compilers)"
        )
    wrong = {
        n: (v, probe["constants"].get(n))
        for n, v in _symbols(candidate.info, "RLIMIT_").items()
        if probe["constants"].get(n) != v
    }
    assert not wrong, f"(module, C headers) values differ: {wrong}"


@rule("CONSTANTS.ONLY_DEFINED")
def test_constants_only_defined(candidate: Candidate) -> None:
    """No RLIMIT_*/RUSAGE_* name that the platform's headers lack."""
    target = _target(candidate.info)
    extra = sorted(n for n in candidate.info.constants if n.startswith(("RLIMIT_", "RUSAGE_")) and n not in target.constants)
    assert not extra, f"names the platform does not define: {extra}"


@rule("CONSTANTS.DOCUMENTED_PRESENT")
def test_constants_documented_present(candidate: Candidate) -> None:
    """Every documented name the platform defines exists, from the version that documents it."""
    target = _target(candidate.info)
    version = Version(candidate.info.version)
    documented = python_names()["constants"]
    missing = sorted(
        name
        for name, about in documented.items()
        if name in target.constants and version >= Version(about["since"]) and name not in candidate.info.constants
    )
    assert not missing, f"documented and defined by the platform, but missing: {missing}"


@rule("CONSTANTS.OFILE_IS_NOFILE")
def test_constants_ofile_is_nofile(candidate: Candidate) -> None:
    """Where RLIMIT_OFILE exists it equals RLIMIT_NOFILE."""
    constants = candidate.info.constants
    if "RLIMIT_OFILE" not in constants:
        not_applicable("the module has no RLIMIT_OFILE (only glibc defines it)")
    assert constants["RLIMIT_OFILE"] == constants.get("RLIMIT_NOFILE")


@rule("CONSTANTS.RUSAGE_C_VALUES")
def test_constants_rusage_values(candidate: Candidate) -> None:
    """Every RUSAGE_* equals the platform's C value."""
    target = _target(candidate.info)
    symbols = _symbols(candidate.info, "RUSAGE_")
    assert "RUSAGE_SELF" in symbols and "RUSAGE_CHILDREN" in symbols, f"RUSAGE_SELF/CHILDREN missing: {symbols}"
    wrong = {n: (v, target.constants.get(n)) for n, v in symbols.items() if target.constants.get(n) != v}
    assert not wrong, f"(module, C) values differ: {wrong}"


@rule("CONSTANTS.RLIM_INFINITY_PRESENT")
def test_constants_rlim_infinity_present(candidate: Candidate) -> None:
    """RLIM_INFINITY exists and is an int."""
    present, value = candidate.attr("RLIM_INFINITY")
    assert present and type(value) is int, f"RLIM_INFINITY: {value!r}"


@rule("CONSTANTS.RLIM_INFINITY_VALUE")
def test_constants_rlim_infinity_value(candidate: Candidate) -> None:
    """Before 3.15 RLIM_INFINITY is the C value read signed (-1 on Linux)."""
    expected = limit_range(candidate.info).shown_infinity
    assert candidate.info.constants.get("RLIM_INFINITY") == expected, f"RLIM_INFINITY should be {expected}"


@rule("CONSTANTS.RLIM_INFINITY_POSITIVE")
def test_constants_rlim_infinity_positive(candidate: Candidate) -> None:
    """From 3.15 RLIM_INFINITY is the C value, positive (2**64-1 on Linux)."""
    target = _target(candidate.info)
    value = candidate.info.constants.get("RLIM_INFINITY")
    assert value == target.rlimit.infinity and value > 0, f"RLIM_INFINITY is {value}, C has {target.rlimit.infinity}"


@rule("CONSTANTS.RLIM_SAVED_VALUES")
@pytest.mark.parametrize("name", ["RLIM_SAVED_CUR", "RLIM_SAVED_MAX"])
def test_constants_rlim_saved_values(candidate: Candidate, name: str) -> None:
    """From 3.15 RLIM_SAVED_CUR and RLIM_SAVED_MAX are the C values, where the headers have them."""
    target = _target(candidate.info)
    c_value = target.rlimit.saved_cur if name == "RLIM_SAVED_CUR" else target.rlimit.saved_max
    if c_value is None:
        not_applicable(f"{target.id}'s headers define no {name}")
    present, value = candidate.attr(name)
    assert present, f"{name} is missing although {target.id} defines it ({c_value})"
    assert type(value) is int and value == c_value, f"{name} is {value!r}, C has {c_value}"
