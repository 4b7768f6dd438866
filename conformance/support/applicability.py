"""When a rule can be judged on a candidate, and how a test says it cannot ("n/a")."""

from __future__ import annotations

from typing import NoReturn

import pytest
from rckit.conformance.harness.candidates import Candidate
from rckit.spec import Rule

__all__ = ["NA_PREFIX", "not_applicable", "require", "why_not_applicable"]

NA_PREFIX = "n/a: "


def not_applicable(reason: str) -> NoReturn:
    """Stop the test: the rule cannot be judged here (reported as n/a with ``reason``)."""
    pytest.skip(NA_PREFIX + reason)


def require(candidate: Candidate, capability: str) -> None:
    """n/a unless the candidate's interpreter has ``capability`` (fork, spawn, threads, exec,
    signals, proc), as its agent probed it; the reason says what is missing and why."""
    if not candidate.info.can(capability):
        not_applicable(candidate.info.lacks(capability))


def why_not_applicable(rules: list[Rule], candidate: Candidate) -> str | None:
    """Why these rules do not apply to the candidate's Python version or platform, or None."""
    info = candidate.info
    for rule in rules:
        if not rule.holds_for_version(info.version):
            return f"{rule.id} holds for Python {rule.versions}; the candidate is {info.version}"
        if not rule.holds_for_platform(info.platform):
            return f"{rule.id} concerns {', '.join(rule.platforms)}; the candidate runs on {info.platform}"
    return None
