"""What a candidate said about itself: the agent's ``describe`` reply, with the facts derived from
it (its platform target, privileges, capabilities)."""

from __future__ import annotations

from typing import Any

from rckit.platforms import Identity, PlatformError, Target, os_family
from rckit.platforms import select as select_target


class Info:
    """What a candidate said about itself (the agent's describe reply), with derived facts."""

    def __init__(self, raw: dict[str, Any], host_machine: str) -> None:
        self.raw = raw
        python, platform, process = raw["python"], raw["platform"], raw["process"]
        self.implementation: str = python["implementation"]
        self.version: str = python["version"]
        self.version_tuple: tuple[int, ...] = tuple(python["version_info"][:3])
        self.build: str = python.get("build", "release")
        self.platform: str = os_family(platform["sys_platform"])
        self.machine: str = platform["machine"]
        self.pointer_bits: int = platform["pointer_bits"]
        self.byteorder: str = platform["byteorder"]
        self.libc: str = platform["libc"]
        self.privileged: bool | None = process["privileged"]
        self.euid: int = process["euid"]
        self.names: list[str] = raw["module"]["names"]
        self.constants: dict[str, int] = raw["module"].get("constants", {})
        self.pid: int = process["pid"]
        self.core_pattern: str | None = platform.get("core_pattern")
        self.nr_open: int | None = platform.get("nr_open")
        self.pid_max: int | None = platform.get("pid_max")
        self.page_size: int = platform["page_size"]
        self.mmap_page_size: int | None = platform.get("mmap_page_size")
        self.import_error: dict[str, Any] | None = raw["module"]["import_error"]
        self.emulated = self.machine != host_machine
        #: How the agent makes sessions and children: "fork", or "spawn" (a fresh process).
        self.isolation: str = raw.get("isolation", "fork")
        #: What the interpreter can do, as the agent probed it: name -> {available, detail}.
        self.capabilities: dict[str, dict[str, Any]] = raw.get("capabilities", {})
        try:
            self.target: Target | None = select_target(
                Identity(self.platform, self.machine, self.pointer_bits, self.byteorder, self.libc)
            )
        except PlatformError:
            self.target = None

    @property
    def infinity(self) -> int:
        """The candidate's RLIM_INFINITY (AssertionError if it has none)."""
        assert "RLIM_INFINITY" in self.constants, "the candidate has no RLIM_INFINITY"
        return self.constants["RLIM_INFINITY"]

    @property
    def nlimits(self) -> int:
        """How many resource numbers the platform has (RLIM_NLIMITS), from platforms/ data."""
        if self.target is not None:
            return self.target.constants.get("RLIM_NLIMITS", self.target.constants.get("RLIMIT_NLIMITS", 0))
        return max((v for n, v in self.constants.items() if n.startswith("RLIMIT_")), default=-1) + 1

    def resource(self, name: str) -> int:
        """The number of resource ``name`` on the candidate's platform (from platforms/ data, so a
        candidate that lacks the constant can still be asked about the resource)."""
        if self.target is not None and name in self.target.constants:
            return self.target.constants[name]
        return self.constants[name]

    @property
    def platform_id(self) -> str:
        """The platforms/ entry id, or a description of the unknown platform."""
        if self.target is not None:
            return self.target.id
        return f"{self.platform}-{self.machine}-{self.libc} (no platforms/ entry)"

    def summary(self) -> dict[str, Any]:
        """The facts a report shows about a candidate."""
        return {
            "implementation": self.implementation,
            "python": self.version,
            "build": self.build,
            "platform": self.platform_id,
            "privileged": self.privileged,
            "euid": self.euid,
            "emulated": self.emulated,
            "module_file": self.raw["module"]["file"],
            "import_error": self.import_error,
            "isolation": self.isolation,
            "capabilities": {name: bool(cap.get("available")) for name, cap in self.capabilities.items()},
            "missing": {name: str(cap.get("detail")) for name, cap in self.capabilities.items() if not cap.get("available")},
        }

    def can(self, capability: str) -> bool:
        """The interpreter has ``capability`` (fork, spawn, threads, exec, signals, proc)."""
        return bool(self.capabilities.get(capability, {}).get("available", True))

    def lacks(self, capability: str) -> str:
        """Why the interpreter lacks ``capability``, in words for an n/a reason."""
        detail = self.capabilities.get(capability, {}).get("detail", "not probed")
        return f"the interpreter cannot {CAPABILITY_WORDS.get(capability, capability)} ({detail})"


#: What each capability lets an interpreter do, for n/a reasons ("the interpreter cannot fork").
CAPABILITY_WORDS = {
    "fork": "fork",
    "spawn": "start a process without fork",
    "threads": "start threads",
    "exec": "exec a program",
    "signals": "handle signals",
    "proc": "read /proc",
}
