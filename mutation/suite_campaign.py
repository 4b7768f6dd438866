"""The conformance suite judged by mutants of the reference: does the suite, alone, fail an
implementation that behaves differently from CPython?

    python mutation/suite_campaign.py --sample 720 --workers 2     # CPython's path, a seeded sample
    python mutation/suite_campaign.py --group pypy --workers 2     # every mutant of the cffi backend
    python mutation/suite_campaign.py --rejudge                    # the survivors, with today's suite

Each mutant of ``reference/`` (made by cosmic-ray's operators) is written into a worker's copy of
the repository (``run_mutation.py`` makes the copies, each with a virtual environment of its own)
and judged in stages, cheapest first; a stage that decides ends the mutant's run:

1. ``differential``: the differential test of the interpreter the mutated code runs in (this
   host's CPython for CPython's path, Debian's PyPy for the cffi backend). A mutant it does not
   kill behaves like CPython there and is not judged further (``same``).
2. ``quick``: ``python -m rckit.conformance --impl rckit.reference.resource --profile quick`` in
   that interpreter. Exit 1 (an unexpected failure) kills; exit 4 (the kit refuses to judge the
   candidate: it does not import, or its agent cannot describe it) counts as caught, as ``refused``.
3. ``default``: the same with the default profile, for what the quick profile let through.

A mutant that none of the stages catches is a survivor, to triage in
``mutation/suite-survivors.toml``: ``undocumented`` (no edition promises the behaviour it changed),
``equivalent`` (the suite cannot see the change, by construction), or ``gap-closed`` (a rule or a
property was added or strengthened, and ``--rejudge`` then killed it).

Every outcome is appended to ``<work-dir>/<group>.jsonl`` as it comes, so an interrupted run
resumes where it stopped; the order is the sample's random order, so a run stopped early is still
a random sample. ``--summarize`` (run at the end of every campaign) writes
``mutation/suite-results.json``, which ``tests/test_suite_mutation_triage.py`` checks.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import hashlib
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_mutation import CPYTHON_MODULES, PYPY_MODULES, REPO, copy_repository, modules_digest, refresh_copy, write_results

SEED = 20261205
RESULTS = REPO / "mutation" / "suite-results.json"
#: A stage that runs longer than this is a hang of the suite itself: recorded as ``timeout``.
STAGE_TIMEOUT = 600.0
DIFFERENTIAL = ["python", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "tests/test_reference_differential.py", "-k"]


class Group(NamedTuple):
    """The mutated files of one interpreter's path, and how that interpreter is judged."""

    modules: list[str]
    differential: str  # the -k expression of the differential test's interpreter
    python: list[str]  # --python for the conformance run, or nothing for the harness's own


GROUPS = {
    "cpython": Group(CPYTHON_MODULES, "host", []),
    "pypy": Group(PYPY_MODULES, "pypy3.9", ["--python", "/usr/bin/pypy3"]),
}


class Mutant(NamedTuple):
    """One mutation of one file: where, by which operator, and the file's text after it."""

    id: str
    module: str
    operator: str
    occurrence: int
    line: int
    mutated: str

    def diff(self) -> str:
        """The mutation as a unified diff against the repository."""
        before = (REPO / self.module).read_text().splitlines(keepends=True)
        lines = difflib.unified_diff(before, self.mutated.splitlines(keepends=True), f"a/{self.module}", f"b/{self.module}", n=2)
        return "".join(lines)


def mutants(modules: list[str]) -> list[Mutant]:
    """Every mutant cosmic-ray's operators (those that take no arguments) make of ``modules``,
    in a stable order."""
    from cosmic_ray import plugins  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from cosmic_ray.ast import ast_nodes, get_ast_from_path  # type: ignore[import-untyped,import-not-found,unused-ignore]
    from cosmic_ray.mutating import mutate_code  # type: ignore[import-untyped,import-not-found,unused-ignore]

    found = []
    for module in modules:
        code = (REPO / module).read_text()
        tree = get_ast_from_path(REPO / module)
        for name in sorted(plugins.operator_names()):
            operator_class = plugins.get_operator(name)
            if operator_class.arguments():
                continue
            operator = operator_class()
            positions = [start for node in ast_nodes(tree) for start, _ in operator.mutation_positions(node)]
            for occurrence, start in enumerate(positions):
                mutated = mutate_code(code, operator, occurrence)
                if mutated is None or mutated == code:
                    continue
                key = f"{module}:{name}:{occurrence}"
                mutant_id = hashlib.sha256(key.encode()).hexdigest()[:12]
                found.append(Mutant(mutant_id, module, name, occurrence, start[0], mutated))
    return found


def cached_mutants(modules: list[str], work: Path) -> list[Mutant]:
    """``mutants(modules)``, kept in ``work`` for the same code (making them takes a minute)."""
    cache = work / f"mutants-{modules_digest(modules)[:16]}.json"
    if cache.exists():
        return [Mutant(*fields) for fields in json.loads(cache.read_text())]
    found = mutants(modules)
    cache.write_text(json.dumps(found))
    return found


def sample(found: list[Mutant], size: int | None, seed: int) -> list[Mutant]:
    """The first ``size`` mutants (all, without a size) of a shuffle with ``seed``: a smaller
    sample is the start of a larger one, so a campaign can be extended."""
    shuffled = sorted(found, key=lambda m: m.id)
    random.Random(seed).shuffle(shuffled)
    return shuffled[:size] if size else shuffled


def failing_rules(report: Path) -> list[str]:
    """The rules with an unexpected failure or error in a conformance report."""
    try:
        matrix = json.loads((report / "conformance.json").read_text())["matrix"]
    except (OSError, ValueError, KeyError):
        return []
    return sorted(rule for rule, cells in matrix.items() if any(c["status"] in ("fail", "error") for c in cells.values()))


def run(copy: Path, argv: list[str]) -> tuple[int | None, str]:
    """``argv`` in ``copy`` with its virtual environment first on PATH: the exit status (None
    when it ran past STAGE_TIMEOUT) and the end of its output."""
    env = dict(os.environ, PATH=f"{copy / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    env.pop("PYTHONPATH", None)
    try:
        done = subprocess.run(argv, cwd=copy, env=env, capture_output=True, text=True, timeout=STAGE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, (done.stdout + done.stderr)[-2000:]


def judge(copy: Path, group: Group, mutant: Mutant, profiles: tuple[str, ...] = ("quick", "default")) -> dict[str, Any]:
    """Write ``mutant`` into ``copy``, run the stages until one decides, and put the file back."""
    target = copy / mutant.module
    original = target.read_text()
    target.write_text(mutant.mutated)
    record: dict[str, Any] = {"id": mutant.id}
    started = time.time()
    try:
        if group.differential:
            status, output = run(copy, [*DIFFERENTIAL, group.differential])
            if status == 0:
                return record | {"stage": "differential", "outcome": "same", "seconds": round(time.time() - started, 1)}
            failed = re.findall(r"FAILED (\S+)", output)
            record["differential"] = failed[0].split("::", 1)[-1] if failed else f"exit {status}"
        for profile in profiles:
            report = copy / ".campaign-report"
            command = ["python", "-m", "rckit.conformance", "--impl", "rckit.reference.resource", *group.python]
            # -x: the first unexpected failure decides; the report names its rule.
            status, output = run(copy, [*command, "--profile", profile, "-n", "0", "--report", str(report), "--", "-x"])
            if status == 0:
                continue
            outcome = {1: "killed", 4: "refused", None: "timeout"}.get(status, "error")
            record |= {"stage": profile, "outcome": outcome, "rules": failing_rules(report)}
            if outcome != "killed":
                record["output"] = output[-600:]
            break
        else:
            record |= {"stage": profiles[-1], "outcome": "survived"}
    finally:
        target.write_text(original)
    return record | {"seconds": round(time.time() - started, 1)}


def campaign(name: str, chosen: list[Mutant], work: Path, workers: int) -> None:
    """Judge every mutant of ``chosen`` not yet in ``<work>/<name>.jsonl``, ``workers`` at a time."""
    log = work / f"{name}.jsonl"
    done = {json.loads(line)["id"] for line in log.read_text().splitlines()} if log.exists() else set()
    todo = [m for m in chosen if m.id not in done]
    copies: queue.Queue[Path] = queue.Queue()
    for n in range(workers):
        copies.put(work / f"worker-{n}")
    lock = threading.Lock()
    counts: dict[str, int] = {}

    def one(mutant: Mutant) -> None:
        copy = copies.get()
        try:
            record = judge(copy, GROUPS[name], mutant)
        finally:
            copies.put(copy)
        with lock:
            with log.open("a") as out:
                out.write(json.dumps(record) + "\n")
            counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
            print(f"{name} {len(done) + sum(counts.values())}/{len(chosen)} {mutant.id} {mutant.module}:{mutant.line} "
                  f"{record['outcome']} ({record['stage']}, {record['seconds']} s) {counts}", flush=True)  # fmt: skip

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, todo))


def summarize(work: Path, found: dict[str, list[Mutant]], plan: dict[str, Any]) -> dict[str, Any]:
    """The results of every group's log: the counts, every judged mutant's outcome, and each
    survivor with its diff (what ``tests/test_suite_mutation_triage.py`` reads)."""
    results: dict[str, Any] = {"method": plan}
    for name, group_mutants in found.items():
        log = work / f"{name}.jsonl"
        if not log.exists():
            continue
        by_id = {m.id: m for m in group_mutants}
        records = [json.loads(line) for line in log.read_text().splitlines() if line.endswith("}")]  # a line being written
        counts: dict[str, int] = {}
        for record in records:
            counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
        judged = [r for r in records if r["outcome"] != "same"]
        caught = [r for r in judged if r["outcome"] in ("killed", "refused", "timeout")]
        results[name] = {
            "modules": GROUPS[name].modules, "mutants": len(group_mutants), "sampled": len(records),
            "behaviour_changing": len(judged), "caught": len(caught), "outcomes": counts,
            "by_stage": {stage: sum(1 for r in caught if r["stage"] == stage) for stage in ("quick", "default")},
            "judged": sorted(({"id": r["id"], "module": by_id[r["id"]].module, "line": by_id[r["id"]].line,
                               "operator": by_id[r["id"]].operator, "outcome": r["outcome"], "rules": r.get("rules", []),
                               "diff": by_id[r["id"]].diff()}
                              for r in judged), key=lambda r: r["id"]),
            "survivors": [{"id": r["id"], "module": by_id[r["id"]].module, "line": by_id[r["id"]].line,
                           "operator": by_id[r["id"]].operator, "differential": r.get("differential", ""),
                           "diff": by_id[r["id"]].diff()} for r in sorted(records, key=lambda r: r["id"])
                          if r["outcome"] == "survived"],
        }  # fmt: skip
    return results


#: What later steps add to a survivor (classify, rejudge), kept when the logs are summarized again.
ANNOTATIONS = ("without_messages", "difference", "now", "now_rules")


def merged(earlier: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """``now``'s summary, with the annotations ``earlier`` gave the same survivors, and the groups
    and method keys only ``earlier`` has."""
    for name in GROUPS:
        notes = {s["id"]: s for s in earlier.get(name, {}).get("survivors", [])}
        for survivor in now.get(name, {}).get("survivors", []):
            survivor.update({k: notes[survivor["id"]][k] for k in ANNOTATIONS if k in notes.get(survivor["id"], {})})
    return earlier | now


def classify(results: dict[str, Any], found: dict[str, list[Mutant]]) -> None:
    """For every survivor, run the differential test again comparing everything but the words of
    messages (RCKIT_DIFFERENTIAL_MESSAGES=ignore), with the mutant put first on PYTHONPATH: each
    records ``without_messages`` (``same``: the mutant only rewords a message; ``differs``) and
    the first difference the test shows."""
    for name, group_mutants in found.items():
        by_id = {m.id: m for m in group_mutants}
        for survivor in results.get(name, {}).get("survivors", []):
            if "without_messages" in survivor:
                continue  # classified by an earlier run
            mutant = by_id[survivor["id"]]
            with tempfile.TemporaryDirectory() as tree:
                shutil.copytree(REPO / "reference", Path(tree) / "rckit" / "reference")
                (Path(tree) / "rckit" / mutant.module).write_text(mutant.mutated)
                env = dict(os.environ, PYTHONPATH=tree, RCKIT_DIFFERENTIAL_MESSAGES="ignore")
                done = subprocess.run([sys.executable, *DIFFERENTIAL[1:], GROUPS[name].differential], cwd=REPO, env=env,
                                      capture_output=True, text=True, timeout=STAGE_TIMEOUT, check=False)  # fmt: skip
            shown = [line[1:].strip() for line in done.stdout.splitlines() if line.startswith("E ")]
            survivor["without_messages"] = "same" if done.returncode == 0 else "differs"
            survivor["difference"] = " | ".join(shown[:3])[:400]
            where = f"{survivor['module']}:{survivor['line']}"
            print(
                f"{name} {survivor['id']} {where} {survivor['without_messages']} {survivor['difference'][:150]}",
                flush=True,
            )


def rejudge(results: dict[str, Any], work: Path, found: dict[str, list[Mutant]], workers: int) -> None:
    """Judge every survivor of ``results`` again with today's suite (after a gap was closed):
    each records ``now`` (killed, refused, or survived) and the rules that failed. Survivors that
    only reword a message (``--classify`` found them ``same`` without message words) are left
    out: no property of the suite reads a message's words."""
    copies: queue.Queue[Path] = queue.Queue()
    for n in range(workers):
        copies.put(work / f"worker-{n}")
    mutant_of = {m.id: m for group_mutants in found.values() for m in group_mutants}
    todo = [
        (name, survivor)
        for name in found
        for survivor in results.get(name, {}).get("survivors", [])
        if survivor.get("without_messages") != "same"
    ]

    def one(job: tuple[str, dict[str, Any]]) -> None:
        name, survivor = job
        copy = copies.get()
        try:
            record = judge(copy, GROUPS[name], mutant_of[survivor["id"]])
        finally:
            copies.put(copy)
        survivor["now"], survivor["now_rules"] = record["outcome"], record.get("rules", [])
        print(
            f"{name} {survivor['id']} {survivor['module']}:{survivor['line']} now {record['outcome']} {survivor['now_rules']}",
            flush=True,
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, todo))


def _summary_line(name: str, group: dict[str, Any]) -> str:
    return (f"{name}: {group['caught']} of {group['behaviour_changing']} behaviour-changing mutants caught "
            f"(of {group['sampled']} judged, {group['mutants']} in all): {group['outcomes']}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run (or resume) the campaign of each group asked for, then write the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--group", action="append", choices=sorted(GROUPS), help="judge this group (default: both)")
    parser.add_argument(
        "--sample",
        type=int,
        help=f"CPython's path: judge this many mutants, drawn at random (seed {SEED}); the cffi backend is always judged whole",
    )
    parser.add_argument("--workers", type=int, default=2, help="mutants judged at once, one copy of the repository each")
    parser.add_argument("--work-dir", default="/tmp/rckit-campaign", help="the copies and the logs (resumable)")
    parser.add_argument("--summarize", action="store_true", help="only write mutation/suite-results.json from the logs")
    parser.add_argument("--rejudge", action="store_true", help="judge the survivors in mutation/suite-results.json again")
    parser.add_argument("--classify", action="store_true", help="run the differential test without messages on every survivor")
    args = parser.parse_args(argv)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    names = args.group or sorted(GROUPS)
    found = {name: cached_mutants(GROUPS[name].modules, work) for name in names}
    digest = modules_digest([m for group in GROUPS.values() for m in group.modules])
    stamp = work / "reference.digest"
    if stamp.exists() and stamp.read_text() != digest:
        raise SystemExit(f"{work} holds a campaign over other code than today's reference/: remove it to start again")
    stamp.write_text(digest)
    judging = not (args.summarize or args.classify or args.rejudge)
    if judging or args.rejudge:
        for n in range(args.workers):  # never while another run of this script uses the copies
            copy = work / f"worker-{n}"
            copy_repository(copy) if not (copy / ".venv").is_dir() else refresh_copy(copy)  # today's tree
    if judging:
        for name in names:
            chosen = sample(found[name], args.sample if name == "cpython" else None, SEED)
            campaign(name, chosen, work, args.workers)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if judging or args.summarize:
        plan = {"seed": SEED, "sample": args.sample, "reference_digest": digest, "date": datetime.date.today().isoformat()}
        results = merged(results, summarize(work, found, plan))
    if args.classify:
        classify(results, found)
    if args.rejudge:
        rejudge(results, work, found, args.workers)
    write_results(RESULTS, results, names, _summary_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
