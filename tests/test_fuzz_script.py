"""The fuzzer of the reference (fuzz/fuzz_reference.py, the nox session "fuzz") runs, finds no
difference from the C module in a short run, and reports its figures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "fuzz" / "fuzz_reference.py"


def test_a_short_fuzz_run_finds_nothing(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--inputs", "3000", "--seed", "5", "--threads-seconds", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["inputs"] == 3000 and figures["mismatches"] == 0 and figures["free_lists_lost"] == 0
    assert figures["thread_calls"] > 1000 and not figures["thread_errors"]


def test_the_fuzzer_notices_a_difference(tmp_path: Path) -> None:
    """A reference whose struct_rusage words one error differently is caught: the comparison can
    fail (the reference is copied and edited, never the repository's)."""
    stage = tmp_path / "stage"
    for part in ("reference", "platforms", "fuzz"):
        shutil.copytree(SCRIPT.parent.parent / part, stage / part, ignore=shutil.ignore_patterns("__pycache__"))
    rusage = stage / "reference" / "_rusage.py"
    rusage.write_text(rusage.read_text().replace("constructor requires a sequence", "constructor wants a sequence"))
    done = subprocess.run(
        [sys.executable, str(stage / "fuzz" / "fuzz_reference.py"), "--inputs", "3000", "--threads-seconds", "0.2"],
        capture_output=True, text=True, timeout=600, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:]
    assert "constructor wants a sequence" in done.stdout
