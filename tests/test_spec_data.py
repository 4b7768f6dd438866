"""The specification data validates itself; broken data is rejected with the specific problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version
from rckit.spec import Citation, Observation, SpecError, load, load_from
from rckit.spec.model import VersionRange

from tests.conftest import edit_file


def test_the_shipped_spec_loads() -> None:
    spec = load()
    assert len(spec.rules) >= 70
    assert {e.id for e in spec.seeds()} == {"py22", "py23", "py27", "py27-text", "pymotw"}


def test_observations_name_exact_interpreters_and_citations_quote_words() -> None:
    spec = load()
    sources = [s for rule in spec.rules.values() for s in rule.sources] + [s for e in spec.entries.values() for s in e.sources]
    observed = [s for s in sources if isinstance(s, Observation)]
    assert observed and all(i.split()[0] in ("cpython", "pypy") and i.count(".") == 2 for o in observed for i in o.interpreters)
    assert all(isinstance(s, Citation) and s.edition in spec.editions for s in sources if not isinstance(s, Observation))


def test_every_rule_has_a_source_and_parsable_versions() -> None:
    for rule in load().rules.values():
        assert rule.sources, rule.id
        str(rule.versions)  # parsed already; rendering must not fail
        assert rule.holds_for_version("3.11.7") in (True, False)


def test_every_seed_edition_is_cited_by_several_rules() -> None:
    spec = load()
    for edition in spec.seeds():
        citing = [r.id for r in spec.rules.values() if any(getattr(s, "edition", None) == edition.id for s in r.sources)]
        assert len(citing) >= (1 if edition.rendering_of else 2), f"{edition.id} is cited by {citing}"


def test_version_ranges_select_as_documented() -> None:
    spec = load()
    assert spec.rule("MODULE.ERROR_IS_OSERROR").holds_for_version("3.3.0")
    assert not spec.rule("MODULE.ERROR_IS_OSERROR").holds_for_version("2.7.18")
    assert spec.rule("LIMITS.FLOAT_REJECTED").holds_for_version("3.10.0")
    assert not spec.rule("LIMITS.FLOAT_REJECTED").holds_for_version("3.9.18")
    assert spec.rule("LIMITS.MINUS_ONE_MEANS_MAXIMUM").holds_for_version("3.14.0")
    assert not spec.rule("LIMITS.MINUS_ONE_MEANS_MAXIMUM").holds_for_version("3.14.1")
    assert not spec.rule("LIMITS.MINUS_ONE_MEANS_MAXIMUM").holds_for_version("3.13.7")
    assert Version("2.2") in spec.rule("USAGE.PLAIN_TUPLE").versions


def test_limit_conversion_rules_split_at_the_patch_releases_that_changed_it() -> None:
    """gh-137044 shipped in 3.13.7 and 3.14.1 (unsigned values), 3.15.0 (positive RLIM_INFINITY):
    exactly one of the two conversion rules holds for every version, as the changelog dates it."""
    spec = load()
    signed, unsigned = spec.rule("LIMITS.LEGACY_SIGNED_RANGE"), spec.rule("LIMITS.UNSIGNED_RANGE")
    for version in ("2.7.18", "3.12.1", "3.13.0", "3.13.6", "3.14.0"):
        assert signed.holds_for_version(version) and not unsigned.holds_for_version(version), version
    for version in ("3.13.7", "3.13.18", "3.14.1", "3.14.10", "3.15.0", "3.15.2"):
        assert unsigned.holds_for_version(version) and not signed.holds_for_version(version), version
    positive = spec.rule("CONSTANTS.RLIM_INFINITY_POSITIVE")
    assert [positive.holds_for_version(v) for v in ("3.14.10", "3.15.0")] == [False, True]
    assert spec.rule("CONSTANTS.RLIM_INFINITY_VALUE").holds_for_version("3.14.10")


def test_a_version_range_is_a_union_of_specifier_sets() -> None:
    both = VersionRange.parse("<3.13.7 || >=3.14.0a1,<3.14.1")
    assert "3.13.6" in both and "3.14.0" in both and "3.14.0rc2" in both
    assert "3.13.7" not in both and "3.14.1" not in both
    assert str(both) == "<3.13.7 || <3.14.1,>=3.14.0a1"
    assert "1.0" in VersionRange.parse("") and str(VersionRange.parse("")) == ""
    with pytest.raises(ValueError, match="empty alternative"):
        VersionRange.parse(">=3.8 ||")


def test_errata_name_existing_rules_and_have_evidence() -> None:
    spec = load()
    assert {"ERRATUM.FSIZE_TEXT_IS_STACK", "ERRATUM.MAXRSS_NOT_PAGES", "ERRATUM.PRIVILEGE_IS_CAPABILITY"} <= set(spec.entries)
    for entry in spec.entries.values():
        assert entry.evidence and entry.rules
        assert all(rid in spec.rules for rid in entry.rules)


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        ("rules/module.toml", 'id = "MODULE.ARITY"', 'id = "MODULE.AVAILABLE"', "duplicate id"),
        ("rules/module.toml", 'versions = ">=3.3"', 'versions = "three point three"', "not a PEP 440 specifier"),
        ("rules/pagesize.toml", '{edition = "py22", quote', '{edition = "nowhere", quote', "unknown edition 'nowhere'"),
        (
            "rules/pagesize.toml",
            '{edition = "py22", quote',
            '{edition = "py22", section = "x", quote',
            "are neither {edition, quote}",
        ),
        (
            "rules/pagesize.toml",
            '{edition = "py22", quote = "Returns',
            '{edition = "py22", quote = "Returns"}, {edition = "py22", quote = "',
            "needs 2+ words",
        ),
        (
            "rules/limits.toml",
            'observed = ["cpython 3.11.7"',
            'observed = ["python3.11"',
            "names interpreters as 'cpython 3.11.7'",
        ),
        ("rules/limits.toml", 'printed = "None"', 'printed = " "', "says what was run and what it printed"),
        ("rules/pagesize.toml", 'strength = "must"', 'strength = "should"', "strength must be one of"),
        ("rules/pagesize.toml", 'platforms = ["unix"]', 'platforms = ["windows"]', "platforms must be a non-empty subset"),
        ("rules/pagesize.toml", 'id = "PAGESIZE.SYSTEM_PAGE"', 'id = "LIMITS.SYSTEM_PAGE"', "must start with PAGESIZE."),
        (
            "rules/effects.toml",
            'waiver = { kind = "not-observable", reason = "Linux',
            'waiver = { kind = "not-observable", reason = "short" } #',
            "written reason",
        ),
        ("rules/effects.toml", 'waiver = { kind = "not-observable"', 'waiver = { kind = "lazy"', "waiver kind 'lazy'"),
        ("errata.toml", 'rules = ["USAGE.MAXRSS_UNIT"]', 'rules = ["USAGE.NO_SUCH_RULE"]', "links unknown rule"),
        (
            "editions.toml",
            'text = "seed:002_6e2dd16bc033ceb2.txt"',
            'text = "sid:/seeds/002.txt"',
            "a seed edition, and only a seed",
        ),
        (
            "editions.toml",
            'text = "seed:002_6e2dd16bc033ceb2.txt"',
            'text = "/tmp/002.txt"',
            "text must be 'seed:<file>' or 'sid:",
        ),
        ("editions.toml", 'format = "latex"', 'format = "pdf"', "format must be one of"),
        ("editions.toml", 'rendering_of = "py27"', 'rendering_of = "py313"', "rendering_of must name another seed"),
    ],
)
def test_broken_spec_is_rejected(spec_copy: Path, file: str, old: str, new: str, problem: str) -> None:
    edit_file(spec_copy / file, old, new)
    with pytest.raises(SpecError) as raised:
        load_from(spec_copy)
    assert any(problem in p for p in raised.value.problems), raised.value.problems


def test_a_rule_without_sources_is_rejected(spec_copy: Path) -> None:
    path = spec_copy / "rules" / "pagesize.toml"
    text = path.read_text()
    start = text.index("sources = [")
    path.write_text(text[:start] + text[text.index("]", start) + 1 :])
    with pytest.raises(SpecError, match="needs a non-empty list of sources"):
        load_from(spec_copy)


def test_an_uncited_seed_is_rejected(spec_copy: Path) -> None:
    for path in (spec_copy / "rules").glob("*.toml"):
        path.write_text(path.read_text().replace('edition = "pymotw"', 'edition = "py27"'))
    with pytest.raises(SpecError, match="pymotw: a seed edition that no rule cites"):
        load_from(spec_copy)
