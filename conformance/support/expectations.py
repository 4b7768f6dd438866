"""Known deviations: which (candidate, rule) pairs are expected to fail, and why.

The data is JSON in ``platforms/expectations/`` (one file per implementation or environment),
plus any files a user names with ``--expectations`` (an interpreter's own known deviations, kept in
its repository); every file must match ``schemas/expectations.schema.json``.
Each deviation names a rule, optionally a test, a ``when`` clause that selects candidates, the
reason, and a link. A matching test runs as an expected failure: failing is reported as a known
deviation, passing as an unexpected pass.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from rckit import platforms
from rckit.conformance.harness.candidates import Candidate
from rckit.conformance.support.json_files import SCHEMAS, JsonFileError, read_checked

__all__ = ["EXPECTATIONS_DIR", "SCHEMA_PATH", "Deviation", "ExpectationsError", "load", "matching"]

EXPECTATIONS_DIR = Path(next(iter(platforms.__path__))) / "expectations"
#: The published format of an expectations file.
SCHEMA_PATH = SCHEMAS / "expectations.schema.json"


class ExpectationsError(JsonFileError):
    """An expectations file that cannot be used: unreadable, not JSON, or not in the schema's shape."""


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


def _load_file(path: Path, source: str | None = None) -> list[Deviation]:
    """The deviations of one expectations file, each naming ``source`` (default: the path) as
    where it came from. :class:`ExpectationsError` says which entry is malformed and how."""
    source = source or str(path)
    try:
        data = read_checked(path, SCHEMA_PATH.name, source)
    except JsonFileError as exc:
        raise ExpectationsError(str(exc)) from None
    deviations = []
    for n, entry in enumerate(data["deviations"]):
        if "python" in entry.get("when", {}):
            try:
                SpecifierSet(entry["when"]["python"])
            except InvalidSpecifier:
                wrong = entry["when"]["python"]
                raise ExpectationsError(f"{source}: deviations/{n}/when/python: {wrong!r} is not PEP 440") from None
        deviations.append(
            Deviation(
                rule=entry["rule"],
                reason=entry["reason"],
                link=entry["link"],
                when=entry.get("when", {}),
                test=entry.get("test"),
                source=source,
            )
        )
    return deviations


def load(directory: Path = EXPECTATIONS_DIR, extra: Sequence[Path] = ()) -> list[Deviation]:
    """Every deviation in the kit's expectations folder (sources named ``platforms/expectations/NAME``),
    then those of the user's ``extra`` files (named by their path)."""
    deviations = []
    for path in sorted(directory.glob("*.json")):
        deviations += _load_file(path, f"platforms/expectations/{path.name}")
    for path in extra:
        deviations += _load_file(Path(path))
    return deviations


def matching(deviations: list[Deviation], candidate: Candidate, rule_ids: tuple[str, ...], test_name: str) -> list[Deviation]:
    """The deviations that cover this test on this candidate."""
    return [d for d in deviations if d.applies(candidate, rule_ids, test_name)]
