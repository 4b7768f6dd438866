"""PAGESIZE.*"""

from __future__ import annotations

import pytest
from rckit.conformance.harness.candidates import Candidate

rule = pytest.mark.rule


@rule("PAGESIZE.SYSTEM_PAGE")
def test_pagesize_is_system_page(candidate: Candidate) -> None:
    """getpagesize() is a positive int equal to sysconf(SC_PAGESIZE) and mmap.PAGESIZE."""
    outcome = candidate.call("getpagesize")
    assert outcome.returned and type(outcome.value) is int and outcome.value > 0, f"getpagesize() {outcome}"
    info = candidate.info
    assert outcome.value == info.page_size, f"getpagesize() {outcome.value}, sysconf(SC_PAGESIZE) {info.page_size}"
    if info.mmap_page_size is not None:
        assert outcome.value == info.mmap_page_size, f"getpagesize() {outcome.value}, mmap.PAGESIZE {info.mmap_page_size}"
