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
from typing import Any

from rckit.conformance.candidates import Info
from rckit.platforms import Target, current
from rckit.platforms.cprobe import build_and_run

__all__ = ["INJECT_SOURCE", "Toolchain", "for_target", "inject_library_for", "probe_for"]

INJECT_SOURCE = Path(__file__).resolve().parent / "c" / "inject.c"


class Toolchain:
    """How to build for and run on one platform entry."""

    def __init__(self, cc: list[str], static: bool, run_prefix: list[str]) -> None:
        self.cc, self.static, self.run_prefix = cc, static, run_prefix


def for_target(target: Target, triplet: str | None = None) -> Toolchain | None:
    """The toolchain for ``target`` on this machine, or None if none is installed. ``triplet``
    names another Debian cross compiler for the same entry (armel's arm-linux-gnueabi for armhf's)."""
    if target.id == current().id and shutil.which("cc") and triplet is None:
        return Toolchain(["cc"], False, [])
    data = dict(target.toolchain, triplet=triplet) if triplet else target.toolchain
    command = data.get("cc") or (f"{data['triplet']}-gcc" if "triplet" in data else None)
    compiler = shutil.which(command) if command else None
    emulator = shlex.split(data.get("qemu", ""))
    if compiler is None or (emulator and not shutil.which(emulator[0])):
        return None
    return Toolchain([compiler], bool(data.get("static", True)), emulator)


def _triplet(info: Info) -> str | None:
    """The candidate's own Debian multiarch triplet where it has a cross compiler of its own and
    is not its platform entry's (armel's arm-linux-gnueabi under the armhf entry: a library
    built for the hard-float ABI is refused by an armel interpreter's loader)."""
    multiarch = str(info.raw["platform"].get("multiarch") or "")
    if info.target is None or not multiarch or multiarch == info.target.toolchain.get("triplet"):
        return None
    return multiarch if shutil.which(f"{multiarch}-gcc") else None


@cache
def _probe(target_id: str, triplet: str | None = None) -> dict[str, Any] | None:
    from rckit.platforms import targets

    target = targets()[target_id]
    toolchain = for_target(target, triplet)
    if toolchain is None:
        return None
    outputs = build_and_run(target, toolchain.cc, toolchain.static, toolchain.run_prefix)
    return outputs[target.rlimit.cflags]


def probe_for(info: Info) -> dict[str, Any] | None:
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


def inject_library_for(info: Info) -> Path | None:
    """The fault-injection library built for the candidate's platform (cached), or None."""
    if info.target is None:
        return None
    return _inject_library(info.target.id, _triplet(info))
