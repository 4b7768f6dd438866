"""The suite fails deliberately broken candidates (tests/candidates/), for the right rule."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import run_suite

CANDIDATES = Path(__file__).resolve().parent / "candidates"


def judge(tmp_path: Path, module: str, tests: str, *extra: str) -> tuple[int, dict[str, str], str]:
    """Run the suite on ``module`` from tests/candidates (selected tests, quick profile); exit
    code, rule -> status."""
    done = run_suite(
        "--impl", module, "--path", str(CANDIDATES), "--profile", "quick", "--report", str(tmp_path), "-n", "0", *extra,
        "--", "-k", tests, cwd=tmp_path,
    )  # fmt: skip
    report = (
        json.loads((tmp_path / "conformance.json").read_text()) if (tmp_path / "conformance.json").exists() else {"matrix": {}}
    )
    column = f"{'in-process' if '--in-process' in extra else 'host'}:{module}"
    cells = {rule: cells[column]["status"] for rule, cells in report["matrix"].items() if column in cells}
    return done.returncode, cells, done.stdout + done.stderr


#: (candidate, the tests judged (-k), the rule it breaks, the isolation modes it is judged in). Spawn
#: mode (fresh processes for sessions and the experiments' children, as where the interpreter
#: cannot fork) must catch what forked ones catch: limits set in a session, a waited child's usage,
#: threads, the CPU time fields.
BROKEN = [
    ("returns_errors", "invalid_resource_get or get_pair", "LIMITS.INVALID_RESOURCE", ("auto",)),
    ("shared_buffer", "thread_safe_getrlimit or get_pair", "MODULE.THREAD_SAFE", ("auto", "spawn")),
    ("wrong_constants", "constants", "CONSTANTS.RLIMIT_C_VALUES", ("auto",)),
    ("wrong_constants", "constants", "CONSTANTS.ONLY_DEFINED", ("auto",)),
    ("pages_maxrss", "maxrss or field_types", "USAGE.MAXRSS_UNIT", ("auto",)),
    ("self_with_children", "self_excludes or children_counts", "USAGE.SELF_EXCLUDES_CHILDREN", ("auto", "spawn")),
    ("both_is_self", "both_counts or children_counts", "USAGE.BOTH_IS_SELF_AND_CHILDREN", ("auto",)),
    ("hard_follows_soft", "soft_moves_freely or get_pair", "LIMITS.SOFT_MOVES_FREELY", ("spawn",)),
    ("swapped_times", "user_time_is_user or get_pair", "USAGE.TIMES_MEAN_CPU", ("spawn",)),
]


def _fails(judged: tuple[int, dict[str, str], str], broken_rule: str) -> dict[str, str]:
    """Assert that the run failed and ``broken_rule`` with it; rule -> status."""
    code, cells, output = judged
    assert code == 1, output[-3000:]
    assert cells.get(broken_rule) == "fail", f"{broken_rule}: {cells.get(broken_rule)}\n{output[-3000:]}"
    return cells


@pytest.mark.parametrize(
    ("module", "tests", "broken_rule", "isolation"),
    [(module, tests, rule, isolation) for module, tests, rule, modes in BROKEN for isolation in modes],
)
def test_broken_candidate_fails_its_rule(tmp_path: Path, module: str, tests: str, broken_rule: str, isolation: str) -> None:
    """A broken candidate fails the rule it breaks, in each isolation mode listed, while the other selected rules pass."""
    extra = () if isolation == "auto" else ("--isolation", isolation)
    cells = _fails(judge(tmp_path, module, tests, *extra), broken_rule)
    assert "pass" in cells.values(), "the other selected rules should still pass"


def test_a_candidate_that_changes_the_harness_limits_in_process_is_named(tmp_path: Path) -> None:
    """Imported into the harness (only on request), the meddler lowers the harness's own limits:
    the test it did it in fails naming it, and the run fails."""
    code, _, output = judge(tmp_path, "meddler", "get_pair or soft_le_hard", "--in-process")
    assert code == 1, output[-3000:]
    assert "in-process:meddler changed the limits of the harness or its parent" in output, output[-3000:]


@pytest.mark.parametrize(
    ("module", "broken_rule"),
    [
        ("swapped_times", "USAGE.TIMES_MEAN_CPU"),
        ("swapped_faults", "USAGE.FAULTS_MEAN_FAULTS"),
        ("shifted_counters", "USAGE.LINUX_UNMAINTAINED_ZERO"),
        ("dropped_oublock", "USAGE.BLOCKS_MEAN_BLOCK_IO"),
    ],
)
def test_a_rusage_field_mix_up_fails_its_field_rule(tmp_path: Path, module: str, broken_rule: str) -> None:
    """One candidate per class of mix-up: swapped times, swapped counters, a shifted offset, a
    dropped field. Each fails the rule of the field's meaning; the shape rules still pass."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the field rules compare with Linux's own counters")
    cells = _fails(judge(tmp_path, module, "usage_fields or usage_field_types or usage_sixteen"), broken_rule)
    assert cells.get("USAGE.FIELD_TYPES") == "pass" and cells.get("USAGE.SIXTEEN_ITEMS") == "pass"


#: The fields Linux maintains (getrusage(2)); the others are always 0 there, so mixing two of
#: those up changes nothing.
MAINTAINED = ("ru_utime", "ru_stime", "ru_maxrss", "ru_minflt", "ru_majflt", "ru_inblock", "ru_oublock", "ru_nvcsw", "ru_nivcsw")
INDEX = {name: i for i, name in enumerate((
    "ru_utime", "ru_stime", "ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt", "ru_majflt", "ru_nswap",
    "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv", "ru_nsignals", "ru_nvcsw", "ru_nivcsw",
))}  # fmt: skip
MUTANT = """import resource as _c
from resource import *


def getrusage(who):
    value = list(_c.getrusage(who))
    {change}
    return _c.struct_rusage(value)
"""


def _mutants() -> dict[str, str]:
    """Every swap of two maintained fields, every dropped maintained field, the counters shifted
    by one slot either way: module name -> the line that breaks getrusage."""
    mutants = {}
    for a, b in itertools.combinations(MAINTAINED, 2):
        mutants[f"swap_{a}_{b}"] = f"value[{INDEX[a]}], value[{INDEX[b]}] = value[{INDEX[b]}], value[{INDEX[a]}]"
    for field in MAINTAINED:
        mutants[f"drop_{field}"] = f"value[{INDEX[field]}] = type(value[{INDEX[field]}])(0)"
    mutants["shift_up"] = "value[2:] = value[3:] + [0]"
    mutants["shift_down"] = "value[2:] = [0] + value[2:-1]"
    return mutants


def test_every_swap_drop_and_shift_of_a_rusage_field_fails_a_named_rule(tmp_path: Path) -> None:
    """47 generated mutants of the C module's getrusage, judged together: each fails at least one
    USAGE rule (which one is in the message)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the field rules compare with Linux's own counters")
    modules = tmp_path / "mutants"
    modules.mkdir()
    mutants = _mutants()
    for name, change in mutants.items():
        (modules / f"{name}.py").write_text(MUTANT.format(change=change))
    impls = [arg for name in mutants for arg in ("--impl", name)]
    done = run_suite(*impls, "--path", str(modules), "--profile", "quick", "--report", str(tmp_path), "-n", "2",
                     "--", "-k", "usage_fields or maxrss_unit", cwd=tmp_path)  # fmt: skip
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    survivors = []
    for name in mutants:
        failed = sorted(rule for rule, cells in report["matrix"].items() if cells.get(f"host:{name}", {}).get("status") == "fail")
        if not any(rule.startswith("USAGE.") for rule in failed):
            survivors.append(name)
    assert not survivors, f"mix-ups no rule caught: {survivors}"
