"""The pytest plugin of the conformance kit (registered through the ``pytest11`` entry point).

It adds the command-line options and the ``rule`` marker, and, when conformance tests ran,
gathers their results into the report (terminal summary, JSON and Markdown). It also checks that
the harness's own limits were not changed by the run. In a session without conformance tests it
does nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import sys
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from rckit.conformance import SUITE
from rckit.conformance.environments.chroots import target_for_arch
from rckit.conformance.harness import exchanges
from rckit.conformance.harness.candidates import Candidate, make_candidate
from rckit.conformance.harness.errors import AgentError, CannotJudge
from rckit.conformance.harness.own_limits import LimitsSnapshot
from rckit.conformance.harness.specs import ISOLATION_MODES, CandidateSpec, chroot_root
from rckit.conformance.outputs.progress import MODES, Progress
from rckit.conformance.outputs.report import TestResult, build, terminal_lines, write
from rckit.conformance.support.applicability import NA_PREFIX
from rckit.platforms import debian_architectures
from rckit.spec import load

__all__ = ["EXPECTATION_PROPERTY", "PROPERTY", "Aggregator", "_candidate_specs", "_falsifying_lines"]

PROPERTY = "rckit"
#: The user property that carries the known deviation a test was marked with (file, reason, link).
EXPECTATION_PROPERTY = "rckit-expectation"
#: How hypothesis introduces the example it reports (the wording changed across its versions).
FALSIFYING_HEADERS = re.compile(r"^(Falsifying (explicit )?example|Failing test case|state = )")
MAX_FALSIFYING_LINES = 60
DEFAULT_IMPLS = ("resource", "rckit.reference.resource")
_snapshot_key = pytest.StashKey[LimitsSnapshot]()
specs_key = pytest.StashKey[list[CandidateSpec]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rckit", "resource conformance kit")
    group.addoption(
        "--candidate",
        action="append",
        default=[],
        metavar="MODULE[=PYTHON]",
        help="judge MODULE, in-process or in the interpreter command PYTHON (repeatable)",
    )
    group.addoption(
        "--impl",
        action="append",
        default=[],
        metavar="MODULE",
        help="module to judge in every interpreter (default: resource and rckit.reference.resource)",
    )
    group.addoption(
        "--python",
        action="append",
        default=[],
        metavar="COMMAND",
        help="interpreter command to judge the --impl modules in, e.g. 'pypy3' or 'chroot DIR python3' (repeatable)",
    )
    group.addoption(
        "--path",
        action="append",
        default=[],
        metavar="DIR",
        dest="rckit_paths",
        help="a folder to import the candidate modules from (repeatable; copied into a chroot)",
    )
    group.addoption(
        "--in-process",
        action="store_true",
        dest="rckit_in_process",
        help="import the modules into the harness's own process (unguarded: a hang or crash there stops the run)",
    )
    group.addoption(
        "--rckit-profile",
        default="default",
        choices=("quick", "default", "thorough"),
        help="how hard hypothesis tries: quick, default (reproducible) or thorough",
    )
    group.addoption("--rckit-report", default="reports", metavar="DIR", help="where conformance.json and conformance.md go")
    group.addoption(
        "--rckit-expectations",
        action="append",
        default=[],
        metavar="FILE",
        dest="rckit_expectations",
        help="a file of known deviations (format: schemas/expectations.schema.json), besides the kit's own (repeatable)",
    )
    group.addoption(
        "--rckit-progress",
        default="off",
        choices=MODES,
        help="show which candidate is being judged and the time left: auto (a redrawn line on a terminal, "
        "plain lines elsewhere), tty, lines, off (default; the CLI turns it on unless -q)",
    )
    group.addoption("--rckit-strict", action="store_true", help="an unexpected pass fails the run too")
    group.addoption(
        "--rckit-isolation",
        default="auto",
        choices=ISOLATION_MODES,
        help="how each limit-changing example gets its own process: auto (fork where the interpreter can, "
        "probed; else spawn), fork, or spawn (a fresh process of the candidate's interpreter, no fork)",
    )


def _candidate_specs(config: pytest.Config) -> list[CandidateSpec]:
    """The candidates of this run, from --candidate, or --impl x --python, or the defaults; each
    with the --path folders, in its own agent unless --in-process (for the harness's interpreter)."""
    paths = config.getoption("rckit_paths")
    in_process = config.getoption("rckit_in_process")
    isolation = config.getoption("--rckit-isolation")
    specs = []
    for text in config.getoption("--candidate"):
        module, _, python = text.partition("=")
        specs.append(CandidateSpec.parse(module, python or None, paths, in_process and not python, isolation))
    impls = config.getoption("--impl") or ([] if specs else list(DEFAULT_IMPLS))
    pythons = config.getoption("--python") or ([] if specs else [None])
    if config.getoption("--impl") and not config.getoption("--python"):
        pythons = [None]
    specs += [
        CandidateSpec.parse(module, python, paths, in_process and python is None, isolation)
        for python in pythons
        for module in impls
    ]
    return list(dict.fromkeys(specs))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(*ids): the spec rules (rckit.spec) this conformance test checks")
    config.stash[specs_key] = _candidate_specs(config)
    config.stash[_snapshot_key] = LimitsSnapshot.take()
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Aggregator(config), "rckit-aggregator")


def emulated(spec: CandidateSpec) -> bool:
    """The candidate's interpreter runs in an architecture chroot under qemu-user (the slowest)."""
    root = chroot_root(spec.python) if spec.python else None
    name = Path(root).name if root else ""
    if not name or name not in debian_architectures():
        return False
    return bool(target_for_arch(name).toolchain.get("qemu"))


@pytest.hookimpl(trylast=True)  # after pytest grouped the tests by candidate (a session-scoped parameter)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The candidates under qemu first, each still in one block: their slow tests then overlap
    with the native candidates' quick ones instead of ending the run with a worker idle."""
    slow = {spec.id for spec in config.stash[specs_key] if emulated(spec)}
    if slow:
        items.sort(key=lambda item: _candidate_id(item) not in slow)


def _candidate_id(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("candidate")


def unusable(specs: list[CandidateSpec]) -> list[str]:
    """Why each candidate that cannot be judged cannot be, one line each: its interpreter does
    not start the agent, its module does not finish importing or dies doing it, or raises.
    Each check starts an agent (some 4 s under qemu) and mostly waits for it, while the workers
    wait for every check: up to two per CPU are started at once, checked in order."""
    window = 2 * (os.cpu_count() or 1)
    problems: list[str | None] = []
    started: deque[tuple[CandidateSpec, Candidate]] = deque()
    for spec in specs:
        candidate = make_candidate(spec)
        with contextlib.suppress(OSError):  # said again, and reported, when it is used
            candidate.launch()
        started.append((spec, candidate))
        if len(started) >= window:
            problems.append(_why_unusable(*started.popleft()))
    problems += [_why_unusable(*pair) for pair in started]
    return [problem for problem in problems if problem]


def _why_unusable(spec: CandidateSpec, candidate: Candidate) -> str | None:
    try:
        error = candidate.info.import_error
        if error is not None:
            return f"{spec.id}: the module does not import ({error['type']}: {error['message'][:200]})"
    except CannotJudge as exc:
        return f"{spec.id}: {exc}"
    except (AgentError, OSError) as exc:
        return f"{spec.id}: its interpreter does not run ({str(exc).splitlines()[0][:300]})"
    finally:
        candidate.close()
    return None


def _runs_the_suite(config: pytest.Config) -> bool:
    suite = SUITE
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == suite or suite in path.parents or arg.startswith("rckit.conformance.suite"):
            return True
    return False


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before a conformance run (in the xdist controller, not each worker), make sure every
    candidate can be judged at all; otherwise stop with one line per candidate (exit status 4)."""
    config = session.config
    if hasattr(config, "workerinput") or config.getoption("collectonly") or not _runs_the_suite(config):
        return
    problems = unusable(config.stash[specs_key])
    if problems:
        raise pytest.UsageError("rckit: these candidates cannot be judged:\n  " + "\n  ".join(problems))


def pytest_sessionfinish(session: pytest.Session) -> None:
    problems = session.config.stash[_snapshot_key].changes()
    if problems:
        sys.stderr.write("rckit: the run changed the harness's own limits:\n  " + "\n  ".join(problems) + "\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


class Aggregator:
    """Collects conformance results as they arrive (from xdist workers too) and reports them."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[tuple[str, str], TestResult] = {}
        self.candidates: dict[str, dict[str, Any]] = {}
        self.report_paths: tuple[Path, Path] | None = None
        mode = config.getoption("--rckit-progress")
        self.progress = None if mode == "off" else Progress(mode, [s.id for s in config.stash[specs_key]])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.progress:
            self.progress.expect(ids)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.progress:
            self.progress.expect([item.nodeid for item in items])

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """With progress shown, a conformance test prints no letter (its counts stay)."""
        if not self.progress or PROPERTY not in dict(report.user_properties):
            return None
        if hasattr(report, "wasxfail"):
            return ("xfailed" if report.skipped else "xpassed"), "", ""
        if report.when == "call":
            return report.outcome, "", ""
        if report.failed or report.skipped:
            return ("error" if report.failed else "skipped"), "", ""
        return "", "", ""

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if PROPERTY not in props:
            return
        raw = props[PROPERTY]
        data: dict[str, Any] = raw if isinstance(raw, dict) else json.loads(str(raw))
        self.candidates.setdefault(data["candidate"], data.get("info") or {})
        if data.get("info"):
            self.candidates[data["candidate"]] = data["info"]
        status, reason = classify(report)
        key = (report.nodeid, data["candidate"])
        if status is not None:
            self._record(report, (status, reason), data, props)
        if self.progress and report.when == "teardown":
            recorded = self.results.get(key)
            self.progress.result(data["candidate"], recorded is not None and recorded.status in ("fail", "error"))

    def _record(self, report: pytest.TestReport, outcome: tuple[str, str], data: dict[str, Any], props: dict[str, Any]) -> None:
        status, reason = outcome
        key = (report.nodeid, data["candidate"])
        previous = self.results.get(key)
        if previous is not None and previous.status in ("fail", "error"):
            return  # a failure in any phase stands
        expectation = props.get(EXPECTATION_PROPERTY)
        self.results[key] = TestResult(
            nodeid=report.nodeid,
            test=report.nodeid.split("::")[-1].split("[")[0],
            candidate=data["candidate"],
            rules=list(data["rules"]),
            status=status,
            reason=reason,
            duration=round(report.duration, 3) + (previous.duration if previous else 0.0),
            expectation=json.loads(str(expectation)) if expectation and status in ("xfail", "xpass") else None,
            falsifying=_falsifying_lines(str(report.longrepr)) if status in ("fail", "error", "xfail") else [],
            example=json.loads(str(props[exchanges.PROPERTY])) if exchanges.PROPERTY in props else None,
        )

    def build(self) -> Any:
        """The report of what arrived so far."""
        ordered = [s.id for s in self.config.stash[specs_key] if s.id in self.candidates]
        candidates = {cid: self.candidates[cid] for cid in ordered}
        meta = {
            "command": "pytest " + shlex.join(self.config.invocation_params.args),
            "profile": self.config.getoption("--rckit-profile"),
            "runner_limits_unchanged": not self.config.stash[_snapshot_key].changes(),
        }
        return build(load(), list(self.results.values()), candidates, meta)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.results:
            return
        report = self.build()
        self.report_paths = write(report, Path(self.config.getoption("--rckit-report")))
        if self.config.getoption("--rckit-strict") and any(r.status == "xpass" for r in report.results):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.progress:
            self.progress.close()
        if not self.results:
            return
        terminalreporter.section("resource conformance")
        for line in terminal_lines(self.build()):
            terminalreporter.write_line(line)
        if self.report_paths:
            terminalreporter.write_line(f"report: {self.report_paths[0]} and {self.report_paths[1]}")


def classify(report: pytest.TestReport) -> tuple[str | None, str]:
    """A test report's status for the conformance report (None: nothing to record)."""
    wasxfail = getattr(report, "wasxfail", None)
    if report.skipped:
        if wasxfail is not None:
            return "xfail", wasxfail
        # (path, line, message); a list once it has crossed from an xdist worker.
        longrepr = report.longrepr
        reason = str(longrepr[2]) if isinstance(longrepr, (tuple, list)) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        return ("n/a" if reason.startswith(NA_PREFIX) else "error"), reason
    if report.when == "call":
        if wasxfail is not None:
            return "xpass", wasxfail
        return ("pass", "") if report.passed else ("fail", _message(report))
    if report.failed:
        return "error", _message(report)
    return None, ""


def _falsifying_lines(text: str) -> list[str]:
    """The falsifying example hypothesis attached to a failure (the failing call, each draw, a
    state machine's steps), read from pytest's rendering of it; [] when there is none. Object
    addresses are dropped: they differ on every run."""
    lines: list[str] = []
    inside = False
    for raw in text.splitlines():
        if not raw.startswith("E ") and not raw.lstrip(" |").startswith(("Falsifying", "Failing", "Draw ", "state")):
            inside = False
            continue
        line = re.sub(r"^E {0,7}", "", raw) if raw.startswith("E") else raw
        line = re.sub(r"^[ |]*\| ", "", line)  # an exception group's sub-exception
        if FALSIFYING_HEADERS.match(line.lstrip()):
            inside = True
        if inside and line and not re.search(r"candidate=<.* at 0x[0-9a-f]+>", line):
            lines.append(re.sub(r" at 0x[0-9a-f]+", "", line.rstrip()))
    return lines[:MAX_FALSIFYING_LINES]


def _message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return (crash.message if crash else str(report.longrepr))[:600]
