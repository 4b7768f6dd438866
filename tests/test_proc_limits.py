"""/proc/<pid>/limits read by row name (rckit.conformance.support.proc_limits): every row this kernel
prints has a name the kit knows, and on this machine, whose resource numbers are the kernel's
own, reading by name gives exactly what reading by position did."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rckit.conformance.harness.candidates import AgentCandidate
from rckit.conformance.harness.specs import CandidateSpec
from rckit.conformance.support.proc_limits import ROW_NAMES, kernel_limits

pytestmark = pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="no /proc/self/limits here")


def test_every_row_of_this_kernel_has_a_known_name() -> None:
    rows = Path("/proc/self/limits").read_text().splitlines()[1:]
    assert {line[:26].strip() for line in rows} <= set(ROW_NAMES)


def test_rows_by_name_are_the_rows_by_position_where_the_numbering_is_the_kernels() -> None:
    candidate = AgentCandidate(CandidateSpec.parse("resource", sys.executable))
    try:
        info = candidate.info
        with candidate.isolated() as child:
            reply = child.act("proc_limits", pid="self")
    finally:
        candidate.close()
    by_position = {
        number: tuple(info.infinity if v is None else v for v in (soft, hard))
        for number, (_, soft, hard) in enumerate(reply["rows"])
    }
    assert kernel_limits(info, reply) == by_position
