"""Mutation testing of the reference with cosmic-ray: every mutant of reference/ against the
conformance suite and the differential test.

    python mutation/run_mutation.py --workers 2             # everything (hours: see docs/testing.md)
    python mutation/run_mutation.py --modules reference/_convert.py --workers 2
    python mutation/run_mutation.py --sample 150 --workers 2  # a random sample, an estimate
    python mutation/run_mutation.py --rejudge mutation/results.json  # survivors, with today's tests
    python mutation/run_mutation.py --rejudge mutation/results.json --full  # ... and the whole differential

The repository is copied into ``--work-dir`` once per worker (the working tree is never mutated),
each copy with a virtual environment of its own; cosmic-ray's HTTP workers run there, one per
copy, and each mutant is judged by the test command of its group:

* CPython's path (every module but the cffi backend): the reference's version switches against
  the spec's ranges (tests/test_version_facts.py), the differential test of this interpreter and
  of sid's CPython 3.13 and 3.15 (the two other conversions of limit values; skipped where the sid
  chroot is not built), and a quick conformance run of the reference in an agent, cheapest first;
* the cffi backend (only PyPy uses it): the backend's own tests under PyPy, the differential
  test of PyPy against CPython 3.9 and a quick conformance run of the reference under PyPy.

``--full`` judges survivors again with the whole differential test instead (every interpreter
here: pyenv's CPython 3.8-3.13, PyPy, every release chroot and the native i386 chroot; minutes per
mutant), which tells a gap in the tests from a mutant only another version or a 32-bit build can
kill. A mutant is killed when its command fails (or exceeds the time limit). The results, with the diff
of every survivor, go to ``mutation/results.json`` for triage (``mutation/survivors.toml``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import random
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CPYTHON_MODULES = [
    "reference/_api.py", "reference/_behaviour.py", "reference/_convert.py", "reference/_ffi.py",
    "reference/_ffi_ctypes.py", "reference/_rusage.py", "reference/resource.py",
]  # fmt: skip
PYPY_MODULES = ["reference/_ffi_cffi.py"]
QUICK_RUN = "python -m rckit.conformance --impl rckit.reference.resource --profile quick -n 0 --report .mutation-report"
DIFFERENTIAL = "python -m pytest -x -q -p no:cacheprovider tests/test_reference_differential.py -k"
FACTS = (
    "python -m pytest -x -q -p no:cacheprovider"
    " tests/test_version_facts.py tests/test_reference_backend.py tests/test_reference_native.py"
)
PYPY_FACTS = "python -m pytest -x -q -p no:cacheprovider tests/test_reference_backend.py -k pypy"
#: Run by each worker in its copy through sh (cosmic-ray runs the command without a shell).
COMMANDS = {
    "cpython": f"sh -c '{FACTS} && {DIFFERENTIAL} \"host or sid-python3.13 or sid-python3.15\" && {QUICK_RUN}'",
    "pypy": f"sh -c '{PYPY_FACTS} && {DIFFERENTIAL} pypy3.9 && {QUICK_RUN.replace('--impl', '--python /usr/bin/pypy3 --impl')}'",
}
#: The whole differential test: every interpreter but the emulated chroots (slow under qemu).
FULL_DIFFERENTIAL = f"sh -c '{FACTS} && {DIFFERENTIAL} \"not chroot or chroot-i386\"'"
TIMEOUT = 240.0
SAMPLE_SEED = 20261130
BASE_PORT = 9910


def refresh_copy(target: Path) -> None:
    """The repository's tracked files, as they are now, in ``target``."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in (f.decode() for f in files if f):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def copy_repository(target: Path) -> None:
    """The repository's tracked files in ``target``, with a venv that has the kit and cosmic-ray."""
    refresh_copy(target)
    subprocess.run([sys.executable, "-m", "venv", str(target / ".venv")], check=True)
    pip = [str(target / ".venv" / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-e", f"{target}[test]", "cosmic-ray"], check=True)


def modules_digest(modules: list[str]) -> str:
    """A digest of the files to mutate as they are now: a session resumes only on the same code."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(name.encode() + b"\0" + (REPO / name).read_bytes())
    return digest.hexdigest()


def config(path: Path, modules: list[str], command: str, workers: int) -> None:
    """A cosmic-ray configuration for ``modules`` judged by ``command`` on the HTTP workers."""
    urls = ", ".join(f'"http://localhost:{BASE_PORT + n}"' for n in range(workers))
    path.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(modules)}\n"
        f"timeout = {TIMEOUT}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        '[cosmic-ray.distributor]\nname = "http"\n\n'
        f"[cosmic-ray.distributor.http]\nworker-urls = [{urls}]\n"
    )


def sample_session(session: Path, size: int, seed: int) -> int:
    """Keep ``size`` of the session's mutants, chosen at random with ``seed`` (the others are
    deleted before any runs); the number there were."""
    with sqlite3.connect(session) as db:
        jobs = sorted(row[0] for row in db.execute("SELECT job_id FROM work_items"))
        dropped = [(job,) for job in jobs if job not in set(random.Random(seed).sample(jobs, min(size, len(jobs))))]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", dropped)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", dropped)
    return len(jobs)


def judge(work: Path, group: str, modules: list[str], workers: int, sample: int | None = None) -> tuple[list[Any], int]:
    """Initialize and execute one cosmic-ray session (a random ``sample`` of its mutants if
    given); its work items with their results, and how many mutants there were in all."""
    first = work / "worker-0"
    cosmic = str(first / ".venv" / "bin" / "cosmic-ray")
    session = work / f"{group}.sqlite"
    cfg = work / f"{group}.toml"
    config(cfg, modules, COMMANDS[group], workers)
    total_file = session.with_suffix(".total")
    tree_file, tree = session.with_suffix(".tree"), modules_digest(modules)
    if session.exists() and (not tree_file.exists() or tree_file.read_text() != tree):
        raise SystemExit(f"{session} was made from other code than today's {', '.join(modules)}: remove it to start again")
    if not session.exists():
        tree_file.write_text(tree)
        subprocess.run([cosmic, "init", str(cfg), str(session)], cwd=first, check=True)
        with sqlite3.connect(session) as db:
            total_file.write_text(str(db.execute("SELECT count(*) FROM work_items").fetchone()[0]))
        if sample:
            sample_session(session, sample, SAMPLE_SEED)
    subprocess.run([cosmic, "exec", str(cfg), str(session)], cwd=first, check=True)
    dump = subprocess.run([cosmic, "dump", str(session)], cwd=first, capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in dump.splitlines() if line.strip()], int(total_file.read_text())


def summary(items: list[Any]) -> dict[str, Any]:
    """Counts by outcome and the survivors (module, line, operator, diff)."""
    counts: dict[str, int] = {}
    survivors = []
    for work_item, raw_result in (entry for entry in items if isinstance(entry, list)):
        result = raw_result or {}
        normal = result.get("worker_outcome") == "normal"
        outcome = result.get("test_outcome", "pending") if normal else result.get("worker_outcome", "pending")
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "survived":
            mutation = work_item["mutations"][0]
            survivors.append({
                "id": work_item["job_id"], "module": mutation["module_path"], "line": mutation["start_pos"][0],
                "operator": mutation["operator_name"], "occurrence": mutation["occurrence"], "diff": result.get("diff", ""),
            })  # fmt: skip
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    judged = killed + counts.get("survived", 0)
    return {"counts": counts, "killed": killed, "judged": judged, "score": round(killed / judged, 4) if judged else None,
            "survivors": sorted(survivors, key=lambda s: (s["module"], s["line"]))}  # fmt: skip


def rejudge_one(copy: Path, command: str, survivor: dict[str, Any]) -> str:
    """Apply one survivor's diff in ``copy``, run ``command`` there, undo the diff: ``killed`` or
    ``survived`` (a command that runs past its time limit kills), or ``gone`` if the diff no
    longer applies (the code it mutated has changed)."""
    limit = TIMEOUT * 4 if command == FULL_DIFFERENTIAL else TIMEOUT
    diff = survivor["diff"].split("--- mutation diff ---\n", 1)[-1].rstrip("\n") + "\n"  # stored without its last newline
    patch = ["patch", "-s", "-p1", "--fuzz=3", "--no-backup-if-mismatch"]  # the context may have moved since
    trial = subprocess.run([*patch, "--dry-run"], input=diff, text=True, cwd=copy, capture_output=True, check=False)
    if trial.returncode:
        return "gone"  # the code it mutated has changed since
    subprocess.run(patch, input=diff, text=True, cwd=copy, check=True)
    try:
        env = dict(os.environ, PATH=f"{copy / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        try:
            done = subprocess.run(shlex.split(command), cwd=copy, env=env, capture_output=True, timeout=limit, check=False)
        except subprocess.TimeoutExpired:
            return "killed"
        return "survived" if done.returncode == 0 else "killed"
    finally:
        subprocess.run([*patch, "-R"], input=diff, text=True, cwd=copy, check=True)


def rejudge(results: dict[str, Any], work: Path, workers: int, full: bool = False) -> None:
    """Judge the survivors of an earlier run again with today's tests (after a gap was closed), or
    with the whole differential test (``full``); each survivor records its ``outcome`` now (or,
    when full, ``killed_by_full``), each group its new score."""
    copies: queue.Queue[Path] = queue.Queue()
    for n in range(workers):
        copies.put(work / f"worker-{n}")  # main() has copied today's tree there

    def judged(group: str, survivor: dict[str, Any]) -> str:
        copy = copies.get()  # one mutant at a time in each copy
        try:
            return rejudge_one(copy, FULL_DIFFERENTIAL if full else COMMANDS[group], survivor)
        finally:
            copies.put(copy)

    for group in ("cpython", "pypy"):
        survivors = results.get(group, {}).get("survivors", [])
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(judged, [group] * len(survivors), survivors))
        for survivor, outcome in zip(survivors, outcomes, strict=True):
            if full:
                survivor["killed_by_full"] = outcome == "killed"
            else:
                survivor["outcome"] = outcome  # killed, survived, or gone
        if full:
            continue
        if survivors:
            found = results[group]
            killed = found["killed"] + outcomes.count("killed")
            found["rejudged"] = {"killed": killed, "score": round(killed / found["judged"], 4)}


def write_results(path: Path, results: dict[str, Any], groups: Sequence[str], line: Callable[[str, dict[str, Any]], str]) -> None:
    """Write ``results`` to ``path`` as JSON, then print ``line(group, its results)`` for each of
    ``groups`` that was judged."""
    path.write_text(json.dumps(results, indent=1) + "\n")
    for group in groups:
        if group in results:
            print(line(group, results[group]))


def _summary_line(group: str, found: dict[str, Any]) -> str:
    return (f"{group}: {found['killed']} of {found['judged']} mutants killed ({found['score']}) "
            f"of {found['mutants']} in all, {found['counts']}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the sessions (resuming where a previous run stopped) and write the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work-dir", default="/tmp/rckit-mutation")
    parser.add_argument("--modules", nargs="*", help="only these files of reference/")
    parser.add_argument("--output", default=str(REPO / "mutation" / "results.json"))
    parser.add_argument("--rejudge", help="a results file of an earlier run: judge its survivors again with today's tests")
    parser.add_argument("--full", action="store_true", help="with --rejudge: judge by the whole differential test")
    parser.add_argument("--sample", type=int, help=f"judge this many mutants of each group, drawn at random (seed {SAMPLE_SEED})")
    args = parser.parse_args(argv)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    for n in range(args.workers):
        if not (work / f"worker-{n}" / ".venv").is_dir():
            copy_repository(work / f"worker-{n}")
        else:
            refresh_copy(work / f"worker-{n}")  # judge today's tree, never a copy made earlier
    if args.rejudge:
        earlier = json.loads(Path(args.rejudge).read_text())
        rejudge(earlier, work, args.workers, args.full)
        Path(args.output).write_text(json.dumps(earlier, indent=1) + "\n")
        for group in ("cpython", "pypy"):
            if "rejudged" in earlier.get(group, {}):
                print(f"{group}: {earlier[group]['rejudged']} after judging {len(earlier[group]['survivors'])} survivors again")
        return 0
    workers = []
    for n in range(args.workers):
        copy = work / f"worker-{n}"
        env = dict(os.environ, PATH=f"{copy / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        workers.append(subprocess.Popen(
            [str(copy / ".venv" / "bin" / "cosmic-ray"), "http-worker", "--port", str(BASE_PORT + n)],
            cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
    time.sleep(3)
    started = time.time()
    results: dict[str, Any] = {"tool": "cosmic-ray", "workers": args.workers}
    try:
        for group, modules in (("cpython", CPYTHON_MODULES), ("pypy", PYPY_MODULES)):
            chosen = [m for m in modules if not args.modules or m in args.modules]
            if chosen:
                items, total = judge(work, group, chosen, args.workers, args.sample)
                results[group] = summary(items) | {"modules": chosen, "command": COMMANDS[group], "mutants": total,
                                                   "sampled": args.sample}  # fmt: skip
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait()
    results["hours"] = round((time.time() - started) / 3600, 2)
    write_results(Path(args.output), results, ("cpython", "pypy"), _summary_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
