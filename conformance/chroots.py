"""Chroot candidates: Debian chroots built with debootstrap and entered with a private /proc.

Two kinds, both cached under ``$RCKIT_CHROOT_CACHE`` (default /var/cache/rckit/chroots/<name>):

* an **architecture** chroot (i386, arm64, s390x, ...): Debian's python3 of a foreign
  architecture, run natively (i386 on x86_64) or under qemu-user. Which Debian architecture and
  qemu binary belong to which platform entry is platform data (``toolchain`` in targets.json).
* a **release** chroot (sid, forky, trixie): a Debian release of this machine's own architecture
  with several interpreters installed (platforms/data/debian-releases.json); every python3.N,
  python3.Nd and pypy3 in it is a candidate.

    python -m rckit.conformance.chroots build sid arm64    # once; reused while cached (--ci: CI's)
    python -m rckit.conformance.chroots list
    python -m rckit.conformance.chroots interpreters sid   # the --python commands inside
    python -m rckit.conformance.chroots enter DIR -- python3 ...   (as the harness starts agents)
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

from rckit.conformance.containment import contained_argv
from rckit.platforms import DebianRelease, Target, debian_releases, targets

__all__ = [
    "CACHE",
    "build",
    "chroot_names",
    "chroot_python",
    "ensure_binfmt",
    "enter_argv",
    "interpreters",
    "is_built",
    "main",
    "release",
    "target_for_arch",
]

CACHE = Path(os.environ.get("RCKIT_CHROOT_CACHE", "/var/cache/rckit/chroots"))
SUITE = os.environ.get("RCKIT_DEBIAN_SUITE", "bookworm")
MIRROR = os.environ.get("RCKIT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MARKER = ".rckit-chroot.json"
BINFMT = Path("/proc/sys/fs/binfmt_misc")
SCRIPTS = Path("/usr/share/debootstrap/scripts")
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
    arches = sorted({a for t in targets().values() if (a := t.toolchain.get("debian_arch"))})
    return [*debian_releases(), *arches]


def target_for_arch(arch: str) -> Target:
    """The platform entry whose Debian architecture is ``arch`` (KeyError names the choices)."""
    found = {t.toolchain.get("debian_arch"): t for t in targets().values() if t.toolchain.get("debian_arch")}
    if arch not in found:
        raise KeyError(f"no platform entry for Debian architecture {arch!r}; known: {sorted(a for a in found if a)}")
    return found[arch]


def chroot_dir(name: str) -> Path:
    """Where the chroot ``name`` (an architecture or a release) lives, built or not."""
    return CACHE / name


def is_built(name: str) -> bool:
    """The chroot exists and finished building."""
    return (chroot_dir(name) / MARKER).is_file()


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


def ensure_binfmt(target: Target) -> None:
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
    marker = _build_release(wanted, partial) if wanted is not None else _build_arch(name, partial)
    (partial / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
    shutil.rmtree(directory, ignore_errors=True)
    partial.rename(directory)
    return directory


def _build_arch(arch: str, partial: Path) -> dict[str, object]:
    """A minimal Debian chroot of ``arch`` with python3 (two debootstrap stages, the second one
    run by the foreign architecture's own binaries)."""
    target = target_for_arch(arch)
    ensure_binfmt(target)
    subprocess.run(
        ["debootstrap", f"--arch={arch}", "--foreign", "--variant=minbase", "--include=python3", SUITE, str(partial), MIRROR],
        check=True,
    )
    subprocess.run(["chroot", str(partial), "/debootstrap/debootstrap", "--second-stage"], check=True)
    return {"arch": arch, "suite": SUITE, "target": target.id}


def _build_release(wanted: DebianRelease, partial: Path) -> dict[str, object]:
    """A chroot of Debian ``wanted.suite`` for this machine's architecture with its packages."""
    script = SCRIPTS / wanted.suite
    if not script.exists():  # an older debootstrap does not know newer suites by name
        script = SCRIPTS / wanted.script
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
    ``unshare``), else a plain chroot (see rckit.conformance.containment)."""
    return contained_argv(command, root)


def _probe(arch: str) -> int:
    if release(arch) is not None:
        print(f"{arch}: a release chroot of this machine's own architecture; nothing to probe")
        return 0
    from rckit.conformance.toolchain import for_target
    from rckit.platforms.cprobe import build_and_run, compare

    target = target_for_arch(arch)
    toolchain = for_target(target)
    if toolchain is None:
        print(f"{arch}: no cross compiler or qemu for {target.id} here ({target.toolchain})")
        return 1
    problems = compare(target, build_and_run(target, toolchain.cc, toolchain.static, toolchain.run_prefix))
    for problem in problems:
        print(f"{target.id}: {problem}")
    print(f"{arch} ({target.id}): {'agrees with the C headers' if not problems else f'{len(problems)} difference(s)'}")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build, list, probe or enter chroots, or list a chroot's interpreters."""
    parser = argparse.ArgumentParser(prog="python -m rckit.conformance.chroots", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build (or reuse) chroots: Debian releases (sid, ...) or architectures (arm64, ...)")
    build_cmd.add_argument("name", nargs="*", help=f"one of {', '.join(chroot_names())}")
    build_cmd.add_argument("--ci", action="store_true", help="also every release chroot the CI job uses (sid)")
    build_cmd.add_argument("--force", action="store_true", help="rebuild even if cached")
    probe = sub.add_parser("probe", help="check an architecture's platform entry with the C probe (cross compiler + qemu)")
    probe.add_argument("arch", nargs="+")
    sub.add_parser("list", help="show which chroots are built")
    found = sub.add_parser("interpreters", help="print the --python command of every interpreter in a built chroot")
    found.add_argument("name")
    enter = sub.add_parser("enter", help="run a command inside a chroot under a warden (own PID namespace and /proc)")
    enter.add_argument("root")
    enter.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "build":
        names = [*args.name, *(r.name for r in debian_releases().values() if args.ci and r.name not in args.name and r.ci)]
        unknown = [name for name in names if name not in chroot_names()]
        if unknown or not names:
            parser.error(f"build: unknown chroot {unknown}" if unknown else "build: name a chroot, or give --ci")
        for name in names:
            print(f"{name}: {build(name, args.force)}")
    elif args.command == "probe":
        return max(_probe(arch) for arch in args.arch)
    elif args.command == "list":
        for name in chroot_names():
            kind = "release" if release(name) else "arch"
            print(f"{name:10} {kind:8} {'built' if is_built(name) else 'not built':10} {chroot_dir(name)}")
    elif args.command == "interpreters":
        if not is_built(args.name):
            print(f"{args.name} is not built (python -m rckit.conformance.chroots build {args.name})", file=sys.stderr)
            return 3
        print("\n".join(interpreters(args.name)))
    else:
        command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        argv = enter_argv(args.root, command)
        os.execvp(argv[0], argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
