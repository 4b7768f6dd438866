"""Every source in spec/ can be checked: quotes are verbatim in their edition, the coverage tables
list every sentence of the five seeds, and observations print today what they recorded.

The texts themselves are not in this repository: the seeds are read from RCKIT_SEEDS (default
../shared/seeds beside the checkout), CPython's documentation and the man pages from the Debian sid
chroot (python -m rckit.conformance chroots build sid). Where a text is absent its test is skipped
with the reason; the quotes are still checked against the excerpts stored in spec/sentences/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rckit.spec import load, load_from, texts
from rckit.spec.coverage import Table, Unit, edition_text, load_tables, problems, summary, text_roots
from rckit.spec.observe import available, observations, observe

from tests.conftest import edit_file

REPO = Path(__file__).resolve().parents[1]
SPEC = load()
SEEDS = [e.id for e in SPEC.seeds()]
OTHERS = sorted(e.id for e in SPEC.editions.values() if not e.complete)


@pytest.fixture(scope="module")
def roots() -> dict[str, Path]:
    """Where the editions' texts are on this machine."""
    import os

    seeds = Path(os.environ["RCKIT_SEEDS"]) if os.environ.get("RCKIT_SEEDS") else REPO.parent / "shared" / "seeds"
    return text_roots(seeds=seeds)


def _text_or_skip(edition_id: str, roots: dict[str, Path]) -> str:
    edition = SPEC.editions[edition_id]
    words = edition_text(edition, roots)
    if words is None:
        where = "set RCKIT_SEEDS to the seeds directory" if edition.complete else "build the sid chroot"
        pytest.skip(f"the text of {edition_id} ({edition.text}) is not on this machine: {where}")
    return words


def test_every_quote_is_in_its_editions_table_in_a_unit_that_names_the_rule() -> None:
    """Offline: the spec and the stored coverage tables agree both ways."""
    assert problems(SPEC, load_tables()) == []


@pytest.mark.parametrize("edition_id", SEEDS)
def test_a_seed_table_lists_every_sentence_of_the_seed(edition_id: str, roots: dict[str, Path]) -> None:
    words = _text_or_skip(edition_id, roots)
    tables = load_tables()
    own = (
        {u.text for u in tables[SPEC.editions[edition_id].rendering_of].units}
        if SPEC.editions[edition_id].rendering_of
        else set()
    )
    assert [u.text for u in tables[edition_id].units] == [u for u in texts.units(words) if u not in own]


@pytest.mark.parametrize("edition_id", OTHERS)
def test_every_excerpt_is_in_the_edition_as_debian_ships_it(edition_id: str, roots: dict[str, Path]) -> None:
    normal = texts.normalize(_text_or_skip(edition_id, roots))
    missing = [unit.text for unit in load_tables()[edition_id].units if unit.text not in normal]
    assert not missing, f"{edition_id} ({SPEC.editions[edition_id].seen} when cited) no longer says: {missing}"


def test_every_seed_sentence_is_encoded_or_has_a_reason() -> None:
    for edition_id in SEEDS:
        for unit in load_tables()[edition_id].units:
            assert unit.encoded_by or unit.not_checkable or len(unit.unencoded.split()) >= 8, (edition_id, unit.text)


def test_the_summary_counts_every_unit_of_every_seed() -> None:
    lines = {line.split()[0]: line for line in summary(SPEC, load_tables())}
    assert set(SEEDS) <= set(lines)
    for edition_id in SEEDS:
        count = len(load_tables()[edition_id].units)
        assert f" {count} sentences" in lines[edition_id], lines[edition_id]


OBSERVED = observations(SPEC)


@pytest.fixture(scope="module")
def interpreters() -> dict[str, list[list[str]]]:
    """Every interpreter on this machine, by observation id."""
    return available()


@pytest.mark.parametrize(("owner", "seen"), OBSERVED, ids=[f"{owner}-{i}" for i, (owner, _) in enumerate(OBSERVED)])
def test_an_observation_prints_what_it_recorded(owner: str, seen: object, interpreters: dict[str, list[list[str]]]) -> None:
    from rckit.spec import Observation

    assert isinstance(seen, Observation)
    here = [(name, command) for name in seen.interpreters for command in interpreters.get(name, [])]
    if not here:
        pytest.skip(f"{owner}: none of {', '.join(seen.interpreters)} is on this machine")
    for name, command in here:
        assert observe(command, seen.run) == seen.printed, f"{owner} on {name} ({command[-1]}): {seen.run}"


# The checker itself, fed broken copies.


def _problems(spec_dir: Path, roots: dict[str, Path] | None = None) -> list[str]:
    return problems(load_from(spec_dir), load_tables(spec_dir / "sentences"), roots)


def test_a_misquoted_source_is_found(spec_copy: Path) -> None:
    edit_file(
        spec_copy / "rules" / "limits.toml",
        "The soft limit can never exceed the hard limit.",
        "The soft limit never exceeds the hard limit.",
    )
    assert any("LIMITS.SOFT_LE_HARD: quote not in py23's coverage table" in p for p in _problems(spec_copy))


def test_a_unit_naming_a_rule_that_does_not_quote_it_is_found(spec_copy: Path) -> None:
    edit_file(spec_copy / "sentences" / "py22.toml", 'not_checkable = "an editorial footer"', 'encoded_by = ["USAGE.PICKLE"]')
    assert any("lists USAGE.PICKLE, which quotes nothing of this unit" in p for p in _problems(spec_copy))


def test_a_new_quote_on_a_unit_that_does_not_name_the_rule_is_found(spec_copy: Path) -> None:
    edit_file(
        spec_copy / "rules" / "pagesize.toml",
        "sources = [",
        'sources = [\n  {edition = "py22", quote = "Send comments on this document"},',
    )
    assert any(
        "PAGESIZE.SYSTEM_PAGE: quotes py22 'Send comments on this document' but the unit(s) there do not list it" in p
        for p in _problems(spec_copy)
    )


def test_a_unit_without_a_reason_is_found(spec_copy: Path) -> None:
    edit_file(spec_copy / "sentences" / "py22.toml", 'not_checkable = "an editorial footer"', 'unencoded = "no time"')
    assert any("'unencoded' needs a written reason" in p for p in _problems(spec_copy))


def test_a_changed_seed_sentence_is_found(spec_copy: Path, tmp_path: Path, roots: dict[str, Path]) -> None:
    original = roots["seed"] / SPEC.editions["py22"].text.split(":", 1)[1]
    if not original.is_file():
        pytest.skip(f"the seed {original} is not on this machine (set RCKIT_SEEDS)")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    copy = seeds / original.name
    copy.write_text(original.read_text().replace("Send comments on this document", "Send your comments on this document"))
    found = _problems(spec_copy, {"seed": seeds, "sid": Path("/nonexistent")})
    assert any("sentences/py22.toml: differs from the edition at unit 39" in p for p in found), found


def test_an_excerpt_gone_from_the_text_is_found(spec_copy: Path, tmp_path: Path) -> None:
    page = tmp_path / "sid" / "usr/share/man/man2/wait4.2.gz"
    page.parent.mkdir(parents=True)
    import gzip

    page.write_bytes(gzip.compress(b".SH DESCRIPTION\nThe rusage argument is ignored.\n"))
    found = _problems(spec_copy, {"seed": Path("/nonexistent"), "sid": tmp_path / "sid"})
    assert any("sentences/man-wait4.toml: excerpt not in the edition's text" in p for p in found), found


def test_a_quote_cannot_run_from_one_excerpt_into_the_next() -> None:
    table = Table("x", [Unit("Returns a tuple.", ("A.B",)), Unit("Raises ValueError.", ("A.B",))])
    assert table.units_quoted("tuple. Raises", complete=False) == []
    assert table.units_quoted("tuple. Raises", complete=True) == [[0, 1]]


# The text converters the checks rest on.


def test_latex_environments_and_macros_become_their_words() -> None:
    source = "\\begin{funcdesc}{getrlimit}{resource}\nReturns \\var{x}; raises \\exception{ValueError}.\n\\end{funcdesc}"
    assert texts.normalize(texts.from_latex(source)) == "getrlimit(resource) Returns x; raises ValueError."


def test_rst_roles_literals_and_cog_markers_are_dropped() -> None:
    source = ".. {{{cog\nThe limits can be changed with :func:`setrlimit()` and ``RLIM_INFINITY``.\n.. }}}\n"
    assert texts.normalize(texts.from_rst(source)) == "The limits can be changed with setrlimit() and RLIM_INFINITY."


def test_roff_requests_and_font_escapes_are_dropped() -> None:
    source = ".TH getrlimit 2\n.SH DESCRIPTION\n.B RLIMIT_CORE\nWhen 0 no core dump files are created.\n.BR fork (2)\n"
    assert texts.normalize(texts.from_roff(source)) == "DESCRIPTION RLIMIT_CORE When 0 no core dump files are created. fork(2)"


def test_a_table_is_a_unit_per_row_and_sentences_split_after_a_parenthesis() -> None:
    words = "Index Field\n0 ru_utime time\n1 ru_stime time\n\n(See the signal module.) The maximum size."
    assert texts.units(words) == [
        "Index Field",
        "0 ru_utime time",
        "1 ru_stime time",
        "(See the signal module.)",
        "The maximum size.",
    ]
    assert texts.normalize(texts.from_lines("a | b |\n---|---|\n0 | c |")) == "a b 0 c"
