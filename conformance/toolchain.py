"""C toolchains for a candidate's platform: compile the probe (and the fault-injection library)
with the host's ``cc`` for the host's own platform, or with the Debian cross compiler and qemu
that the platform entry names (``toolchain`` in platforms/data/targets.json)."""

from __future__ import annotations

import shutil
from functools import cache
from typing import Any

from rckit.conformance.candidates import Info
from rckit.platforms import Target, current
from rckit.platforms.cprobe import build_and_run

__all__ = ["Toolchain", "for_target", "probe_for"]


class Toolchain:
    """How to build for and run on one platform entry."""

    def __init__(self, cc: list[str], static: bool, run_prefix: list[str]) -> None:
        self.cc, self.static, self.run_prefix = cc, static, run_prefix


def for_target(target: Target) -> Toolchain | None:
    """The toolchain for ``target`` on this machine, or None if none is installed."""
    if target.id == current().id and shutil.which("cc"):
        return Toolchain(["cc"], False, [])
    triplet, emulator = target.toolchain.get("triplet"), target.toolchain.get("qemu")
    compiler = shutil.which(f"{triplet}-gcc") if triplet else None
    if compiler is None:
        return None
    if emulator and not shutil.which(emulator):
        return None
    return Toolchain([compiler], True, [emulator] if emulator else [])


@cache
def _probe(target_id: str) -> dict[str, Any] | None:
    from rckit.platforms import targets

    target = targets()[target_id]
    toolchain = for_target(target)
    if toolchain is None:
        return None
    outputs = build_and_run(target, toolchain.cc, toolchain.static, toolchain.run_prefix)
    return outputs[target.rlimit.cflags]


def probe_for(info: Info) -> dict[str, Any] | None:
    """The C probe's output for the candidate's platform (cached), or None without a toolchain."""
    if info.target is None:
        return None
    return _probe(info.target.id)
