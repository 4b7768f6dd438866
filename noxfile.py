"""Sessions of the resource conformance kit; the same ones run on every OS in CI.

nox -s tests lint                  the kit's own tests and static checks (what CI runs)
nox -s "conformance(host)"         this interpreter's resource and the reference (the main job)
nox -s conformance                 one session per interpreter found (missing ones are skipped)
nox -s matrix                      every interpreter in one run, one report
nox -s "chroot(armhf)"             a Debian architecture chroot (i386, arm64, armel, armhf, ppc64el, ...)
nox -s "chroot(sid)"               every Python of a Debian sid chroot (also forky, trixie)
nox -s build_chroots               build the chroots CI uses (sid), so the tests can use them
nox -s atlas                       docs/atlas.html (+ screenshot) from docs/example-report.json
nox -s atlas -- "dir/**/conformance.json"   atlas.html from any reports (CI: every runner's)
nox -s benchmark                   ns per call against the C module and the bare FFI call, per interpreter
nox -s fuzz                        100,000 arbitrary inputs, the reference against the C module
nox -s mutation                    every mutant of reference/ against the suite (cosmic-ray; hours)
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).resolve().parent
INTERPRETERS = [
    "host",
    "cpython2.7", "cpython3.6", "cpython3.7", "cpython3.8", "cpython3.9", "cpython3.10",
    "cpython3.11", "cpython3.12", "cpython3.13", "cpython3.14", "cpython3.15", "pypy3.9", "debian-python3",
]  # fmt: skip
#: The release chroots of platforms/data/debian-releases.json, then the architecture chroots of
#: debian-architectures.json (tests/test_chroots.py checks that this list is exactly those).
CHROOTS = [
    "sid", "forky", "trixie",
    "i386", "arm64", "armel", "armel-bookworm", "armhf", "armhf-bookworm", "ppc64el", "riscv64", "s390x", "mips64el",
]  # fmt: skip
ARCHES = [c["name"] for c in json.loads((ROOT / "platforms" / "data" / "debian-architectures.json").read_text())["chroots"]]
PACKAGES = ROOT / "build" / "typecheck"


def _apt_install(session: nox.Session, *packages: str) -> None:
    """Install Debian packages when this is a root Debian machine without them; else say why not."""
    missing = (
        [p for p in packages if subprocess.run(["dpkg", "-s", p], capture_output=True, check=False).returncode != 0]
        if shutil.which("dpkg")
        else list(packages)
    )
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        session.warn(f"not installing {' '.join(missing)}: needs root and apt-get; what needs them is skipped")
        return
    session.run("apt-get", "update", "-qq", external=True)
    session.run(
        "apt-get",
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        *missing,
        external=True,
        env={"DEBIAN_FRONTEND": "noninteractive"},
    )


def _find(session: nox.Session, name: str) -> str | None:
    """The command of interpreter ``name``, found by the kit's own discovery, or None."""
    output = session.run(
        "python", "-m", "rckit.conformance.environments.discovery", "--find", name, silent=True, success_codes=[0, 3]
    )
    command = str(output or "").strip().splitlines()
    return command[-1] if command and not command[-1].endswith("not installed here") else None


@nox.session
def tests(session: nox.Session) -> None:
    """The kit's own tests (unit, differential, stubtest, probes, the suite on broken candidates)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) over everything; mypy --strict over the packages, tests, benchmarks, the
    fuzzer and this file."""
    session.install("-e", ".[lint]", "nox")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # The four top-level folders are installed as rckit.*; give mypy the same view.
    shutil.rmtree(PACKAGES, ignore_errors=True)
    (PACKAGES / "rckit").mkdir(parents=True)
    for part in ("spec", "reference", "platforms", "conformance"):
        (PACKAGES / "rckit" / part).symlink_to(ROOT / part)
    (PACKAGES / "rckit" / "__main__.py").symlink_to(ROOT / "rckit" / "__main__.py")  # python -m rckit
    packages = [arg for part in ("spec", "reference", "platforms", "conformance") for arg in ("-p", f"rckit.{part}")]
    packages += ["-m", "rckit.__main__"]
    session.run("mypy", *packages, env={"MYPYPATH": str(PACKAGES)})
    session.run("mypy", "tests", "benchmarks", "fuzz", "mutation", "noxfile.py", env={"MYPYPATH": str(PACKAGES)})


@nox.session
@nox.parametrize("interpreter", INTERPRETERS, ids=INTERPRETERS)
def conformance(session: nox.Session, interpreter: str) -> None:
    """Judge one interpreter's resource module and (3.8+) the reference; host means in-process."""
    session.install("-e", ".")
    if interpreter == "pypy3.9":
        _apt_install(session, "pypy3")
    report = f"reports/{interpreter}"
    if interpreter == "host":
        session.run("python", "-m", "rckit.conformance", "--report", report, *session.posargs)
        return
    command = _find(session, interpreter)
    if command is None:
        session.skip(f"{interpreter} is not installed on this machine")
    # The CLI judges the C module, and the reference where the version supports it.
    session.run("python", "-m", "rckit.conformance", "--python", command, "--report", report, *session.posargs)


@nox.session
def matrix(session: nox.Session) -> None:
    """Every interpreter found here, each with its C module and (3.8+) the reference, one report."""
    session.install("-e", ".")
    _apt_install(session, "pypy3")
    session.run("python", "-m", "rckit.conformance", "--all-interpreters", "--report", "reports/matrix", *session.posargs)


@nox.session
@nox.parametrize("name", CHROOTS, ids=CHROOTS)
def chroot(session: nox.Session, name: str) -> None:
    """Build (or reuse) a Debian chroot and judge the resource module and the reference in each of
    its interpreters: a release chroot (sid: CPython 3.13-3.15, debug builds, PyPy 3.11) or an
    architecture chroot, whose platform entry the C probe checks first and whose reference the
    differential test then compares with the chroot's own C module."""
    session.install("-e", ".[test]")
    if os.geteuid() != 0:
        session.skip("building and entering chroots needs root")
    # What this chroot needs here (its cross compiler and C library for the probe and the
    # fault-injection library; qemu-user where it is emulated), as the platform data names it.
    needed = str(
        session.run("python", "-m", "rckit.conformance.environments.chroots", "packages", name, silent=True) or ""
    ).split()
    _apt_install(session, *needed)
    session.run("python", "-m", "rckit.conformance.environments.chroots", "build", name)
    if name in ARCHES:
        session.run("python", "-m", "rckit.conformance.environments.chroots", "probe", name)
    session.run("python", "-m", "rckit.conformance", "--chroot", name, "--report", f"reports/chroot-{name}", *session.posargs)
    if name in ARCHES:
        others = [other for other in ARCHES if other != name and other.startswith(name)]
        only = " and ".join([f"chroot-{name}", *(f"not chroot-{other}" for other in others)])
        session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_reference_differential.py", "-k", only)


@nox.session
def build_chroots(session: nox.Session) -> None:
    """Build the release chroots CI uses (sid), so that the kit's own tests judge the reference
    against every Python in them; a machine that cannot (no root, no network) is told why."""
    session.install("-e", ".")
    if os.geteuid() != 0:
        session.skip("building chroots needs root; the tests that use them skip with the reason")
    _apt_install(session, "debootstrap")
    session.run("python", "-m", "rckit.conformance.environments.chroots", "build", "--ci")


@nox.session
def atlas(session: nox.Session) -> None:
    """The atlas: of the reports matching the globs after --, into atlas.html; without them, of the
    example report into docs/atlas.html with the screenshot docs/atlas.png (headless Chromium)."""
    session.install("-e", ".[test]")
    if session.posargs:
        reports = sorted({str(p) for pattern in session.posargs for p in glob.glob(pattern, recursive=True)})
        if not reports:
            session.error(f"no report matches {session.posargs}")
        session.run("python", "-m", "rckit.conformance", "atlas", *reports, "-o", "atlas.html")
        return
    session.run("python", "-m", "rckit.conformance", "atlas", "docs/example-report.json", "-o", "docs/atlas.html")
    _apt_install(session, "chromium", "chromium-driver")
    session.run("python", "-m", "tests.browser", "docs/atlas.html", "docs/atlas.png")


@nox.session
def fuzz(session: nox.Session) -> None:
    """100,000 arbitrary inputs through every public function of the reference, each compared
    with the C module of this interpreter (not part of the default run; figures in docs/performance.md).
    Arguments after -- go to fuzz/fuzz_reference.py (--inputs N, --seed S)."""
    session.install("-e", ".")
    session.run("python", "fuzz/fuzz_reference.py", *session.posargs)


@nox.session
def mutation(session: nox.Session) -> None:
    """Every mutant of reference/ (cosmic-ray) against the differential test and the suite, in
    copies of the repository (not part of the default run; hours). Writes mutation/results.json.
    Arguments after -- go to mutation/run_mutation.py (--workers N, --modules FILE...)."""
    session.install("cosmic-ray")
    session.run("python", "mutation/run_mutation.py", *session.posargs)


@nox.session(name="suite-mutation")
def suite_mutation(session: nox.Session) -> None:
    """The conformance suite judged by mutants of reference/: each mutant the differential test
    kills is judged as a candidate by the suite (quick, then default profile), in copies of the
    repository (not part of the default run; an hour or more). Writes mutation/suite-results.json.
    Arguments after -- go to mutation/suite_campaign.py (--sample N, --workers N, --classify,
    --rejudge)."""
    session.install("-e", ".[test]", "cosmic-ray")  # --classify runs the differential test here
    session.run("python", "mutation/suite_campaign.py", *session.posargs)


@nox.session
def benchmark(session: nox.Session) -> None:
    """ns per call of the reference against the C module, measured in the same process, on every
    interpreter found (CPython 3.8-3.13, PyPy)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench.py", "--all-interpreters", *session.posargs)
