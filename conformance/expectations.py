"""Known deviations: which (candidate, rule) pairs are expected to fail, and why.

The data is JSON in ``platforms/expectations/`` (one file per implementation or environment).
Each deviation names a rule, optionally a test, a ``when`` clause that selects candidates, the
reason, and a link. A matching test runs as an expected failure: failing is reported as a known
deviation, passing as an unexpected pass.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version
from rckit import platforms
from rckit.conformance.candidates import Candidate

__all__ = ["EXPECTATIONS_DIR", "Deviation", "load", "matching"]

EXPECTATIONS_DIR = Path(next(iter(platforms.__path__))) / "expectations"
WHEN_KEYS = frozenset({"implementation", "module", "python", "platform", "emulated", "privileged"})


@dataclass(frozen=True)
class Deviation:
    """One known deviation."""

    rule: str
    reason: str
    link: str
    when: dict[str, Any]
    test: str | None
    source: str

    def _names(self, test_name: str) -> bool:
        """``test`` is a function name, or a glob over the full test name with its parameters."""
        if self.test is None:
            return True
        function, _, params = test_name.partition("[")
        wanted_function, _, wanted_params = self.test.partition("[")
        if function != wanted_function:
            return False
        return not wanted_params or fnmatch.fnmatchcase(params.rstrip("]"), wanted_params.rstrip("]"))

    def applies(self, candidate: Candidate, rule_ids: tuple[str, ...], test_name: str) -> bool:
        """True when this deviation covers ``test_name`` (checking ``rule_ids``) on ``candidate``."""
        if self.rule not in rule_ids or not self._names(test_name):
            return False
        info = candidate.info
        facts: dict[str, Any] = {
            "implementation": info.implementation,
            "module": candidate.spec.module,
            "platform": info.platform_id,
            "emulated": info.emulated,
            "privileged": info.privileged,
        }
        for key, wanted in self.when.items():
            if key == "python":
                if Version(info.version) not in SpecifierSet(wanted):
                    return False
            elif isinstance(wanted, str):
                if not fnmatch.fnmatchcase(str(facts[key]), wanted):
                    return False
            elif facts[key] != wanted:
                return False
        return True


def load(directory: Path = EXPECTATIONS_DIR) -> list[Deviation]:
    """Every deviation in the expectations folder; ValueError for a malformed entry."""
    deviations = []
    for path in sorted(directory.glob("*.json")):
        for entry in json.loads(path.read_text())["deviations"]:
            unknown = set(entry.get("when", {})) - WHEN_KEYS
            if unknown or not entry.get("reason") or not entry.get("link"):
                raise ValueError(
                    f"{path.name}: deviation {entry.get('rule')} needs rule, when ({sorted(WHEN_KEYS)}), reason and link; "
                    f"unknown keys {sorted(unknown)}"
                )
            deviations.append(
                Deviation(
                    rule=entry["rule"],
                    reason=entry["reason"],
                    link=entry["link"],
                    when=entry.get("when", {}),
                    test=entry.get("test"),
                    source=path.name,
                )
            )
    return deviations


def matching(deviations: list[Deviation], candidate: Candidate, rule_ids: tuple[str, ...], test_name: str) -> list[Deviation]:
    """The deviations that cover this test on this candidate."""
    return [d for d in deviations if d.applies(candidate, rule_ids, test_name)]
