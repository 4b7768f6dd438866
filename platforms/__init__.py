"""Platform facts for the resource module: C constants, struct layouts, units, entry points.

The facts are JSON files in ``data/`` (each value cites the header it comes from, see
``data/sources.json``); this module is the single loader that the reference implementation and the
conformance suite both ask. It needs only the standard library and runs on Python 3.8+.

>>> from rckit.platforms import current
>>> current().constants["RLIMIT_NOFILE"]  # doctest: +SKIP
7
"""

from __future__ import annotations

import json
import os
import struct
import sys
from functools import lru_cache
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

__all__ = [
    "DATA_DIR",
    "DebianArchitecture",
    "DebianRelease",
    "Field",
    "Identity",
    "PlatformError",
    "RlimitABI",
    "RusageABI",
    "Struct",
    "Target",
    "current",
    "debian_architectures",
    "debian_releases",
    "host_identity",
    "os_family",
    "python_names",
    "select",
    "since",
    "targets",
]

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


class PlatformError(LookupError):
    """No platform entry matches, or the data is inconsistent. The message says which."""


class Field(NamedTuple):
    """One field of a C struct: byte offset and size."""

    offset: int
    size: int


class Struct(NamedTuple):
    """A C struct layout: total size, fields by name, and the layout of its timevals (rusage)."""

    name: str
    size: int
    fields: Dict[str, Field]
    timeval: Optional[Struct]


class RlimitABI(NamedTuple):
    """How to call getrlimit/setrlimit/prlimit: symbols, struct rlimit, the rlim_t type, specials."""

    symbols: Dict[str, str]
    layout: Struct
    cflags: Tuple[str, ...]
    rlim_size: int
    rlim_signed: bool
    infinity: int
    saved_max: Optional[int]
    saved_cur: Optional[int]


class RusageABI(NamedTuple):
    """One getrusage entry point and the struct rusage layout it fills."""

    symbol: str
    layout: Struct
    cflags: Tuple[str, ...]


class Target(NamedTuple):
    """The facts for one platform ABI (OS, machine, pointer width, byte order, libc)."""

    id: str
    os: str
    machines: Tuple[str, ...]
    pointer_bits: int
    byteorder: str
    libc: str
    constants: Dict[str, int]
    constant_sources: Dict[str, str]
    rlimit: RlimitABI
    rusage: Tuple[RusageABI, ...]
    maxrss_unit: int
    verified: Tuple[str, ...]
    toolchain: Dict[str, str]


class DebianRelease(NamedTuple):
    """A Debian release whose interpreters the kit judges, as a chroot of the native architecture."""

    name: str
    suite: str
    script: str
    packages: Tuple[str, ...]
    ci: bool
    seen: Dict[str, str]
    purpose: str


class DebianArchitecture(NamedTuple):
    """A chroot of one Debian architecture and release, and the platform entry it runs."""

    name: str
    arch: str
    suites: Tuple[str, ...]
    target: str
    time_bits: Optional[int]
    triplet: Optional[str]
    source: str
    purpose: str


class Identity(NamedTuple):
    """What a running interpreter says about its platform; the key for :func:`select`."""

    os: str
    machine: str
    pointer_bits: int
    byteorder: str
    libc: str


def _load(name: str) -> Any:
    with open(os.path.join(DATA_DIR, name)) as handle:
        return json.load(handle)


def os_family(platform: str) -> str:
    """Map a ``sys.platform`` value to the kit's OS family (``freebsd14`` -> ``freebsd``)."""
    for family in ("linux", "darwin", "freebsd", "netbsd", "openbsd"):
        if platform.startswith(family):
            return family
    if platform.startswith("sunos"):
        return "illumos"
    return platform


def since(version: str) -> Tuple[int, ...]:
    """Parse a dotted release number such as ``"3.4"`` into a comparable tuple."""
    return tuple(int(part) for part in version.split("."))


def _constant_set(sets: Dict[str, Any], name: str) -> Dict[str, List[Any]]:
    entry = sets[name]
    values: Dict[str, List[Any]] = {}
    if "extends" in entry:
        values.update(_constant_set(sets, entry["extends"]))
    for removed in entry.get("remove", ()):
        values.pop(removed, None)
    values.update(entry.get("values", {}))
    return values


def _fields(raw: Dict[str, Any]) -> Dict[str, Field]:
    return {name: Field(int(spec["offset"]), int(spec["size"])) for name, spec in raw.items()}


def _struct(layouts: Dict[str, Any], name: str) -> Struct:
    entry = dict(layouts[name])
    if "extends" in entry:
        base = _struct(layouts, entry["extends"])
        return Struct(name, int(entry.get("size", base.size)), base.fields, base.timeval)
    timeval = None
    if "timeval" in entry:
        timeval = Struct(name + ".timeval", int(entry["timeval"]["size"]), _fields(entry["timeval"]["fields"]), None)
    return Struct(name, int(entry["size"]), _fields(entry["fields"]), timeval)


def _special(raw: Dict[str, Any], key: str) -> Optional[int]:
    return int(raw[key][0]) if key in raw else None


def _target(raw: Dict[str, Any], sets: Dict[str, Any], layouts: Dict[str, Any]) -> Target:
    values = _constant_set(sets, raw["constants"])
    rl = raw["rlimit"]
    rlimit = RlimitABI(
        symbols={k: v for k, v in rl["symbols"].items() if k != "source"},
        layout=_struct(layouts, rl["layout"]),
        cflags=tuple(rl.get("cflags", ())),
        rlim_size=int(rl["rlim_t"]["size"]),
        rlim_signed=bool(rl["rlim_t"]["signed"]),
        infinity=int(rl["RLIM_INFINITY"][0]),
        saved_max=_special(rl, "RLIM_SAVED_MAX"),
        saved_cur=_special(rl, "RLIM_SAVED_CUR"),
    )
    rusage = tuple(
        RusageABI(item["symbol"], _struct(layouts, item["layout"]), tuple(item.get("cflags", ()))) for item in raw["rusage"]
    )
    return Target(
        id=raw["id"],
        os=raw["os"],
        machines=tuple(raw["machines"]),
        pointer_bits=int(raw["pointer_bits"]),
        byteorder=raw["byteorder"],
        libc=raw["libc"],
        constants={name: int(pair[0]) for name, pair in values.items()},
        constant_sources={name: str(pair[1]) for name, pair in values.items()},
        rlimit=rlimit,
        rusage=rusage,
        maxrss_unit=int(raw["ru_maxrss_unit"][0]),
        verified=tuple(raw.get("verified", ())),
        toolchain=dict(raw.get("toolchain", {})),
    )


@lru_cache(maxsize=None)
def targets() -> Dict[str, Target]:
    """Every platform entry, by id."""
    sets = _load("constants.json")
    layouts = _load("layouts.json")
    return {raw["id"]: _target(raw, sets, layouts) for raw in _load("targets.json")["targets"]}


@lru_cache(maxsize=None)
def python_names() -> Dict[str, Dict[str, Any]]:
    """CPython's public names by kind (functions, types, constants, limit_values) with ``since``."""
    raw = _load("python-names.json")
    return {kind: raw[kind] for kind in ("functions", "types", "constants", "limit_values")}


@lru_cache(maxsize=None)
def debian_releases() -> Dict[str, DebianRelease]:
    """The Debian releases of ``debian-releases.json``, by name (sid, forky, trixie, ...)."""
    return {
        raw["name"]: DebianRelease(
            name=raw["name"],
            suite=raw["suite"],
            script=raw["script"],
            packages=tuple(raw["packages"]),
            ci=bool(raw["ci"]),
            seen=dict(raw["seen"]),
            purpose=raw["purpose"],
        )
        for raw in _load("debian-releases.json")["releases"]
    }


@lru_cache(maxsize=None)
def debian_architectures() -> Dict[str, DebianArchitecture]:
    """The architecture chroots of ``debian-architectures.json``, by name (i386, armhf-bookworm, ...).
    :class:`PlatformError` if one names an unknown platform entry or source."""
    data = _load("debian-architectures.json")
    found = {}
    for raw in data["chroots"]:
        if raw["target"] not in targets() or raw["source"] not in data["sources"]:
            raise PlatformError("debian-architectures.json: %s names an unknown target or source" % raw["name"])
        found[raw["name"]] = DebianArchitecture(
            name=raw["name"],
            arch=raw["arch"],
            suites=tuple(raw["suites"]),
            target=raw["target"],
            time_bits=raw.get("time_bits"),
            triplet=raw.get("triplet"),
            source=raw["source"],
            purpose=raw["purpose"],
        )
    return found


def select(identity: Identity) -> Target:
    """The platform entry for ``identity``; :class:`PlatformError` if the kit has none. Only that
    entry is built (until :func:`targets` has built them all): the reference selects its own at
    import, and building all 24 cost about 0.3 s under qemu."""
    for raw in _load("targets.json")["targets"]:
        if (
            raw["os"] == identity.os
            and identity.machine in raw["machines"]
            and int(raw["pointer_bits"]) == identity.pointer_bits
            and raw["byteorder"] == identity.byteorder
            and raw["libc"] == identity.libc
        ):
            if targets.cache_info().currsize:
                return targets()[raw["id"]]
            return _target(raw, _load("constants.json"), _load("layouts.json"))
    raise PlatformError("no platform entry in %s for %s; add one to platforms/data/targets.json" % (DATA_DIR, identity))


def _libc() -> str:
    if not sys.platform.startswith("linux"):
        return "system"
    try:
        if os.confstr("CS_GNU_LIBC_VERSION"):
            return "glibc"
    except (AttributeError, ValueError, OSError):
        pass
    # The C library this process mapped (a glibc system may have musl installed beside it).
    try:
        with open("/proc/self/maps") as handle:
            maps = handle.read()
    except OSError:
        import sysconfig  # only here: about 0.15 s under qemu, at each import of the reference

        maps = str(sysconfig.get_config_var("MULTIARCH") or "")
    return "musl" if "musl" in maps else "unknown"


def host_identity() -> Identity:
    """The identity of the interpreter running this code."""
    return Identity(
        os=os_family(sys.platform),
        machine=os.uname().machine,
        pointer_bits=struct.calcsize("P") * 8,
        byteorder=sys.byteorder,
        libc=_libc(),
    )


@lru_cache(maxsize=None)
def current() -> Target:
    """The platform entry for the running interpreter."""
    return select(host_identity())
