"""C toolchains for a candidate's platform: compile the probe (and the fault-injection library)
with the host's ``cc`` for the host's own platform, or with the Debian cross compiler and qemu
that the platform entry names (``toolchain`` in platforms/data/targets.json)."""

from __future__ import annotations

import atexit
import shlex
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from rckit.platforms import Target, current
from rckit.platforms.cprobe import build_and_run

__all__ = [
    "INJECT_SOURCE",
    "PACKAGES",
    "Toolchain",
    "for_target",
    "inject_library_for",
    "missing",
    "missing_for",
    "package_of",
    "probe_for",
]

INJECT_SOURCE = Path(__file__).resolve().parent / "c" / "inject.c"


class Described(Protocol):
    """What the ``*_for`` functions read of a candidate (rckit.conformance.harness.info.Info): its
    platform entry, the id of its platform, and its description (for its multiarch triplet)."""

    @property
    def target(self) -> Target | None: ...

    @property
    def platform_id(self) -> str: ...

    @property
    def raw(self) -> dict[str, Any]: ...


class Toolchain:
    """How to build for and run on one platform entry."""

    def __init__(self, cc: list[str], static: bool, run_prefix: list[str]) -> None:
        self.cc, self.static, self.run_prefix = cc, static, run_prefix


#: The Debian packages of the compiler commands platform entries name by themselves (a cross
#: compiler TRIPLET-gcc is package gcc-TRIPLET; qemu-ARCH-static is qemu-user-static).
PACKAGES = {"cc": "gcc", "musl-gcc": "musl-tools"}


def _native(target: Target, triplet: str | None) -> bool:
    """``target`` is this machine's own platform entry, built for with its own ``cc``."""
    return target.id == current().id and triplet is None


def _data(target: Target, triplet: str | None) -> dict[str, Any]:
    """The entry's toolchain data, with ``triplet`` for its cross compiler if given."""
    return dict(target.toolchain, triplet=triplet) if triplet else dict(target.toolchain)


def _compiler_command(data: dict[str, Any]) -> str | None:
    """The compiler the toolchain data names: its ``cc``, or its triplet's gcc."""
    return data.get("cc") or (f"{data['triplet']}-gcc" if "triplet" in data else None)


def for_target(target: Target, triplet: str | None = None) -> Toolchain | None:
    """The toolchain for ``target`` on this machine, or None if none is installed (``missing``
    says what is not). ``triplet`` names another Debian cross compiler for the same entry
    (armel's arm-linux-gnueabi for armhf's)."""
    if _native(target, triplet) and shutil.which("cc"):
        return Toolchain(["cc"], False, [])
    data = _data(target, triplet)
    command = _compiler_command(data)
    compiler = shutil.which(command) if command else None
    emulator = shlex.split(data.get("qemu", ""))
    if compiler is None or (emulator and not shutil.which(emulator[0])):
        return None
    return Toolchain([compiler], bool(data.get("static", True)), emulator)


def package_of(command: str, native: bool = False) -> str:
    """The Debian package that brings ``command``: gcc for this machine's own compiler (cc, or
    its triplet's gcc), gcc-TRIPLET for a cross compiler TRIPLET-gcc, qemu-user-static for a
    qemu-user emulator."""
    if native:
        return "gcc"
    if command in PACKAGES:
        return PACKAGES[command]
    if command.startswith("qemu-"):
        return "qemu-user-static"
    if command.endswith("-gcc"):
        return "gcc-" + command.removesuffix("-gcc").replace("_", "-")
    return command


def missing(target: Target, triplet: str | None = None) -> list[str]:
    """What ``for_target`` lacks on this machine for ``target``: each command that is not on
    PATH, with the Debian package that brings it (empty when there is a toolchain)."""
    if for_target(target, triplet) is not None:
        return []
    native = _native(target, triplet)
    data = _data(target, triplet)
    command = _compiler_command(data)
    compilers = ["cc"] if native else []
    compilers += [command] if command and command not in compilers else []
    if not compilers:
        return [f"{target.id} names no compiler (its toolchain in platforms/data/targets.json)"]
    problems = []
    if not any(shutil.which(command) for command in compilers):
        package = package_of(compilers[-1], native)
        named = f"neither {compilers[0]} nor {compilers[1]} is" if len(compilers) > 1 else f"{compilers[0]} is not"
        problems.append(f"{named} on PATH (Debian: apt-get install {package})")
    emulator = shlex.split(data.get("qemu", ""))[:1]
    problems += [f"{e} is not on PATH (Debian: apt-get install {package_of(e)})" for e in emulator if not shutil.which(e)]
    return problems


def _own_triplet(info: Described) -> str | None:
    """The candidate's own Debian multiarch triplet where it is not its platform entry's
    (armel's arm-linux-gnueabi under the armhf entry: a library built for the hard-float ABI is
    refused by an armel interpreter's loader)."""
    multiarch = str(info.raw["platform"].get("multiarch") or "")
    if info.target is None or not multiarch or multiarch == info.target.toolchain.get("triplet"):
        return None
    return multiarch


def _triplet(info: Described) -> str | None:
    """The candidate's own triplet (``_own_triplet``) where its cross compiler is installed."""
    own = _own_triplet(info)
    return own if own and shutil.which(f"{own}-gcc") else None


@cache
def _probe(target_id: str, triplet: str | None = None) -> dict[str, Any] | None:
    from rckit.platforms import targets

    target = targets()[target_id]
    toolchain = for_target(target, triplet)
    if toolchain is None:
        return None
    outputs = build_and_run(target, toolchain.cc, toolchain.static, toolchain.run_prefix)
    return outputs[target.rlimit.cflags]


def probe_for(info: Described) -> dict[str, Any] | None:
    """The C probe's output for the candidate's platform (cached), or None without a toolchain."""
    if info.target is None:
        return None
    return _probe(info.target.id, _triplet(info))


@cache
def _inject_library(target_id: str, triplet: str | None = None) -> Path | None:
    from rckit.platforms import targets

    toolchain = for_target(targets()[target_id], triplet)
    if toolchain is None:
        return None
    output = Path(tempfile.mkdtemp(prefix="rckit-inject-")) / "inject.so"
    atexit.register(shutil.rmtree, output.parent, True)  # built once per process, gone with it
    command = [*toolchain.cc, "-shared", "-fPIC", "-o", str(output), str(INJECT_SOURCE), "-ldl"]
    built = subprocess.run(command, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise RuntimeError(f"inject.c did not compile with {command}: {built.stderr}")
    return output


def inject_library_for(info: Described) -> Path | None:
    """The fault-injection library built for the candidate's platform (cached), or None when
    there is no compiler for it here (``missing_for`` says what to install)."""
    if info.target is None:
        return None
    return _inject_library(info.target.id, _triplet(info))


def missing_for(info: Described) -> str:
    """Why ``inject_library_for`` has no library for the candidate: the compiler (and emulator)
    missing here, each with the Debian package that brings it; empty when it has one."""
    if info.target is None:
        return f"{info.platform_id} has no toolchain in platforms/data/targets.json"
    if for_target(info.target, _triplet(info)) is not None:
        return ""
    return "; ".join(missing(info.target, _own_triplet(info)))
