"""The known-deviation data is well-formed and names real rules and tests; matching is precise."""

from __future__ import annotations

from typing import Any

import pytest
from rckit.conformance import expectations
from rckit.conformance.trace import collect
from rckit.spec import load


def test_every_deviation_names_a_known_rule_and_test() -> None:
    spec = load()
    tests = {name for names in collect(spec).tests_by_rule.values() for name in names}
    for deviation in expectations.load():
        assert deviation.rule in spec.rules, deviation
        if deviation.test is not None:
            assert deviation.test.split("[")[0] in tests, deviation
        assert deviation.link.startswith("https://"), deviation
        assert len(deviation.reason.split()) >= 8, deviation


class FakeInfo:
    implementation = "pypy"
    version = "3.9.16"
    platform_id = "linux-aarch64-glibc"
    emulated = True
    privileged = False


class FakeCandidate:
    info = FakeInfo()

    class spec:
        module = "resource"


def deviation(**fields: Any) -> expectations.Deviation:
    base: dict[str, Any] = {"rule": "R.X", "reason": "r", "link": "l", "when": {}, "test": None, "source": "t"}
    return expectations.Deviation(**(base | fields))


@pytest.mark.parametrize(
    ("fields", "test", "applies"),
    [
        ({}, "test_a[c]", True),
        ({"rule": "R.Y"}, "test_a[c]", False),
        ({"test": "test_a"}, "test_a[c-general]", True),
        ({"test": "test_b"}, "test_a[c-general]", False),
        ({"test": "test_a[*address-space*]"}, "test_a[c-address-space]", True),
        ({"test": "test_a[*address-space*]"}, "test_a[c-general]", False),
        ({"when": {"python": ">=3.9,<3.10"}}, "test_a", True),
        ({"when": {"python": ">=3.10"}}, "test_a", False),
        ({"when": {"implementation": "cpython"}}, "test_a", False),
        ({"when": {"platform": "linux-*-glibc", "emulated": True}}, "test_a", True),
        ({"when": {"emulated": False}}, "test_a", False),
    ],
)
def test_matching(fields: dict[str, Any], test: str, applies: bool) -> None:
    assert deviation(**fields).applies(FakeCandidate(), ("R.X",), test) is applies  # type: ignore[arg-type]
