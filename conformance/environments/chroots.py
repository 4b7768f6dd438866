"""Chroot candidates: Debian chroots built with mmdebstrap or debootstrap and entered with a private /proc.

Two kinds, both cached under ``$RCKIT_CHROOT_CACHE`` (default /var/cache/rckit/chroots/<name>):

* an **architecture** chroot (i386, arm64, armhf, armhf-bookworm, ...): Debian's python3 of a
  foreign architecture and release, run natively (i386 on x86_64) or under qemu-user. Which Debian
  architecture and release each is, and which platform entry it runs, is platform data
  (platforms/data/debian-architectures.json); the qemu binary is the entry's (targets.json).
* a **release** chroot (sid, forky, trixie): a Debian release of this machine's own architecture
  with several interpreters installed (platforms/data/debian-releases.json); every python3.N,
  python3.Nd and pypy3 in it is a candidate.

    python -m rckit.conformance chroots build sid arm64    # once; reused while cached (--ci: CI's)
    python -m rckit.conformance chroots list
    python -m rckit.conformance chroots interpreters sid   # the --python commands inside
    python -m rckit.conformance chroots enter DIR -- python3 ...   (as the harness starts agents)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rckit.conformance.environments.containment import contained_argv
from rckit.platforms import DebianArchitecture, DebianRelease, Target, debian_architectures, debian_releases, targets

__all__ = [
    "CACHE",
    "architecture",
    "build",
    "chroot_names",
    "chroot_python",
    "enter_argv",
    "interpreters",
    "is_built",
    "main",
    "release",
    "target_for_arch",
]

CACHE = Path(os.environ.get("RCKIT_CHROOT_CACHE", "/var/cache/rckit/chroots"))
MIRROR = os.environ.get("RCKIT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MARKER = ".rckit-chroot.json"
BINFMT = Path("/proc/sys/fs/binfmt_misc")
SCRIPTS = Path("/usr/share/debootstrap/scripts")
#: mmdebstrap's hooks that make /bin, /lib and /sbin links into /usr, as debootstrap does.
MERGED_USR_HOOKS = Path("/usr/share/mmdebstrap/hooks/merged-usr")
#: What an architecture chroot holds: the interpreter, and sh (a user the kit drops to may not be
#: allowed to run the interpreter; the agent asks sh then).
ARCH_PACKAGES = ("python3", "dash")
#: The interpreters of a release chroot: CPython (release and debug builds) and PyPy.
INTERPRETER_NAME = re.compile(r"^(python3\.\d+d?|pypy3)$")
#: apt inside a release chroot. A mirror may serve a Release file past its Valid-Until date (a
#: snapshot of sid is stale within a day); the packages are still signed, so only the date check
#: is relaxed.
APT = ["apt-get", "-o", "Acquire::Check-Valid-Until=false", "-o", "APT::Install-Recommends=false"]


def release(name: str) -> DebianRelease | None:
    """The Debian release chroot called ``name``, or None if ``name`` is an architecture."""
    return debian_releases().get(name)


def chroot_names() -> list[str]:
    """Every chroot the kit knows how to build: the release names, then the architectures."""
    return [*debian_releases(), *debian_architectures()]


def architecture(name: str) -> DebianArchitecture:
    """The architecture chroot called ``name`` (KeyError names the choices)."""
    found = debian_architectures()
    if name not in found:
        raise KeyError(f"no architecture chroot {name!r}; known: {sorted(found)}")
    return found[name]


def target_for_arch(name: str) -> Target:
    """The platform entry that the architecture chroot ``name`` runs (KeyError names the choices)."""
    return targets()[architecture(name).target]


def chroot_dir(name: str) -> Path:
    """Where the chroot ``name`` (an architecture or a release) lives, built or not."""
    return CACHE / name


def is_built(name: str) -> bool:
    """The chroot exists and finished building (an architecture chroot: of the release its entry
    names now; one left from another release is rebuilt)."""
    marker = chroot_dir(name) / MARKER
    if not marker.is_file():
        return False
    return release(name) is not None or json.loads(marker.read_text()).get("suite") in architecture(name).suites


def chroot_python(arch: str) -> str:
    """The --python command for an architecture chroot's interpreter."""
    return f"chroot {chroot_dir(arch)} /usr/bin/python3"


def interpreters(name: str) -> list[str]:
    """The --python commands of a built chroot: its python3 for an architecture chroot; every
    python3.N, python3.Nd and pypy3 for a release chroot (sorted: CPython, then PyPy)."""
    if release(name) is None:
        return [chroot_python(name)]
    return [f"chroot {chroot_dir(name)} /usr/bin/{exe}" for exe in _interpreter_names(chroot_dir(name))]


def _interpreter_names(root: Path) -> list[str]:
    """The interpreters in ``root``/usr/bin: CPythons by version (python3.9 before python3.13),
    each release build before its debug build, then PyPy."""
    names = [p.name for p in (root / "usr" / "bin").iterdir() if INTERPRETER_NAME.match(p.name)]

    def order(exe: str) -> tuple[bool, list[int | str]]:
        return exe.startswith("pypy"), [int(n) if n.isdigit() else n for n in re.split(r"(\d+)", exe)]

    return sorted(names, key=order)


def _ensure_binfmt(target: Target) -> None:
    """Make the kernel run the target's binaries through qemu-user (mounting binfmt_misc and
    enabling the qemu handler if needed). Nothing to do for natively runnable targets."""
    qemu = target.toolchain.get("qemu", "").split()
    if not qemu:
        return
    if not (BINFMT / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], check=True)
    handler = qemu[0].removesuffix("-static")
    if not (BINFMT / handler).exists() or "enabled" not in (BINFMT / handler).read_text():
        subprocess.run(["update-binfmts", "--enable", handler], check=True)


#: The Debian package of each program that building a chroot runs.
BUILD_TOOLS = {
    "debootstrap": "debootstrap",
    "mmdebstrap": "mmdebstrap",
    "update-binfmts": "binfmt-support",
    "chroot": "coreutils",
    "mount": "mount",
}


def _builder(name: str) -> str:
    """The program that builds chroot ``name``: debootstrap for a release (it installs with apt
    inside), mmdebstrap for an architecture (unpacked here, nothing emulated)."""
    return "debootstrap" if release(name) is not None else "mmdebstrap"


def _missing_tools(name: str) -> list[str]:
    """What building chroot ``name`` needs that this machine lacks, each with its Debian package:
    its builder and, for an architecture run under qemu-user, its emulator and update-binfmts."""
    needed = [_builder(name), "chroot"]
    if release(name) is None:
        qemu = target_for_arch(name).toolchain.get("qemu", "").split()
        if qemu:
            needed += [qemu[0], "update-binfmts", "mount"]
    return [
        f"{tool} (Debian: apt-get install {BUILD_TOOLS.get(tool, 'qemu-user-static')})"
        for tool in needed
        if not shutil.which(tool)
    ]


def packages(name: str) -> list[str]:
    """The Debian packages that building chroot ``name``, probing its platform entry and judging
    it need on this machine: its builder; for an architecture, also its cross compiler and C
    library (gcc-TRIPLET, libc6-dev-ARCH-cross: the probe and the fault-injection library) and,
    where it runs under qemu-user, qemu-user-static and binfmt-support."""
    needed = [BUILD_TOOLS[_builder(name)]]
    if release(name) is None:
        entry, toolchain = architecture(name), target_for_arch(name).toolchain
        triplet = entry.triplet or toolchain.get("triplet")
        if triplet:
            needed += [f"gcc-{triplet}", f"libc6-dev-{entry.arch}-cross"]
        if toolchain.get("qemu"):
            needed += ["qemu-user-static", "binfmt-support"]
    return needed


def build(name: str, force: bool = False) -> Path:
    """Build (or reuse) the chroot ``name``, an architecture or a Debian release; its directory."""
    directory = chroot_dir(name)
    if is_built(name) and not force:
        wanted = release(name)
        if wanted is not None:
            _top_up(wanted, directory)
        return directory
    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    wanted = release(name)
    try:
        marker = _build_release(wanted, partial) if wanted is not None else _build_arch(name, partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # nothing half-built is left behind
        raise
    (partial / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
    shutil.rmtree(directory, ignore_errors=True)
    partial.rename(directory)
    return directory


def _script(suite: str, fallback: str = "sid") -> Path:
    """debootstrap's script for ``suite``; an older debootstrap does not know newer suites by
    name, and those are bootstrapped like ``fallback``."""
    return SCRIPTS / suite if (SCRIPTS / suite).exists() else SCRIPTS / fallback


def _build_arch(name: str, partial: Path) -> dict[str, object]:
    """A chroot of an architecture holding its python3 (and sh), from the first of its releases
    the mirror serves whole. mmdebstrap's ``extract`` variant resolves, fetches and unpacks the
    packages with this machine's own apt and dpkg, and runs none of their maintainer scripts, so
    nothing runs under emulation while building. What those scripts would have made that the
    kit needs is made here: the merged-/usr links (mmdebstrap's merged-usr hook) and the /proc
    and /sys mount points."""
    entry = architecture(name)
    missed = []
    for suite in entry.suites:
        shutil.rmtree(partial, ignore_errors=True)
        fetched = subprocess.run(
            ["mmdebstrap", "--variant=extract", f"--include={','.join(ARCH_PACKAGES)}", f"--architectures={entry.arch}",
             "--mode=root", f"--hook-dir={MERGED_USR_HOOKS}", "--aptopt=Acquire::Check-Valid-Until false", suite,
             str(partial), MIRROR],
            check=False,
        )  # fmt: skip
        if fetched.returncode == 0:
            break
        missed.append(suite)
        print(f"{name}: mmdebstrap could not fetch {entry.arch} {suite} from {MIRROR}", file=sys.stderr)
    else:
        raise RuntimeError(f"the mirror {MIRROR} served none of {', '.join(entry.suites)} for {entry.arch} whole")
    for mount_point in ("proc", "sys"):
        (partial / mount_point).mkdir(mode=0o555, exist_ok=True)
    _ensure_binfmt(targets()[entry.target])
    done = subprocess.run(["chroot", str(partial), "/usr/bin/python3", "-c", "import sys; print(sys.version)"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the built chroot's python3 does not run: {done.stderr.strip()}")
    return {"arch": entry.arch, "suite": suite, "missed": missed, "target": entry.target, "packages": list(ARCH_PACKAGES),
            "interpreters": {"python3": done.stdout.strip().replace("\n", " ")}}  # fmt: skip


def _build_release(wanted: DebianRelease, partial: Path) -> dict[str, object]:
    """A chroot of Debian ``wanted.suite`` for this machine's architecture with its packages."""
    script = _script(wanted.suite, wanted.script)
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=python3", wanted.suite, str(partial), MIRROR, str(script)], check=True
    )
    shutil.copy("/etc/resolv.conf", partial / "etc" / "resolv.conf")
    inside = ["env", "DEBIAN_FRONTEND=noninteractive"]
    subprocess.run(enter_argv(str(partial), [*inside, *APT, "update", "-qq"]), check=True)
    subprocess.run(enter_argv(str(partial), [*inside, *APT, "install", "-y", "-qq", *wanted.packages]), check=True)
    subprocess.run(enter_argv(str(partial), [*inside, *APT, "clean"]), check=True)
    found = {}
    for exe in _interpreter_names(partial):
        done = subprocess.run(["chroot", str(partial), f"/usr/bin/{exe}", "-c", "import sys; print(sys.version)"],
                              capture_output=True, text=True, check=False)  # fmt: skip
        found[exe] = done.stdout.strip().replace("\n", " ")
    return {"release": wanted.name, "suite": wanted.suite, "packages": list(wanted.packages), "interpreters": found}


def _top_up(wanted: DebianRelease, directory: Path) -> None:
    """Install into a built release chroot the packages its entry gained since it was built (the
    documentation packages that spec citations are checked against, for instance)."""
    marker = json.loads((directory / MARKER).read_text())
    missing = [package for package in wanted.packages if package not in marker.get("packages", [])]
    if not missing:
        return
    inside = ["env", "DEBIAN_FRONTEND=noninteractive"]
    subprocess.run(enter_argv(str(directory), [*inside, *APT, "update", "-qq"]), check=True)
    subprocess.run(enter_argv(str(directory), [*inside, *APT, "install", "-y", "-qq", *missing]), check=True)
    subprocess.run(enter_argv(str(directory), [*inside, *APT, "clean"]), check=True)
    marker["packages"] = [*marker.get("packages", []), *missing]
    (directory / MARKER).write_text(json.dumps(marker, indent=1) + "\n")


def enter_argv(root: str, command: Sequence[str]) -> list[str]:
    """The command line that runs ``command`` inside ``root``, under a warden: in PID and mount
    namespaces of its own with a /proc of its own where the machine allows (root and util-linux
    ``unshare``), else a plain chroot (see rckit.conformance.environments.containment)."""
    return contained_argv(command, root)


def _probe(name: str) -> int:
    if release(name) is not None:
        print(f"{name}: a release chroot of this machine's own architecture; nothing to probe")
        return 0
    from rckit.conformance.environments.toolchain import for_target
    from rckit.platforms.cprobe import build_and_run, compare

    entry, target = architecture(name), target_for_arch(name)
    toolchain = for_target(target, entry.triplet)
    if toolchain is None:
        print(f"{name}: no cross compiler or qemu for {target.id} here ({entry.triplet or target.toolchain})")
        return 1
    problems = compare(target, build_and_run(target, toolchain.cc, toolchain.static, toolchain.run_prefix))
    for problem in problems:
        print(f"{target.id}: {problem}")
    print(f"{name} ({target.id}): {'agrees with the C headers' if not problems else f'{len(problems)} difference(s)'}")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build, list, probe or enter chroots, or list a chroot's interpreters."""
    parser = argparse.ArgumentParser(prog="python -m rckit.conformance chroots", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build (or reuse) chroots: Debian releases (sid, ...) or architectures (armhf, ...)")
    build_cmd.add_argument("name", nargs="*", help=f"one of {', '.join(chroot_names())}")
    build_cmd.add_argument("--ci", action="store_true", help="also every release chroot the CI job uses (sid)")
    build_cmd.add_argument("--force", action="store_true", help="rebuild even if cached")
    probe = sub.add_parser("probe", help="check an architecture's platform entry with the C probe (cross compiler + qemu)")
    probe.add_argument("arch", nargs="+", help="architecture chroot names (i386, arm64, armhf, ...)")
    sub.add_parser("list", help="show which chroots are built")
    needs = sub.add_parser("packages", help="the Debian packages building, probing and judging a chroot need here")
    needs.add_argument("name", nargs="+", help="chroot names")
    found = sub.add_parser("interpreters", help="print the --python command of every interpreter in a built chroot")
    found.add_argument("name", help="a built chroot")
    enter = sub.add_parser("enter", help="run a command inside a chroot under a warden (own PID namespace and /proc)")
    enter.add_argument("root", help="the chroot's directory")
    enter.add_argument("cmd", nargs=argparse.REMAINDER, help="the command to run inside (after --)")
    args = parser.parse_args(argv)
    if args.command == "build":
        names = [*args.name, *(r.name for r in debian_releases().values() if args.ci and r.name not in args.name and r.ci)]
        unknown = [name for name in names if name not in chroot_names()]
        if unknown or not names:
            parser.error(f"build: unknown chroot {unknown}" if unknown else "build: name a chroot, or give --ci")
        failed = []
        for name in names:
            lacking = [] if is_built(name) and not args.force else _missing_tools(name)
            if lacking:
                print(f"{name}: cannot build here, missing {'; '.join(lacking)}", file=sys.stderr)
                return 2
            try:
                print(f"{name}: {build(name, args.force)}")
            except (RuntimeError, subprocess.CalledProcessError) as error:
                print(f"{name}: not built: {error}", file=sys.stderr)
                failed.append(name)
        if failed:
            print(f"not built: {', '.join(failed)}", file=sys.stderr)
            return 1
    elif args.command == "probe":
        return max(_probe(arch) for arch in args.arch)
    elif args.command == "packages":
        print(" ".join(dict.fromkeys(package for name in args.name for package in packages(name))))
    elif args.command == "list":
        for name in chroot_names():
            kind = "release" if release(name) else f"{architecture(name).arch}/{'|'.join(architecture(name).suites)}"
            print(f"{name:15} {kind:17} {'built' if is_built(name) else 'not built':10} {chroot_dir(name)}")
    elif args.command == "interpreters":
        if not is_built(args.name):
            print(f"{args.name} is not built (python -m rckit.conformance chroots build {args.name})", file=sys.stderr)
            return 3
        print("\n".join(interpreters(args.name)))
    else:
        command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        argv = enter_argv(args.root, command)
        os.execvp(argv[0], argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
