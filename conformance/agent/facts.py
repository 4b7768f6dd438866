# -*- coding: utf-8 -*-
"""Facts about the agent's process and interpreter: what ``describe`` answers (the interpreter,
the platform, the module, privileges and capabilities), and the /proc readers behind them."""

from __future__ import absolute_import, print_function

import os
import struct
import sys

from .channel import PROTOCOL_VERSION
from .codec import safe_str
from .compat import HAVE_SIGNAL, HAVE_THREADS, integer_types, signal, threading
from .processes import PROCESSES, probe_fork, reap, start_child, start_process, status_text

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401


def proc_status():
    """/proc/self/status as a dict of strings (Linux), or {}."""
    result = {}
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                key, _, rest = line.partition(":")
                result[key] = rest.strip()
    except (IOError, OSError):
        pass
    return result


def _libc_name():
    if not sys.platform.startswith("linux"):
        return "system"
    # The C library this very process mapped; a glibc system may also have musl installed.
    maps = read_text("/proc/self/maps")
    if maps is not None:
        if "musl" in maps:
            return "musl"
        return "glibc" if "libc.so.6" in maps or "libc-2." in maps else "unknown"
    # No /proc (a bare chroot): glibc installs libc.so.6, musl only its ld-musl loader.
    for directory in ("/lib", "/lib64", "/usr/lib", "/lib/" + multiarch(), "/usr/lib/" + multiarch()):
        if os.path.exists(os.path.join(directory, "libc.so.6")):
            return "glibc"
    return "musl" if any(n.startswith("ld-musl-") for n in safe_listdir("/lib")) else "unknown"


def safe_listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def stdlib_resource():
    """The interpreter's own resource module for the agent's bookkeeping (not the candidate)."""
    try:
        import resource
    except ImportError:
        return None
    return resource


def can_raise_hard_limit(module, paths=()):
    """Probe in a throwaway child: lower a hard limit, then try to raise it again (with the
    interpreter's own resource module, else the candidate). None if it cannot be told."""
    if stdlib_resource() is None and module is None:
        return None
    params = {"module": getattr(module, "__name__", None), "paths": list(paths)}
    if PROCESSES["mode"] == "spawn" and not os.access(sys.executable, os.X_OK):
        # A user dropped to may not run this interpreter: ask the shell (ulimit -H is the same
        # setrlimit; its unit does not matter for lowering, then raising by one).
        pid = start_process(["/bin/sh", "-c", "{ ulimit -c 1000 && ulimit -H -c 1001; } 2>/dev/null || exit 1"])
    else:
        pid = start_child("privilege", params)
    _, status = reap(pid)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 2
    return {0: True, 1: False}.get(code)


def _describe_process(module, paths=()):
    status = proc_status()
    cap = status.get("CapEff")
    return {
        "pid": os.getpid(),
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "privileged": can_raise_hard_limit(module, paths),
        "cap_sys_resource": bool(int(cap, 16) & (1 << 24)) if cap else None,
    }


def _module_constants(module):
    """The module's RLIMIT_*, RUSAGE_* and RLIM_* integers."""
    found = {}
    for name in dir(module) if module is not None else ():
        value = getattr(module, name, None)
        if name.startswith(("RLIMIT_", "RUSAGE_", "RLIM_")) and isinstance(value, integer_types) and not isinstance(value, bool):
            found[name] = int(value)
    return found


def multiarch():
    try:
        import sysconfig

        return sysconfig.get_config_var("MULTIARCH") or ""
    except Exception:
        return ""


def _probe_spawn():
    """Whether this interpreter starts a fresh process of itself without forking (tried: it runs
    ``-c ""`` and must exit 0)."""
    how = "os.posix_spawn" if hasattr(os, "posix_spawn") else "subprocess"
    if not sys.executable:
        return {"available": False, "detail": "sys.executable is empty"}
    try:
        _, status = reap(start_process([sys.executable, "-S", "-c", ""]))
    except Exception as exc:
        return {"available": False, "detail": "%s raised %s: %s" % (how, type(exc).__name__, safe_str(exc))}
    if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
        return {"available": False, "detail": "%s started %s, which %s" % (how, sys.executable, status_text(status))}
    return {"available": True, "detail": how}


def _probe_threads():
    if not HAVE_THREADS:
        return {"available": False, "detail": "no threading module"}
    try:
        ran = []
        thread = threading.Thread(target=lambda: ran.append(True))
        thread.start()
        thread.join()
    except Exception as exc:
        return {"available": False, "detail": "a thread did not start: %s: %s" % (type(exc).__name__, safe_str(exc))}
    return {"available": bool(ran), "detail": "threading" if ran else "a thread started but did not run"}


def describe_capabilities():
    """What this interpreter can do that the agent's experiments need (docs/protocol.md): each
    {"available": bool, "detail": how, or why not}. fork, spawn (when sessions spawn) and threads
    are tried; the others are looked up."""
    fork = PROCESSES["fork"] or probe_fork()
    if PROCESSES["mode"] == "spawn":
        spawn = _probe_spawn()
    else:
        present = hasattr(os, "posix_spawn") or _has_module("subprocess")
        spawn = {"available": present, "detail": "not tried: sessions fork" if present else "no os.posix_spawn or subprocess"}
    missing_signals = [name for name in ("SIGXCPU", "SIGXFSZ", "SIGABRT") if not HAVE_SIGNAL or not hasattr(signal, name)]
    return {
        "fork": fork,
        "spawn": spawn,
        "threads": _probe_threads(),
        "exec": {"available": hasattr(os, "execv"), "detail": "os.execv" if hasattr(os, "execv") else "os has no execv"},
        "signals": {
            "available": HAVE_SIGNAL and hasattr(signal, "signal") and not missing_signals,
            "detail": "signal.signal" if not missing_signals else "signal has no %s" % ", ".join(missing_signals),
        },
        "proc": {"available": os.path.isdir("/proc/self"), "detail": "/proc/self" if os.path.isdir("/proc/self") else "no /proc/self"},
    }


def describe(module_name, module, import_error, paths=()):
    names = sorted(name for name in dir(module) if not name.startswith("_")) if module else []
    implementation = getattr(sys, "implementation", None)
    return {
        "protocol": PROTOCOL_VERSION,
        "python": {
            "implementation": implementation.name if implementation else "cpython",
            "version": "%d.%d.%d" % sys.version_info[:3],
            "version_info": list(tuple(sys.version_info)[:5]),
            "executable": sys.executable,
            "full": sys.version.split("\n")[0],
            # A debug build (--with-pydebug) is a different build of the same version.
            "build": "debug" if hasattr(sys, "gettotalrefcount") else "release",
        },
        "platform": {
            "sys_platform": sys.platform,
            "machine": os.uname()[4],
            "pointer_bits": struct.calcsize("P") * 8,
            "byteorder": sys.byteorder,
            "libc": _libc_name(),
            "multiarch": multiarch(),
            "core_pattern": read_text("/proc/sys/kernel/core_pattern"),
            "nr_open": _read_int("/proc/sys/fs/nr_open"),
            "pid_max": _read_int("/proc/sys/kernel/pid_max"),
            "page_size": os.sysconf("SC_PAGESIZE"),
            "mmap_page_size": mmap_page_size(),
        },
        "module": {
            "name": module_name,
            "file": getattr(module, "__file__", None),
            "import_error": import_error,
            "names": names,
            "constants": _module_constants(module),
        },
        "process": _describe_process(module, paths),
        "features": {"ctypes": _has_module("ctypes"), "threads": HAVE_THREADS, "waitid": hasattr(os, "waitid")},
        "isolation": PROCESSES["mode"],
        "capabilities": describe_capabilities(),
    }


def mmap_page_size():
    try:
        import mmap

        return mmap.PAGESIZE
    except ImportError:
        return None


def _has_module(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def _read_int(path):
    text = read_text(path)
    return int(text) if text and text.lstrip("-").isdigit() else None
