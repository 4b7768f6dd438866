"""Foreign-architecture candidates: Debian chroots built with debootstrap, run natively (i386 on
x86_64) or under qemu-user (arm64, s390x, ...), and entered with a private /proc.

    python -m rckit.conformance.chroots build arm64      # once; cached in $RCKIT_CHROOT_CACHE
    python -m rckit.conformance.chroots list
    python -m rckit.conformance.chroots enter DIR -- python3 ...   (used by the harness)

A chroot is cached under ``$RCKIT_CHROOT_CACHE`` (default /var/cache/rckit/chroots/<arch>) and
reused while its marker file exists. Which Debian architecture and qemu binary belong to which
platform entry is platform data (``toolchain`` in platforms/data/targets.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rckit.platforms import Target, targets

__all__ = ["CACHE", "build", "chroot_python", "ensure_binfmt", "enter_argv", "main", "target_for_arch"]

CACHE = Path(os.environ.get("RCKIT_CHROOT_CACHE", "/var/cache/rckit/chroots"))
SUITE = os.environ.get("RCKIT_DEBIAN_SUITE", "bookworm")
MIRROR = os.environ.get("RCKIT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MARKER = ".rckit-chroot.json"
BINFMT = Path("/proc/sys/fs/binfmt_misc")


def target_for_arch(arch: str) -> Target:
    """The platform entry whose Debian architecture is ``arch`` (KeyError names the choices)."""
    found = {t.toolchain.get("debian_arch"): t for t in targets().values() if t.toolchain.get("debian_arch")}
    if arch not in found:
        raise KeyError(f"no platform entry for Debian architecture {arch!r}; known: {sorted(a for a in found if a)}")
    return found[arch]


def chroot_dir(arch: str) -> Path:
    """Where the chroot for ``arch`` lives (whether or not it is built)."""
    return CACHE / arch


def is_built(arch: str) -> bool:
    """The chroot exists and finished building."""
    return (chroot_dir(arch) / MARKER).is_file()


def chroot_python(arch: str) -> str:
    """The --python command for the chroot's interpreter."""
    return f"chroot {chroot_dir(arch)} /usr/bin/python3"


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


def build(arch: str, force: bool = False) -> Path:
    """Build (or reuse) a minimal Debian chroot with python3 for ``arch``; returns its directory."""
    directory = chroot_dir(arch)
    if is_built(arch) and not force:
        return directory
    target = target_for_arch(arch)
    ensure_binfmt(target)
    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["debootstrap", f"--arch={arch}", "--foreign", "--variant=minbase", "--include=python3", SUITE, str(partial), MIRROR],
        check=True,
    )
    subprocess.run(["chroot", str(partial), "/debootstrap/debootstrap", "--second-stage"], check=True)
    (partial / MARKER).write_text(json.dumps({"arch": arch, "suite": SUITE, "target": target.id}) + "\n")
    shutil.rmtree(directory, ignore_errors=True)
    partial.rename(directory)
    return directory


def enter_argv(root: str, command: Sequence[str]) -> list[str]:
    """The command line that runs ``command`` inside ``root`` with a private /proc mounted.

    It uses a private mount namespace (util-linux ``unshare``) so the /proc mount disappears with
    the process; without ``unshare`` or root it falls back to a plain chroot (no /proc)."""
    if os.geteuid() == 0 and shutil.which("unshare"):
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            "-m",
            "rckit.conformance.chroots",
            "enter",
            root,
            "--",
            *command,
        ]
    return ["chroot", root, *command]


def _enter(root: str, command: list[str]) -> None:
    proc = Path(root) / "proc"
    if proc.is_dir() and not (proc / "self").exists():
        subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=False)
    os.chroot(root)
    os.chdir("/")
    os.execvp(command[0], command)


def _probe(arch: str) -> int:
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
    """Command line: build, list or enter chroots."""
    parser = argparse.ArgumentParser(prog="python -m rckit.conformance.chroots", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build (or reuse) the chroot of one or more Debian architectures")
    build_cmd.add_argument("arch", nargs="+")
    build_cmd.add_argument("--force", action="store_true", help="rebuild even if cached")
    probe = sub.add_parser("probe", help="check an architecture's platform entry with the C probe (cross compiler + qemu)")
    probe.add_argument("arch", nargs="+")
    sub.add_parser("list", help="show which chroots are built")
    enter = sub.add_parser("enter", help="run a command inside a chroot with a private /proc")
    enter.add_argument("root")
    enter.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "build":
        for arch in args.arch:
            print(f"{arch}: {build(arch, args.force)}")
    elif args.command == "probe":
        return max(_probe(arch) for arch in args.arch)
    elif args.command == "list":
        for arch in sorted({a for t in targets().values() if (a := t.toolchain.get("debian_arch"))}):
            print(f"{arch:10} {'built' if is_built(arch) else 'not built':10} {chroot_dir(arch)}")
    else:
        command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        _enter(args.root, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
