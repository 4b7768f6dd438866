"""The reference's native layer on what this machine cannot show by running: the struct layouts of
every platform in platforms/ (gaps between fields, 32-bit counters, big-endian), a C library that
lacks an entry point, and calls made while every buffer of a free list is in use."""

from __future__ import annotations

import resource
import struct
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest
from rckit.platforms import Field, Struct, Target, targets
from rckit.reference import _api, _convert, _ffi_ctypes
from rckit.reference._ffi import RUSAGE_FIELDS, _format, rlimit_codecs, rusage_decoders

_INT_CODES = {4: "i", 8: "q"}


def _put(buffer: bytearray, byteorder: str, field: Field, value: int) -> None:
    """Write ``value`` as a signed C integer of the field's size at its offset."""
    struct.pack_into(("<" if byteorder == "little" else ">") + _INT_CODES[field.size], buffer, field.offset, value)


def _rusage_layouts() -> Iterator[tuple[str, Target, Struct]]:
    for target in targets().values():
        for variant in target.rusage:
            yield f"{target.id}:{variant.symbol}", target, variant.layout


RUSAGE_LAYOUTS = list(_rusage_layouts())


@pytest.mark.parametrize(("target", "layout"), [case[1:] for case in RUSAGE_LAYOUTS], ids=[case[0] for case in RUSAGE_LAYOUTS])
def test_rusage_decoders_read_each_field_at_its_offset(target: Target, layout: Struct) -> None:
    """A struct rusage whose every field holds a different value (the bytes between fields hold
    junk) decodes to those values, in the documented order, on every platform's layout."""
    buffer = bytearray(b"\xa5" * layout.size)  # padding that is read as a field shows up as junk
    timeval = layout.timeval
    assert timeval is not None
    expected: list[int] = []
    for number, name in enumerate(RUSAGE_FIELDS[:2]):
        base = layout.fields[name].offset
        for member, value in (("tv_sec", 1000 + number), ("tv_usec", 2000 + number)):
            inner = timeval.fields[member]
            _put(buffer, target.byteorder, Field(base + inner.offset, inner.size), value)
            expected.append(value)
    for number, name in enumerate(RUSAGE_FIELDS[2:]):
        _put(buffer, target.byteorder, layout.fields[name], 100 + number)
    times, counters, start = rusage_decoders(layout, target.byteorder)
    assert list(times.unpack_from(buffer)) == expected
    assert list(counters.unpack_from(buffer, start)) == [100 + n for n in range(len(RUSAGE_FIELDS) - 2)]


@pytest.mark.parametrize("target", list(targets().values()), ids=list(targets()))
def test_rlimit_codecs_put_soft_and_hard_where_the_layout_says(target: Target) -> None:
    """Packed limits land at rlim_cur's and rlim_max's offsets; read back signed, the largest
    rlim_t is -1, read unsigned it is itself."""
    layout, top = target.rlimit.layout, 2 ** (8 * target.rlimit.rlim_size) - 1
    pack, read_signed = rlimit_codecs(target, signed_reads=True)
    read_unsigned = rlimit_codecs(target, signed_reads=False)[1]
    data = pack.pack(5, top)
    assert len(data) == layout.size
    order: Literal["little", "big"] = "little" if target.byteorder == "little" else "big"
    cur, mx = layout.fields["rlim_cur"], layout.fields["rlim_max"]
    assert int.from_bytes(data[cur.offset : cur.offset + cur.size], order) == 5
    assert int.from_bytes(data[mx.offset : mx.offset + mx.size], order) == top
    assert read_signed.unpack(data) == (5, -1)
    assert read_unsigned.unpack(data) == (5, top)


def test_a_c_library_without_getrusage_is_named() -> None:
    """Binding a target whose getrusage entry points the C library lacks raises AttributeError
    naming them (the reference then cannot be imported on that platform, as CPython cannot build
    the module there)."""
    host = _api.TARGET
    missing = host._replace(rusage=tuple(v._replace(symbol="rckit_no_" + v.symbol) for v in host.rusage))
    with pytest.raises(AttributeError, match=r"the C library has none of \['rckit_no_"):
        _ffi_ctypes.load(missing)


@pytest.mark.parametrize("missing", [("getrlimit", "setrlimit"), ("setrlimit",)], ids=["both", "setrlimit"])
def test_a_c_library_without_getrlimit_or_setrlimit_is_named(missing: tuple[str, ...]) -> None:
    """The same when getrlimit, setrlimit or both are missing: the message names both symbols."""
    host = _api.TARGET
    symbols = dict(host.rlimit.symbols, **{name: "rckit_no_" + name for name in missing})
    target = host._replace(rlimit=host.rlimit._replace(symbols=symbols))
    with pytest.raises(AttributeError, match="the C library has no %s/%s$" % (symbols["getrlimit"], symbols["setrlimit"])):
        _ffi_ctypes.load(target)


class _Index:
    """An integer only through __index__: it sends each call down the slow (general) path."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


@pytest.fixture
def free_lists() -> Iterator[tuple[list[object], list[object]]]:
    """The reference's free lists of rlimit and rusage buffers, refilled as they were afterwards."""
    held_rl, held_ru = list(_api._rl_free), list(_api._ru_free)
    try:
        yield _api._rl_free, _api._ru_free
    finally:
        _api._rl_free[:], _api._ru_free[:] = held_rl, held_ru


READS: dict[str, Callable[[], Any]] = {
    "getrlimit": lambda: _api.getrlimit(resource.RLIMIT_NOFILE),
    "getrlimit (slow path)": lambda: _api.getrlimit(_Index(resource.RLIMIT_NOFILE)),
    "prlimit": lambda: _api.prlimit(0, resource.RLIMIT_NOFILE),
    "prlimit (slow path)": lambda: _api.prlimit(_Index(0), resource.RLIMIT_NOFILE),
    "getrusage": lambda: _api.getrusage(resource.RUSAGE_SELF)[:2],
    "getrusage (slow path)": lambda: _api.getrusage(_Index(resource.RUSAGE_SELF))[:2],
}
EXPECTED: dict[str, Callable[[], Any]] = {
    "getrlimit": lambda: resource.getrlimit(resource.RLIMIT_NOFILE),
    "prlimit": lambda: resource.getrlimit(resource.RLIMIT_NOFILE),
    "getrusage": lambda: (float, float),
}


@pytest.mark.parametrize("call", list(READS))
def test_a_call_with_every_buffer_in_use_makes_a_new_one(free_lists: tuple[list[object], list[object]], call: str) -> None:
    """With both free lists empty (as when other threads hold every buffer), each read, fast
    path and slow, still succeeds on a buffer of its own and agrees with the C module; it only
    reads limits, never sets them."""
    for free in free_lists:
        del free[:]
    result = READS[call]()
    expected = EXPECTED[call.split(maxsplit=1)[0]]()
    if call.startswith("getrusage"):
        result = tuple(type(value) for value in result)
    assert result == expected
    assert len(free_lists[0]) + len(free_lists[1]) == 1, "the new buffer goes back to its list"


def test_a_deprecation_warning_points_at_the_first_caller_outside_the_package() -> None:
    """The reference's warnings (3.8/3.9 __int__, 3.15 negative RLIM_INFINITY) are attributed
    to the caller of the public function, as a C module's are; this machine's interpreter raises
    none, so the helper that attributes them is called directly."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        _convert._warn("a deprecated conversion")
    assert [(w.category, w.filename, w.lineno) for w in caught] == [(DeprecationWarning, __file__, line)]


def test_a_rusage_layout_without_its_timeval_is_refused() -> None:
    """A platform entry whose struct rusage lacks the timeval layout is a data error, named."""
    layout = _api.TARGET.rusage[0].layout._replace(name="broken", timeval=None)
    with pytest.raises(ValueError, match="layout broken has no timeval"):
        rusage_decoders(layout, "little")


@pytest.mark.parametrize("target", list(targets().values()), ids=list(targets()))
def test_rlim_values_shown_signed_as_a_c_cast_does(target: Target) -> None:
    """Before 3.15 CPython shows RLIM_INFINITY (and an unlimited limit read back) as the C value
    cast to a signed integer of rlim_t's width: -1 where it is all ones (Linux), itself where its
    top bit is clear (2**63-1 on macOS and FreeBSD)."""
    size = target.rlimit.rlim_size
    for value in {target.rlimit.infinity, target.rlimit.saved_max, target.rlimit.saved_cur} - {None}:
        assert value is not None
        cast = int.from_bytes(value.to_bytes(size, "little"), "little", signed=True)
        assert _api._signed(value, 8 * size) == cast


def test_overlapping_fields_in_a_layout_are_refused() -> None:
    """A platform entry whose fields overlap or go backwards is a data error, named by offset."""
    with pytest.raises(ValueError, match="fields overlap or are out of order at offset 4"):
        _format("little", [(Field(0, 8), "q"), (Field(4, 8), "q")])
