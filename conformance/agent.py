# -*- coding: utf-8 -*-
"""The candidate agent: runs inside the candidate's interpreter and does what the harness asks.

Standard library only; runs on CPython 2.7 and 3.x and on PyPy. Protocol (docs/protocol.md,
schemas in conformance/schemas/): one JSON object per line on stdin, exactly one reply per request
on stdout. A request is {"id": N, "op": NAME, "to": PID?, ...}; a reply is {"id": N, "ok": RESULT}
or {"id": N, "error": {...}}; when a forked child session ends, its parent answers the request in
flight with {"id": null, "ended": {...}}.

    python agent.py --module resource [--path DIR]...

The harness imports this file too (the in-process candidate), through :class:`Worker`.
"""

from __future__ import print_function

import errno as errno_module
import itertools
import json
import os
import struct
import sys
import time
import warnings

# Optional: an interpreter without them still starts the agent, and the rules that need them are
# n/a there with the reason (see describe_capabilities and docs/protocol.md).
try:
    import signal

    HAVE_SIGNAL = True
except ImportError:  # pragma: no cover - no known interpreter lacks it
    HAVE_SIGNAL = False
try:
    import threading

    HAVE_THREADS = True
except ImportError:  # pragma: no cover - an interpreter built without threads
    HAVE_THREADS = False

# Only for the type comments: mypy takes the name as true. At run time typing is not imported
# (about 0.5 s under qemu, at every agent start; and missing on very old interpreters).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401

PROTOCOL_VERSION = 1
RUSAGE_FIELDS = (
    "ru_utime", "ru_stime", "ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt",
    "ru_majflt", "ru_nswap", "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv",
    "ru_nsignals", "ru_nvcsw", "ru_nivcsw",
)
if sys.version_info[0] == 2:  # pragma: no cover - exercised under CPython 2.7 only
    string_types = (str, unicode)  # noqa: F821
    integer_types = (int, long)  # noqa: F821
else:
    string_types = (str,)
    integer_types = (int,)


# --- values: the tagged JSON encoding shared with the harness -------------------------------


class IndexOnly(object):
    """An argument that is an integer only through __index__."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    def __repr__(self):
        return "IndexOnly(%r)" % self.value


class IntOnly(object):
    """An argument that is an integer only through __int__ (no __index__)."""

    def __init__(self, value):
        self.value = value

    def __int__(self):
        return self.value

    def __repr__(self):
        return "IntOnly(%r)" % self.value


class IntSubclass(int):
    """An int subclass whose __index__ and __int__ lie; CPython uses the int value."""

    def __index__(self):
        return 99

    def __int__(self):
        return 99

    def __repr__(self):
        return "IntSubclass(%s)" % int.__repr__(self)


class Exploding(object):
    """An iterable or index whose conversion raises RuntimeError("exploding argument")."""

    def __iter__(self):
        raise RuntimeError("exploding argument")

    def __index__(self):
        raise RuntimeError("exploding argument")

    def __repr__(self):
        return "Exploding()"


class Uncomparable(object):
    """An argument whose comparisons raise RuntimeError("uncomparable argument"): CPython never
    compares an argument with ==, so an implementation that does is told apart."""

    def __eq__(self, other):
        raise RuntimeError("uncomparable argument")

    def __ne__(self, other):
        raise RuntimeError("uncomparable argument")

    __hash__ = object.__hash__

    def __repr__(self):
        return "Uncomparable()"


def decode(obj, module):
    """Turn a tagged JSON value into the Python object it describes (arguments)."""
    tag = obj["t"]
    value = obj.get("v")
    if tag == "int":
        return int(value)
    if tag == "bool":
        return bool(value)
    if tag == "float":
        return float.fromhex(value)
    if tag == "str":
        if sys.version_info[0] == 2 and not isinstance(value, str):  # pragma: no cover
            return value.encode("utf-8")  # Python 2: native str from JSON's unicode
        return value
    if tag == "bytes":
        return bytes(bytearray.fromhex(value))
    if tag == "none":
        return None
    if tag == "tuple":
        return tuple(decode(item, module) for item in value)
    if tag == "list":
        return [decode(item, module) for item in value]
    if tag == "iter":
        return iter([decode(item, module) for item in value])
    if tag == "dict":
        return dict((decode(k, module), decode(v, module)) for k, v in value)
    if tag == "index":
        return IndexOnly(int(value))
    if tag == "intlike":
        return IntOnly(int(value))
    if tag == "intsub":
        return IntSubclass(int(value))
    if tag == "attr":
        return getattr(module, obj["name"])
    if tag == "object":
        return object()
    if tag == "exploding":
        return Exploding()
    if tag == "uncomparable":
        return Uncomparable()
    if tag == "pid":
        return os.getpid() if obj.get("which") == "self" else os.getppid()
    raise ValueError("unknown tag %r" % (tag,))


def type_name(kind):
    """'module.qualname' of a type, as the harness reports it."""
    qualname = getattr(kind, "__qualname__", kind.__name__)
    return "%s.%s" % (kind.__module__, qualname)


#: Bounds on what one result may cost to describe: a candidate returning megabytes, a
#: million-item list or an int of a million digits gets a short description, not a huge reply.
MAX_NODES = 5000
MAX_TEXT = 65536
MAX_INT_BITS = 4096


class Budget(object):
    """How many more values one reply may describe."""

    def __init__(self, nodes=MAX_NODES):
        self.nodes = nodes

    def take(self):
        self.nodes -= 1
        return self.nodes >= 0


def too_large(value, what):
    return {"t": "object", "type": type_name(type(value)), "repr": "<%s: not described>" % what}


def encode(value, depth=0, budget=None):
    """Describe a Python value as tagged JSON (results). Anything the candidate controls (its
    repr, len, items, attributes) is guarded: a method that raises or never ends its data cannot
    break the reply, and the reply stays small (see MAX_NODES, MAX_TEXT, MAX_INT_BITS)."""
    budget = budget if budget is not None else Budget()
    if not budget.take():
        return too_large(value, "too many values")
    if depth > 6:
        return {"t": "object", "type": type_name(type(value)), "repr": "..."}
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, integer_types) and type(value) in integer_types:
        if abs(value).bit_length() > MAX_INT_BITS:
            return too_large(value, "an int of %d bits" % abs(value).bit_length())
        return {"t": "int", "v": int(value)}
    if type(value) is float:
        return {"t": "float", "v": value.hex()}
    if type(value) in string_types:
        if sys.version_info[0] == 2 and isinstance(value, bytes):  # pragma: no cover
            value = value.decode("utf-8", "replace")
        if len(value) > MAX_TEXT:
            return too_large(value, "a string of %d characters" % len(value))
        return {"t": "str", "v": value}
    if sys.version_info[0] > 2 and type(value) is bytes:
        if len(value) > MAX_TEXT:
            return too_large(value, "%d bytes" % len(value))
        return {"t": "bytes", "v": value.hex()}
    if type(value) in (tuple, list):
        if len(value) > MAX_NODES:
            return too_large(value, "a %s of %d items" % (type(value).__name__, len(value)))
        tag = "tuple" if type(value) is tuple else "list"
        return {"t": tag, "v": [encode(item, depth + 1, budget) for item in value]}
    described = {"t": "object", "type": type_name(type(value)), "repr": safe_repr(value)}
    try:
        kind = type(value)
        sequence = isinstance(value, tuple) or (hasattr(kind, "__len__") and hasattr(kind, "__getitem__") and not isinstance(value, dict))
        size = len(value) if sequence else None
        if size is not None and 0 <= size <= MAX_NODES:  # a tuple subclass, or (2.7) a struct sequence
            described["items"] = [encode(value[i], depth + 1, budget) for i in range(size)]
    except BaseException:
        pass
    fields = {}
    for name in RUSAGE_FIELDS:
        try:
            fields[name] = encode(getattr(value, name), depth + 1, budget)
        except BaseException:
            pass
    if fields:
        described["fields"] = fields
    if isinstance(value, BaseException):
        described["exception"] = describe_exception(value, None)
    return described


def format_exc():
    """The exception being handled, as Python prints it (traceback imported only then: about
    4 ms of every fresh session's start)."""
    import traceback

    return traceback.format_exc()


def safe_repr(value):
    try:
        text = repr(value)
        text = text[:400] if isinstance(text, string_types) else "<repr returned %s>" % type(text).__name__
    except BaseException as exc:  # a broken __repr__ is a finding, not a crash
        text = "<repr raised %s>" % type(exc).__name__
    return text


def possible_int(value):
    """The integer a candidate could read from an argument (every conversion some version uses)."""
    for convert in (lambda v: int.__and__(v, -1), lambda v: v.__index__(), int):
        try:
            result = convert(value)
        except Exception:
            continue
        if isinstance(result, integer_types):
            return int(result)
    return None


def process_exists(pid):
    if not 0 < pid < 2 ** 31:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno != errno_module.ESRCH
    return True


def describe_exception(exc, module):
    """type, mro, message and errno of an exception."""
    error_class = getattr(module, "error", None) if module is not None else None
    try:
        number = exception_errno(exc)
    except BaseException:
        number = None
    return {
        "type": type(exc).__name__,
        "qualname": type_name(type(exc)),
        "mro": [kind.__name__ for kind in type(exc).__mro__],
        "message": safe_str(exc),
        "errno": number,
        "is_module_error": bool(isinstance(error_class, type) and isinstance(exc, error_class)),
    }


def exception_errno(exc):
    """The errno an exception carries: .errno, or (Python 2's resource.error) args (errno, text)."""
    number = getattr(exc, "errno", None)
    if isinstance(number, integer_types):
        return int(number)
    args = tuple(getattr(exc, "args", ()))  # type: Tuple[Any, ...]
    if len(args) == 2 and isinstance(args[0], integer_types) and isinstance(args[1], string_types):
        return int(args[0])
    return None


def safe_str(exc):
    try:
        text = str(exc)
    except BaseException:
        return "<str raised>"
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "... (%d characters)" % len(text)


# --- capturing warnings and audit events around a call -------------------------------------


class AuditLog(object):
    """Collects resource.* audit events while a call runs (Python 3.8+; no-op before)."""

    installed = False
    active = None  # type: Optional[List[Any]]

    @classmethod
    def install(cls):
        add_hook = getattr(sys, "addaudithook", None)
        if cls.installed or add_hook is None:
            return
        cls.installed = True

        def hook(event, args):
            log = cls.active
            if log is not None and event.startswith("resource."):
                log.append([event, encode(tuple(args))])

        add_hook(hook)


def perform_call(function, args, kwargs, module):
    """Call and describe the outcome: return value or exception, warnings, audit events."""
    AuditLog.install()
    audit = []  # type: List[Any]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        AuditLog.active = audit
        try:
            value = function(*args, **kwargs)
        except BaseException as exc:  # KeyboardInterrupt or SystemExit from a candidate is its outcome
            outcome = {"outcome": "raise", "exception": describe_exception(exc, module)}
        else:
            outcome = {"outcome": "return", "value": encode(value)}
        finally:
            AuditLog.active = None
    # Where each warning points (the file of the frame it is attributed to): a warning raised by
    # C code for its caller names this file; a Python implementation must name it too.
    outcome["warnings"] = [[w.category.__name__, safe_str(w.message), os.path.basename(w.filename or "")] for w in caught]
    outcome["audit"] = audit
    return outcome


# --- facts about the process -----------------------------------------------------------------


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


def libc_name():
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


# --- child processes: forked, or started afresh where the interpreter cannot fork ------------

#: How this agent makes processes, for its sessions and for the children its actions need:
#: "fork", or "spawn" (a fresh process of this interpreter started with os.posix_spawn or
#: subprocess: for interpreters that cannot fork, such as GraalPy, or when the harness asks).
#: main() settles it before the candidate is imported. Also: "fork", what the fork probe found;
#: "quick", whether fresh agents start without site (agent_command); "module", the candidate as
#: imported here; "spares", the root agent's sessions started ahead (start_spare); "root", this is
#: the agent the harness started, not a session or a child program.
PROCESSES = {"mode": "fork", "fork": None, "quick": None, "module": None, "spares": [], "root": False}  # type: Dict[str, Any]
#: subprocess.Popen objects of children started without posix_spawn, kept until reap() waits for
#: them: a Popen that is garbage-collected first would be reaped by subprocess behind our back.
_POPENS = {}  # type: Dict[int, Any]


def probe_fork():
    """Whether os.fork makes a child here: {"available": bool, "detail": why not / how}."""
    fork = getattr(os, "fork", None)
    if fork is None:
        return {"available": False, "detail": "os has no fork"}
    try:
        pid = fork()
    except Exception as exc:
        return {"available": False, "detail": "os.fork() raised %s: %s" % (type(exc).__name__, safe_str(exc))}
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return {"available": True, "detail": "os.fork"}


def set_cloexec(fd):
    """Close ``fd`` on exec again (after set_inheritable)."""
    import fcntl

    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)


def start_process(argv, keep_fds=()):
    """Start ``argv`` (argv[0] a path) as a new process without forking this interpreter:
    os.posix_spawn where it exists, else subprocess. ``keep_fds`` stay open in it, as they are
    numbered here; stdin, stdout and stderr are this process's. Returns its pid (see reap)."""
    for fd in keep_fds:
        set_inheritable(fd)
    try:
        spawn = getattr(os, "posix_spawn", None)
        if spawn is not None:
            return spawn(argv[0], argv, dict(os.environ))
        import subprocess

        process = subprocess.Popen(argv, close_fds=False)
        _POPENS[process.pid] = process
        return process.pid
    finally:
        for fd in keep_fds:
            set_cloexec(fd)


def reap(pid, options=0):
    """os.waitpid for a child made by fork or start_process: (pid, status)."""
    result = os.waitpid(pid, options)
    if result[0] == pid:
        reaped(pid, result[1])
    return result


def reaped(pid, status):
    """Note that ``pid`` was waited for here (by reap or os.wait4): subprocess must not wait again."""
    process = _POPENS.pop(pid, None)
    if process is not None:
        process.returncode = status


def stage_program():
    """agent_boot.py beside this file: it starts agent.py from the stage's bytecode."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "agent_boot.py")


def agent_command(arguments):
    """The command line of a fresh agent.py (a session or a child program) with ``arguments``.
    Where it imports the candidate from the same file all the same (tried once, see
    quick_start_works), it starts without the site module (-S) and is given this process's
    sys.path instead: site's .pth files cost 20-40 ms at each start here (an editable install's
    finder, a certificate bundle), several times what a session does."""
    if quick_start_works():
        return quick_command(arguments)
    return [sys.executable, stage_program()] + arguments


def quick_command(arguments):
    """agent.py with ``arguments``, started without site and given this process's sys.path."""
    return [sys.executable, "-S", stage_program(), "--sys-path", json.dumps(sys.path)] + arguments


def quick_start_works():
    """Whether ``python -S`` with this sys.path imports the candidate from the file this process
    imported (tried once; False before the candidate is imported, or where it is not found so)."""
    module = PROCESSES["module"]
    if PROCESSES["quick"] is None and module is not None:
        PROCESSES["quick"] = False  # while trying (the try itself starts without -S)
        params = {"module": module.__name__, "file": getattr(module, "__file__", None)}
        try:
            _, status = reap(start_process(quick_command(["--child", "import", json.dumps(params)])))
        except OSError:
            return False
        PROCESSES["quick"] = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return bool(PROCESSES["quick"])


def executable_here():
    """A program this process may run to make a process that exits at once: the interpreter if
    its user can run it (a user dropped to may not read a home directory of mode 700), else sh.
    Both exit 0 for ``-c ""``."""
    for program in (sys.executable, "/bin/sh"):
        if program and os.access(program, os.X_OK):
            return program
    return sys.executable


def start_child(kind, params):
    """A child process that runs the child program ``kind`` (CHILD_PROGRAMS) with ``params``:
    forked where this agent forks, else a fresh interpreter running this file with --child.
    Returns its pid; wait for it with reap."""
    if PROCESSES["mode"] == "fork":
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                code = CHILD_PROGRAMS[kind](params)
            finally:
                os._exit(code)
        return pid
    return start_process(agent_command(["--child", kind, json.dumps(params)]))


def child_privilege(params):
    """Exit 0 if this process can raise a hard limit it lowered, 1 if it cannot, 2 if unknown."""
    lib = stdlib_resource()
    if lib is None and params.get("module"):
        for path in reversed(params.get("paths", [])):
            sys.path.insert(0, path)
        lib = __import__(params["module"], fromlist=["_"])
    core, infinity = lib.RLIMIT_CORE, lib.RLIM_INFINITY
    soft, hard = lib.getrlimit(core)
    # A finite hard limit at most 1000, a soft limit under it, then one step up.
    hard = 1000 if hard == infinity or hard > 1000 else hard
    soft = hard if soft == infinity or soft > hard else soft
    lib.setrlimit(core, (soft, hard))
    try:
        lib.setrlimit(core, (soft, hard + 1))
        return 0
    except (ValueError, OSError):
        return 1


def child_import(params):
    """Exit 0 if ``module`` imports from ``file`` here, else 1."""
    module = __import__(params["module"], fromlist=["_"])
    return 0 if getattr(module, "__file__", None) == params["file"] else 1


def child_spin(params):
    """Burn ``seconds`` of CPU, then exit."""
    act_spin({"seconds": params["seconds"]}, None)
    return 0


def child_workloads(params):
    """Run each workload of ``kinds`` (see workload), then exit."""
    for kind in params["kinds"]:
        prepare, run, clean_up = workload(kind, params)
        prepare()
        run()
        clean_up()
    return 0


def child_compete(params):
    """Compute until killed: a competitor for the CPU."""
    while True:
        sum(range(2000))


def child_sleep(params):
    """Sleep (a target for prlimit), first as user ``uid`` if given and this process is root."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    if params.get("uid") is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(params["uid"])
        os.setuid(params["uid"])
    time.sleep(params.get("seconds", 60))
    return 0


#: The programs a child process runs (start_child): forked, or as ``agent.py --child KIND JSON``.
CHILD_PROGRAMS = {
    "privilege": child_privilege,
    "import": child_import,
    "spin": child_spin,
    "workloads": child_workloads,
    "compete": child_compete,
    "sleep": child_sleep,
}


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


def describe_process(module, paths=()):
    status = proc_status()
    cap = status.get("CapEff")
    return {
        "pid": os.getpid(),
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "privileged": can_raise_hard_limit(module, paths),
        "cap_sys_resource": bool(int(cap, 16) & (1 << 24)) if cap else None,
    }


def module_constants(module):
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


def probe_spawn():
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


def probe_threads():
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
        spawn = probe_spawn()
    else:
        present = hasattr(os, "posix_spawn") or has_module("subprocess")
        spawn = {"available": present, "detail": "not tried: sessions fork" if present else "no os.posix_spawn or subprocess"}
    missing_signals = [name for name in ("SIGXCPU", "SIGXFSZ", "SIGABRT") if not HAVE_SIGNAL or not hasattr(signal, name)]
    return {
        "fork": fork,
        "spawn": spawn,
        "threads": probe_threads(),
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
            "libc": libc_name(),
            "multiarch": multiarch(),
            "core_pattern": read_text("/proc/sys/kernel/core_pattern"),
            "nr_open": read_int("/proc/sys/fs/nr_open"),
            "pid_max": read_int("/proc/sys/kernel/pid_max"),
            "page_size": os.sysconf("SC_PAGESIZE"),
            "mmap_page_size": mmap_page_size(),
        },
        "module": {
            "name": module_name,
            "file": getattr(module, "__file__", None),
            "import_error": import_error,
            "names": names,
            "constants": module_constants(module),
        },
        "process": describe_process(module, paths),
        "features": {"ctypes": has_module("ctypes"), "threads": HAVE_THREADS, "waitid": hasattr(os, "waitid")},
        "isolation": PROCESSES["mode"],
        "capabilities": describe_capabilities(),
    }


def mmap_page_size():
    try:
        import mmap

        return mmap.PAGESIZE
    except ImportError:
        return None


def has_module(name):
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


def read_int(path):
    text = read_text(path)
    return int(text) if text and text.lstrip("-").isdigit() else None


# --- actions: the experiments the effect and usage rules need ------------------------------


def act_open_until_failure(params, worker):
    """Open /dev/null until open fails or `cap` descriptors are open; report fds and errno."""
    fds = []  # type: List[int]
    failure = None
    try:
        while len(fds) < params.get("cap", 100000):
            try:
                fds.append(os.open(os.devnull, os.O_RDONLY))
            except OSError as exc:
                failure = exc.errno
                break
    finally:
        for fd in fds:
            os.close(fd)
    return {"fds": fds, "errno": failure}


def act_open_fds(params, worker):
    # type: (Dict[str, Any], Optional[Worker]) -> Dict[str, List[int]]
    """The descriptor numbers below `below` open in this process."""
    below = params.get("below", 1024)
    try:
        # Where the kernel lists them (Linux, illumos): a few fstat calls instead of `below`
        # (4096 under qemu take about 0.9 s). The listing's own descriptor is closed by then.
        listed = [int(name) for name in os.listdir("/proc/self/fd") if name.isdigit()]
    except OSError:
        listed = list(range(below))
    found = []
    for fd in sorted(fd for fd in listed if fd < below):
        try:
            os.fstat(fd)
            found.append(fd)
        except OSError:
            pass
    return {"fds": found}


def process_cpu_seconds():
    times = os.times()
    return times[0] + times[1]


def act_spin(params, worker):
    """Burn CPU for up to `seconds` of CPU time, or until SIGXCPU arrives (with `handler`)."""
    received = []
    if params.get("handler"):
        signal.signal(signal.SIGXCPU, lambda signum, frame: received.append(signum))
    start = process_cpu_seconds()
    deadline = time.time() + params.get("wall_timeout", 30)
    while not received and process_cpu_seconds() - start < params["seconds"] and time.time() < deadline:
        sum(range(2000))
    return {"signal_received": bool(received), "cpu": process_cpu_seconds() - start}


def act_write_file(params, worker):
    """Write `size` bytes to a new file (in a thread with `thread`); report written and errno."""
    if params.get("sigxfsz") == "default":
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    elif params.get("sigxfsz") == "ignore":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    result = {}  # type: Dict[str, Any]

    def write():
        fd, path = new_file(params.get("dir"))
        written, failure = 0, None
        try:
            block = b"x" * 4096
            while written < params["size"]:
                try:
                    count = os.write(fd, block[: min(4096, params["size"] - written)])
                except OSError as exc:
                    failure = exc.errno
                    break
                written += count
        finally:
            os.close(fd)
            os.unlink(path)
        result.update(written=written, errno=failure)

    if params.get("thread"):
        runner = threading.Thread(target=write)
        runner.start()
        runner.join()
    else:
        write()
    return result


_NEW_FILE_NUMBERS = itertools.count(1)


def new_file(directory):
    """(descriptor, path) of a new empty file of this process's in ``directory`` (None: /tmp).
    Not tempfile: it needs _thread, which an interpreter built without threads lacks."""
    number = next(_NEW_FILE_NUMBERS)
    path = os.path.join(directory or "/tmp", "rckit-%d-%d-%d" % (os.getpid(), number, int(time.time() * 1e6)))
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600), path


def act_allocate(params, worker):
    """Allocate (and touch) `bytes`; report whether MemoryError was raised."""
    try:
        block = bytearray(params["bytes"])
        if params.get("touch"):
            for offset in range(0, len(block), 4096):
                block[offset] = 1
        del block
        return {"memory_error": False}
    except MemoryError:
        return {"memory_error": True}


def act_fork_probe(params, worker):
    """Try to create a child process that exits at once (fork, or a fresh process where this
    agent spawns); report errno of a failure."""
    try:
        if PROCESSES["mode"] == "fork":
            pid = os.fork()
            if pid == 0:
                os._exit(0)
        else:
            pid = start_process([executable_here(), "-c", ""])
    except OSError as exc:
        return {"forked": False, "errno": exc.errno, "how": PROCESSES["mode"]}
    reap(pid)
    return {"forked": True, "errno": None, "how": PROCESSES["mode"]}


#: What the actions of an unprivileged child need from the standard library: the user it becomes
#: may not be able to read the interpreter's library (a home directory of mode 700).
DROP_IMPORTS = ("ctypes", "ctypes.util", "pickle", "copy", "mmap", "subprocess")


def import_all(names):
    """Import each module that exists (the forked children of this process then inherit them)."""
    for name in names:
        try:
            __import__(name)
        except ImportError:
            pass


def act_drop_privileges(params, worker):
    """Become an unprivileged user (root only): supplementary groups, gid, then uid."""
    uid, gid = params.get("uid", 65534), params.get("gid", 65534)
    import_all(DROP_IMPORTS)  # already done by the serving agent (see main); then it costs nothing
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return {"uid": os.getuid(), "euid": os.geteuid(), "privileged": can_raise_hard_limit(worker.module, worker.paths)}


def act_crash(params, worker):
    """Change to `cwd` and die of SIGABRT with its default action (a core dump if allowed)."""
    os.chdir(params["cwd"])
    signal.signal(signal.SIGABRT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGABRT)
    time.sleep(5)
    return {"survived": True}


def act_exec_report(params, worker):
    """Replace this process by a fresh interpreter running exec_report.py, which imports the
    candidate, answers this request with the limits it sees, and exits. Where the interpreter
    has no execv, the new program runs as a child (started with exec all the same) and this
    process ends with it."""
    wanted = ",".join(str(r) for r in params["resources"])
    reply_fd = worker.channel.write_fd if worker.channel is not None else 1
    program = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_report.py")
    argv = [sys.executable, program, worker.module_name, wanted, str(params["_id"]), str(reply_fd)] + worker.paths
    sys.stdout.flush()
    if not hasattr(os, "execv"):
        _, status = reap(start_process(argv, keep_fds=(reply_fd,)))
        finish(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)
    set_inheritable(reply_fd)
    os.execv(sys.executable, argv)


def act_proc_status(params, worker):
    """/proc/self/status (Linux), for VmHWM and friends."""
    return proc_status()


def act_touch_memory(params, worker):
    """Allocate and touch `bytes`, keep them until the session ends (raises the peak RSS)."""
    block = bytearray(params["bytes"])
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    worker.kept.append(block)
    return {"kept": len(block)}


def act_thread_usage(params, worker):
    """getrusage(SELF) and getrusage(`who_thread`) before and after another thread burns CPU."""
    module = worker.module
    thread_who = params.get("who_thread")

    def snapshot():
        shot = {"self": encode(module.getrusage(module.RUSAGE_SELF))}
        if thread_who is not None:
            shot["thread"] = encode(module.getrusage(thread_who))
        return shot

    before = snapshot()
    burner = threading.Thread(target=act_spin, args=({"seconds": params["seconds"]}, worker))
    burner.start()
    burner.join()
    return {"before": before, "after": snapshot()}


def act_child_usage(params, worker):
    """getrusage(CHILDREN) before a child burns CPU, after it died but before it is waited for,
    and after waitpid; getrusage(SELF) before the fork and after waitpid."""
    module = worker.module
    children, own = module.RUSAGE_CHILDREN, module.RUSAGE_SELF
    before, self_before = encode(module.getrusage(children)), encode(module.getrusage(own))
    pid = start_child("spin", {"seconds": params["seconds"]})
    wait_for_exit_unreaped(pid)
    unreaped = encode(module.getrusage(children))
    reap(pid)
    after, self_after = encode(module.getrusage(children)), encode(module.getrusage(own))
    return {"before": before, "unreaped": unreaped, "after": after, "self_before": self_before, "self_after": self_after}


def wait_for_exit_unreaped(pid):
    """Wait until `pid` is a zombie without reaping it (waitid WNOWAIT, else /proc polling)."""
    if hasattr(os, "waitid") and hasattr(os, "WNOWAIT"):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        return
    deadline = time.time() + 30
    while time.time() < deadline:
        stat = read_text("/proc/%d/stat" % pid) or ""
        if ") Z" in stat:
            return
        time.sleep(0.01)


def act_spawn_sleeper(params, worker):
    """Start a child that only sleeps (a target for prlimit); it is killed when the session ends."""
    pid = start_child("sleep", {"uid": params.get("uid"), "seconds": params.get("seconds", 60)})
    worker.sleepers.append(pid)
    return {"pid": pid}


def act_proc_limits(params, worker):
    """/proc/<pid>/limits as the kernel prints it: [name, soft, hard] rows in the kernel's own
    resource order (rckit.conformance.proc_limits maps them by name), None meaning unlimited."""
    text = read_text("/proc/%s/limits" % params["pid"])
    if text is None:
        return {"available": False}
    rows = []
    for line in text.splitlines()[1:]:
        name, rest = line[:26].strip(), line[26:].split()
        rows.append([name] + [None if v == "unlimited" else int(v) for v in rest[:2]])
    return {"available": True, "rows": rows}


def act_concurrent_calls(params, worker):
    """Run the given calls from several threads at once; count results that differ from the
    single-threaded answer."""
    module = worker.module
    calls = [(getattr(module, fn), [decode(a, module) for a in args]) for fn, args in params["calls"]]
    expected = [fn(*args) for fn, args in calls]
    mismatches = []
    start = threading.Event()

    def run(offset):
        start.wait()
        for i in range(params["iterations"]):
            index = (i + offset) % len(calls)
            fn, args = calls[index]
            got = fn(*args)
            if got != expected[index]:
                mismatches.append([index, safe_repr(got), safe_repr(expected[index])])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(params["threads"])]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join()
    return {"mismatches": mismatches[:20], "count": len(mismatches)}


def act_mlock(params, worker):
    """mlock `bytes` of fresh memory through ctypes; report errno of a failure."""
    try:
        import ctypes
        import ctypes.util
    except ImportError:
        return {"available": False}
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "mlock"):
        return {"available": False}
    buf = ctypes.create_string_buffer(params["bytes"])
    rc = libc.mlock(buf, ctypes.c_size_t(params["bytes"]))
    err = ctypes.get_errno()
    if rc == 0:
        libc.munlock(buf, ctypes.c_size_t(params["bytes"]))
    return {"available": True, "locked": rc == 0, "errno": None if rc == 0 else err}


def act_inspect_result_type(params, worker):
    """Structural facts about getrusage's result type: tuple-ness, counts, immutability, pickle."""
    import copy
    import pickle

    module = worker.module
    value = module.getrusage(module.RUSAGE_SELF)
    kind = type(value)
    facts = {
        "type": type_name(kind),
        "is_tuple": isinstance(value, tuple),
        "len": len(value) if hasattr(value, "__len__") else None,
        "n_fields": getattr(kind, "n_fields", None),
        "n_sequence_fields": getattr(kind, "n_sequence_fields", None),
        "n_unnamed_fields": getattr(kind, "n_unnamed_fields", None),
        "repr_prefix": safe_repr(value).split("(")[0],
        "match_args": list(getattr(kind, "__match_args__", ())) or None,
    }
    for label, attempt in (
        ("setattr_field", lambda: setattr(value, "ru_utime", 1.0)),
        ("setitem", lambda: value.__class__.__setitem__(value, 0, 1.0)),
        ("delattr_field", lambda: delattr(value, "ru_maxrss")),
    ):
        try:
            attempt()
            facts[label] = None
        except Exception as exc:
            facts[label] = type(exc).__name__
    for label, attempt in (
        ("setattr_other", lambda: setattr(value, "not_a_field", 1)),
        ("delattr_other", lambda: delattr(value, "not_a_field")),
        ("replace_unknown", lambda: value.__replace__(not_a_field=1, nor_this=2)),
        ("replace_field", lambda: list(kind(range(16)).__replace__(ru_maxrss=-5))),
    ):
        if label.startswith("replace") and not hasattr(kind, "__replace__"):
            continue
        try:
            facts[label] = encode(attempt())
        except Exception as exc:
            facts[label] = "%s: %s" % (type(exc).__name__, safe_str(exc))
    facts["unchanged"] = encode(value)
    try:
        copied = pickle.loads(pickle.dumps(value, protocol=2))
        facts["pickle_equal"] = copied == value
        facts["pickle_same_type"] = type(copied) is kind
    except Exception as exc:
        facts["pickle_error"] = "%s: %s" % (type(exc).__name__, safe_str(exc))
    try:
        facts["copy_equal"] = copy.copy(value) == value
    except Exception as exc:
        facts["copy_error"] = type(exc).__name__
    return facts


def act_tuple_operations(params, worker):
    """Use a getrusage result the ways a 16-tuple is used; report what worked."""
    module = worker.module
    value = module.getrusage(module.RUSAGE_SELF)
    checks = {}  # type: Dict[str, Any]
    for label, check in (
        ("len", lambda: len(value) == 16),
        ("index", lambda: [value[i] for i in range(16)] == list(value)),
        ("negative_index", lambda: value[-1] == value[15] and value[-16] == value[0]),
        ("slice", lambda: tuple(value[2:5]) == (value[2], value[3], value[4])),
        ("unpack", lambda: len(tuple(a for a in value)) == 16),
        ("iterate", lambda: sum(1 for _ in value) == 16),
        ("equal_to_tuple", lambda: value == tuple(value)),
        ("fields_match_items", lambda: all(getattr(value, n) == value[i] for i, n in enumerate(RUSAGE_FIELDS))),
    ):
        try:
            checks[label] = bool(check())
        except Exception as exc:
            checks[label] = "%s: %s" % (type(exc).__name__, safe_str(exc))
    checks["exact_tuple"] = type(value) is tuple
    return checks


# --- what the kernel says a process used, apart from getrusage (the USAGE field rules) --------


def task_counters(task):
    """One thread's faults (/proc/.../stat), CPU ticks and context switches (/proc/.../status)."""
    found = {}  # type: Dict[str, int]
    stat = read_text(task + "/stat")
    if stat:
        fields = stat[stat.rfind(")") + 2:].split()
        found.update(minflt=int(fields[7]), majflt=int(fields[9]), utime=int(fields[11]), stime=int(fields[12]))
    for line in (read_text(task + "/status") or "").splitlines():
        key, _, value = line.partition(":")
        if key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
            found["nvcsw" if key.startswith("vol") else "nivcsw"] = int(value)
    return found


def kernel_counters():
    """The counters the kernel reports outside getrusage: for the whole process, CPU time from
    times(2) and faults and context switches summed over /proc/self/task/*; for this thread the
    same from /proc/thread-self (``thread_*``); block I/O bytes from /proc/self/io. CPU times are
    in clock ticks. Missing ones are absent."""
    ticks, times = os.sysconf("SC_CLK_TCK"), os.times()
    found = {"utime": int(round(times[0] * ticks)), "stime": int(round(times[1] * ticks)), "tick": 1.0 / ticks}  # type: Dict[str, Any]
    tasks = [task_counters("/proc/self/task/" + tid) for tid in safe_listdir("/proc/self/task")]
    for key in ("minflt", "majflt", "nvcsw", "nivcsw"):
        if tasks and all(key in task for task in tasks):
            found[key] = sum(task[key] for task in tasks)
    for key, value in task_counters("/proc/thread-self").items():
        found["thread_" + key] = value
    for line in (read_text("/proc/self/io") or "").splitlines():
        key, _, value = line.partition(":")
        if key in ("read_bytes", "write_bytes"):
            found[key] = int(value)
    return found


def spin_cpu(seconds, step):
    """Run ``step`` until this process has used ``seconds`` of CPU time (or 30 s have passed)."""
    start, deadline = process_cpu_seconds(), time.time() + 30
    while process_cpu_seconds() - start < seconds and time.time() < deadline:
        step()


def workload(kind, params):
    """(prepare, run, clean_up) for one workload of act_usage_workload."""
    state = {}  # type: Dict[str, Any]
    size = params.get("bytes", 4 << 20)

    def nothing():
        pass

    if kind == "user":
        return nothing, lambda: spin_cpu(params.get("seconds", 0.3), lambda: sum(range(2000))), nothing
    if kind == "system":
        def prepare_system():
            # /dev/urandom, not /dev/zero: the kernel computes every byte, so its time dwarfs
            # what an emulator (qemu-user) spends in user mode checking the guest's buffer page
            # by page, which is about as long as clearing it.
            state["fd"] = os.open("/dev/urandom", os.O_RDONLY)
            state["buffer"] = bytearray(1 << 20)

        def step():  # the kernel generates a megabyte per call: time in system mode
            if hasattr(os, "readv"):
                os.readv(state["fd"], [state["buffer"]])
            else:  # pragma: no cover - Python 2.7
                os.read(state["fd"], 1 << 20)
        return prepare_system, lambda: spin_cpu(params.get("seconds", 0.3), step), lambda: os.close(state["fd"])
    if kind == "faults":
        import mmap

        def touch():
            pages = params.get("pages", 2048)
            area = mmap.mmap(-1, pages * mmap.PAGESIZE)
            for page in range(pages):
                area[page * mmap.PAGESIZE:page * mmap.PAGESIZE + 1] = b"x"
            state["area"] = area
        return nothing, touch, lambda: state["area"].close()  # noqa: PLW0108 - the area exists later
    if kind == "majfaults":
        import mmap

        def prepare_mapping():
            fd, state["path"] = new_file(params["dir"])
            os.write(fd, b"m" * size)
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # out of the cache: touching needs I/O
            state["area"] = mmap.mmap(fd, size, prot=mmap.PROT_READ)
            state["area"].madvise(mmap.MADV_RANDOM)  # no read-ahead: a fault per page
            os.close(fd)

        def touch_mapping():
            for offset in range(0, size, mmap.PAGESIZE):
                state["area"][offset]

        def unmap():
            state["area"].close()
            os.unlink(state["path"])
        return prepare_mapping, touch_mapping, unmap
    if kind in ("write", "read"):
        def prepare_file():
            fd, state["path"] = new_file(params["dir"])
            if kind == "read":
                os.write(fd, b"r" * size)
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # so reading needs the disk
            state["fd"] = fd

        def run_file():
            if kind == "write":
                block = b"w" * 65536
                for _ in range(size // 65536):
                    os.write(state["fd"], block)
                os.fsync(state["fd"])
            else:
                os.lseek(state["fd"], 0, 0)
                while os.read(state["fd"], 1 << 20):
                    pass

        def clean_file():
            os.close(state["fd"])
            os.unlink(state["path"])
        return prepare_file, run_file, clean_file
    if kind == "sleep":
        def sleeps():
            for _ in range(params.get("count", 50)):
                time.sleep(0.002)
        return nothing, sleeps, nothing
    if kind == "preempted":
        def prepare_competition():
            cpu = None
            if hasattr(os, "sched_setaffinity"):
                cpu = sorted(os.sched_getaffinity(0))[0]
                os.sched_setaffinity(0, [cpu])
            count = 1 if cpu is not None else 2 * (os.sysconf("SC_NPROCESSORS_ONLN") or 1)
            # Competitors for the same CPU (the affinity is inherited), until they are killed.
            state["competitors"] = [start_child("compete", {}) for _ in range(count)]

        def stop_competition():
            for pid in state["competitors"]:
                os.kill(pid, signal.SIGKILL)
                reap(pid)
        return prepare_competition, lambda: spin_cpu(params.get("seconds", 0.3), lambda: sum(range(2000))), stop_competition
    raise ValueError("unknown workload %r" % (kind,))


def act_usage_workload(params, worker):
    """getrusage(`who`) from the candidate before and after one workload that should move some
    fields and not others (user, system, faults, write, read, sleep, preempted), each reading
    between two readings of the kernel's own counters: whatever the candidate's calls cost, the
    true growth lies between (third - second) and (fourth - first) of the kernel's readings."""
    module = worker.module
    who = params.get("who", module.RUSAGE_SELF)
    prepare, run, clean_up = workload(params["workload"], params)
    prepare()
    try:
        first = kernel_counters()
        before = module.getrusage(who)
        second = kernel_counters()
        run()
        third = kernel_counters()
        after = module.getrusage(who)
        fourth = kernel_counters()
    finally:
        clean_up()
    return {"before": encode(before), "after": encode(after), "kernel": [first, second, third, fourth]}


def act_child_wait4(params, worker):
    """getrusage(CHILDREN) before and after waiting with os.wait4 for a child that computed,
    touched pages and slept; and the child's usage as wait4 reported it."""
    module = worker.module
    pid = start_child("workloads", dict(params, kinds=["user", "faults", "sleep"]))
    wait_for_exit_unreaped(pid)
    before = encode(module.getrusage(module.RUSAGE_CHILDREN))
    _, status, usage = os.wait4(pid, 0)
    reaped(pid, status)
    after = encode(module.getrusage(module.RUSAGE_CHILDREN))
    return {"before": before, "after": after, "wait4": dict((name, getattr(usage, name)) for name in RUSAGE_FIELDS)}


def act_thread_workload(params, worker):
    """act_usage_workload in a new thread, with `who` (RUSAGE_THREAD) asked from that thread."""
    result = {}  # type: Dict[str, Any]

    def run():
        try:
            result.update(act_usage_workload(params, worker))
        except BaseException as exc:
            result["error"] = "%s: %s" % (type(exc).__name__, safe_str(exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result


#: The experiments the harness may ask for by name (the ``act`` request), each an act_* function.
ACTIONS = {
    "open_until_failure": act_open_until_failure,
    "open_fds": act_open_fds,
    "spin": act_spin,
    "write_file": act_write_file,
    "allocate": act_allocate,
    "fork_probe": act_fork_probe,
    "drop_privileges": act_drop_privileges,
    "crash": act_crash,
    "exec_report": act_exec_report,
    "proc_status": act_proc_status,
    "touch_memory": act_touch_memory,
    "thread_usage": act_thread_usage,
    "child_usage": act_child_usage,
    "spawn_sleeper": act_spawn_sleeper,
    "proc_limits": act_proc_limits,
    "concurrent_calls": act_concurrent_calls,
    "mlock": act_mlock,
    "inspect_result_type": act_inspect_result_type,
    "tuple_operations": act_tuple_operations,
    "usage_workload": act_usage_workload,
    "child_wait4": act_child_wait4,
    "thread_workload": act_thread_workload,
}


# --- the request loop ------------------------------------------------------------------------


class Worker(object):
    """Executes requests against one candidate module. Used by the loop below and in-process."""

    def __init__(self, module_name, paths=()):
        # type: (str, Sequence[str]) -> None
        self.module_name = module_name
        self.paths = list(paths)
        for path in reversed(self.paths):
            if path not in sys.path:
                sys.path.insert(0, path)
        self.module = None
        self.import_error = None
        self.channel = None  # type: Optional[Channel]
        self.kept = []  # type: List[bytearray]
        self.sleepers = []  # type: List[int]
        try:
            self.module = __import__(module_name, fromlist=["_"])
        except BaseException as exc:  # a candidate that cannot import is reported, not fatal
            self.import_error = {"type": type(exc).__name__, "message": safe_str(exc), "traceback": format_exc()[-2000:]}

    def handle(self, request):
        # type: (Dict[str, Any]) -> Any
        """One request -> its result (raises for protocol errors)."""
        op = request["op"]
        if op == "describe":
            return describe(self.module_name, self.module, self.import_error, self.paths)
        if self.module is None:
            raise RuntimeError("the candidate module did not import: %s" % self.import_error)
        if op == "call":
            function = getattr(self.module, request["fn"], None)
            if function is None:
                return {"outcome": "missing"}
            args = [decode(arg, self.module) for arg in request.get("args", [])]
            kwargs = dict((name, decode(arg, self.module)) for name, arg in request.get("kwargs", {}).items())
            if request["fn"] == "prlimit":
                self.refuse_foreign_target(args, kwargs)
            return perform_call(function, args, kwargs, self.module)
        if op == "attr":
            if not hasattr(self.module, request["name"]):
                return {"present": False}
            value = getattr(self.module, request["name"])
            return {"present": True, "value": encode(value), "callable": callable(value)}
        if op == "error_class":
            error = getattr(self.module, "error", None)
            return {
                "present": error is not None,
                "is_class": isinstance(error, type),
                "is_exception": isinstance(error, type) and issubclass(error, BaseException),
                "is_oserror": error is OSError,
                "mro": [kind.__name__ for kind in error.__mro__] if isinstance(error, type) else None,
            }
        if op == "act":
            params = dict(request.get("params", {}))
            params["_id"] = request.get("id")
            return ACTIONS[request["action"]](params, self)
        raise ValueError("unknown op %r" % (op,))

    def refuse_foreign_target(self, args, kwargs):
        """Never let a candidate set the limits of a process that is not disposable: prlimit with
        limits may only name this process (0 or its pid), a sleeper it spawned, or no process."""
        limits = args[2] if len(args) > 2 else kwargs.get("limits")
        if limits is None or not args:
            return
        pid = possible_int(args[0])
        if pid is None or pid in (0, os.getpid()) or pid in self.sleepers or not process_exists(pid):
            return
        raise RuntimeError("refused: prlimit would set the limits of process %d, which is not this disposable child" % pid)

    def end_session(self):
        for pid in self.sleepers:
            try:
                os.kill(pid, signal.SIGKILL)
                reap(pid)
            except OSError:
                pass
        self.sleepers = []


#: The protocol's descriptors are moved at least this high, out of the way of a candidate that
#: closes or redirects its standard streams (or the first few descriptors).
PROTOCOL_FD_MIN = 200


def set_inheritable(fd):
    """Let ``fd`` survive exec (Python 3 opens descriptors close-on-exec)."""
    import fcntl

    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) & ~fcntl.FD_CLOEXEC)


def private_copy(fd):
    """A close-on-exec duplicate of ``fd`` numbered PROTOCOL_FD_MIN or above."""
    import fcntl

    try:
        copy = fcntl.fcntl(fd, fcntl.F_DUPFD, PROTOCOL_FD_MIN)
    except (IOError, OSError):  # a descriptor limit at or below PROTOCOL_FD_MIN
        copy = fcntl.fcntl(fd, fcntl.F_DUPFD, 3)
    set_cloexec(copy)
    return copy


def take_protocol_streams():
    """Move the protocol off stdin and stdout before any candidate code runs: stdin then reads
    /dev/null and stdout writes where stderr does, so a candidate that prints, reads or closes
    its standard streams cannot corrupt or cut the protocol."""
    channel = Channel(private_copy(0), private_copy(1))
    quiet_standard_streams()
    return channel


def quiet_standard_streams():
    """Point stdin at /dev/null and stdout where stderr goes (the protocol is elsewhere)."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)


class Channel(object):
    """Line-oriented JSON over raw file descriptors (no buffering to confuse a fork)."""

    def __init__(self, read_fd=0, write_fd=1):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.pending = b""

    def receive(self):
        while b"\n" not in self.pending:
            chunk = os.read(self.read_fd, 65536)
            if not chunk:
                return None
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return json.loads(line.decode("utf-8"))

    def send(self, message):
        data = (json.dumps(message, sort_keys=True) + "\n").encode("utf-8")
        while data:
            written = os.write(self.write_fd, data)
            data = data[written:]


#: Other names of a signal number, never the one to report (SIGABRT, SIGCHLD, SIGIO instead).
SIGNAL_ALIASES = ("SIGIOT", "SIGCLD", "SIGPOLL")


def signal_name(number):
    """This platform's name for a signal number (numbers differ: SIGXCPU is 24 on x86 and ARM,
    30 on MIPS), or None if it has none."""
    for name in sorted(dir(signal)) if HAVE_SIGNAL else ():
        usable = name.startswith("SIG") and not name.startswith("SIG_") and name not in SIGNAL_ALIASES
        if usable and getattr(signal, name) == number:
            return name
    return None


def status_text(status):
    """How a waited-for process ended, in words."""
    if os.WIFSIGNALED(status):
        return "was killed by %s" % (signal_name(os.WTERMSIG(status)) or "signal %d" % os.WTERMSIG(status))
    return "exited with code %d" % os.WEXITSTATUS(status)


def wait_status(status):
    """A waitpid status as JSON: exit code, or signal (its number and, since numbers differ by
    architecture, its name here) and core flag."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return {"exit_code": None, "signal": number, "signal_name": signal_name(number),
                "core_dumped": bool(os.WCOREDUMP(status))}  # fmt: skip
    return {"exit_code": os.WEXITSTATUS(status), "signal": None, "signal_name": None, "core_dumped": False}


def serve(worker, channel):
    """Answer requests until EOF or an exit request; returns the exit code for this process."""
    while True:
        request = channel.receive()
        if request is None:
            drop_spares()
            return 0
        rid = request.get("id")
        target = request.get("to")
        if target is not None and target != os.getpid():
            channel.send({"id": rid, "error": {"kind": "no-such-session", "message": "process %s is not serving" % target}})
            continue
        op = request.get("op")
        if op == "exit":
            worker.end_session()
            drop_spares()
            return int(request.get("code", 0))
        if op == "fork":
            via = request.get("via") or PROCESSES["mode"]
            try:
                pid = open_session(worker, channel, rid, via)
            except Exception as exc:  # no process could be made: the harness is told why
                channel.send({"id": rid, "error": {"kind": "agent", "type": type(exc).__name__, "message": "no session: %s" % safe_str(exc)[:2000], "traceback": format_exc()[-3000:]}})
                continue
            if PROCESSES["root"] and via == "spawn":
                while len(PROCESSES["spares"]) < SPARES:  # they start while this session works
                    start_spare(worker, channel)
            _, status = reap(pid)
            channel.send({"id": None, "ended": dict(wait_status(status), pid=pid)})
            continue
        try:
            result = worker.handle(request)
        except BaseException as exc:  # whatever candidate code raised, the agent answers
            channel.send({"id": rid, "error": {"kind": "agent", "type": type(exc).__name__, "message": safe_str(exc)[:2000], "traceback": format_exc()[-3000:]}})
        else:
            channel.send({"id": rid, "ok": result})


def open_session(worker, channel, rid, via):
    """A child session that answers request ``rid`` with its pid and then serves requests on
    ``channel`` until it ends; returns its pid (the caller waits for it). ``via`` "fork" forks
    this process; "spawn" starts a fresh agent of this interpreter on the same descriptors,
    which imports the candidate anew (for interpreters that cannot fork)."""
    if via == "spawn":
        if channel.pending:
            raise RuntimeError("a request arrived before the session was opened")
        spare = take_spare(rid)
        if spare is not None:
            return spare
        arguments = session_arguments(worker, channel, rid)
        return start_process(agent_command(arguments), keep_fds=(channel.read_fd, channel.write_fd))
    if not hasattr(os, "fork"):
        raise RuntimeError("this interpreter cannot fork (os has no fork)")
    pid = os.fork()
    if pid != 0:
        channel.pending = b""  # anything already read belongs to the child now
        return pid
    code = 70
    try:  # the child never returns into its parent's loop, whatever happens
        worker.kept, worker.sleepers = [], []
        # Not the root agent: the spares are its parent's (ending this child must not end them).
        PROCESSES["root"], PROCESSES["spares"] = False, []
        channel.send({"id": rid, "ok": {"pid": os.getpid()}})
        code = serve(worker, channel)
    finally:
        finish(code)
    return pid  # not reached


def session_arguments(worker, channel, rid):
    """agent.py's arguments for a spawned session that answers request ``rid`` on ``channel``."""
    arguments = ["--module", worker.module_name, "--isolation", "spawn",
                 "--session", "%d,%d,%s" % (channel.read_fd, channel.write_fd, rid)]  # fmt: skip
    for path in worker.paths:
        arguments += ["--path", path]
    return arguments


#: How many spawned sessions the root agent keeps started ahead of their requests (start_spare).
#: A fresh CPython takes 30-50 ms of CPU to import the candidate, several times what an example
#: does with its session; two starting at once keep both CPUs of a -n 0 run busy.
SPARES = 2


def start_spare(worker, channel):
    """Start a spawned session ahead of its request (the root agent keeps SPARES of them once
    its first session was asked for): it imports the candidate, then waits on a pipe of its own
    for the id of the request it answers. A spare is the same as a session started at the
    request: it is a fresh process of this agent, whose limits never change."""
    control, order = os.pipe()
    try:
        arguments = session_arguments(worker, channel, 0) + ["--spare", str(control)]
        pid = start_process(agent_command(arguments), keep_fds=(channel.read_fd, channel.write_fd, control))
    except OSError:
        os.close(order)
        return
    finally:
        os.close(control)
    set_cloexec(order)
    PROCESSES["spares"].append((pid, order))


def take_spare(rid):
    """The oldest spare session that is still alive, told to answer ``rid``; None if none is."""
    while PROCESSES["spares"]:
        pid, order = PROCESSES["spares"].pop(0)
        try:
            if reap(pid, os.WNOHANG)[0] == 0:
                os.write(order, ("%d\n" % rid).encode("ascii"))
                return pid
        except OSError:
            pass
        finally:
            os.close(order)
    return None


def drop_spares():
    """End the spare sessions (each would also exit once its pipe closes)."""
    spares, PROCESSES["spares"] = PROCESSES["spares"], []
    for pid, order in spares:
        os.close(order)
        try:
            os.kill(pid, signal.SIGKILL)
            reap(pid)
        except OSError:
            pass


def parse_arguments(argv):
    """agent.py's command line: (options, None), or (None, the error)."""
    options = {"module": "resource", "paths": [], "isolation": "auto", "session": None, "child": None,
               "spare": None, "sys_path": None}  # type: Dict[str, Any]
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == "--module" and args:
            options["module"] = args.pop(0)
        elif flag == "--path" and args:
            options["paths"].append(args.pop(0))
        elif flag == "--isolation" and args and args[0] in ("auto", "fork", "spawn"):
            options["isolation"] = args.pop(0)
        elif flag == "--session" and args:
            options["session"] = [int(part) for part in args.pop(0).split(",")]
        elif flag == "--spare" and args:
            options["spare"] = int(args.pop(0))
        elif flag == "--sys-path" and args:
            options["sys_path"] = json.loads(args.pop(0))
        elif flag == "--child" and len(args) >= 2:
            options["child"] = (args.pop(0), json.loads(args.pop(0)))
        else:
            return None, "agent: unknown or incomplete argument %s" % flag
    return options, None


def settle_processes(isolation):
    """How this agent makes processes: fork where it works (probed) unless spawn is asked for."""
    PROCESSES["fork"] = probe_fork()
    forks = isolation != "spawn" and PROCESSES["fork"]["available"]
    PROCESSES["mode"] = "fork" if forks else "spawn"


def leave_sys_path(folder):
    """Take ``folder`` (this program's own, which Python puts first) off sys.path: a candidate's
    own modules named like the agent's programs must be the ones it imports."""
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != folder]


def main(argv):
    leave_sys_path(os.path.dirname(os.path.abspath(__file__)))
    options, problem = parse_arguments(argv)
    if options is None:
        sys.stderr.write(problem + "\n")
        return 2
    if options["sys_path"] is not None:  # started with -S (agent_command): so are its own
        sys.path[:] = options["sys_path"]
    if options["child"] is not None or options["session"] is not None:
        # Settled by the agent that started this process, never tried here: the try is a child
        # whose CPU time would show in a session's RUSAGE_CHILDREN in the middle of an experiment.
        PROCESSES["quick"] = options["sys_path"] is not None
    if options["child"] is not None:  # a child program of an agent that spawns (start_child)
        PROCESSES["mode"] = "spawn"
        kind, params = options["child"]
        return CHILD_PROGRAMS[kind](params)
    if HAVE_SIGNAL:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if options["session"] is not None:
        return serve_session(options)
    channel = take_protocol_streams()
    # Said before the candidate is imported: the harness can tell an interpreter that does not
    # start from a module whose import does not end.
    channel.send({"id": None, "hello": {"protocol": PROTOCOL_VERSION, "pid": os.getpid()}})
    settle_processes(options["isolation"])
    PROCESSES["root"] = True
    if PROCESSES["mode"] == "fork":
        # Once here rather than in each child that drops privileges (tens of ms each, seconds
        # under qemu): forked children inherit the modules. A spawned session imports them
        # itself, when it drops privileges (act_drop_privileges).
        import_all(DROP_IMPORTS)
    worker = Worker(options["module"], options["paths"])
    worker.channel = channel
    PROCESSES["module"] = worker.module
    # Said once the import has ended, whatever it did: the harness can tell a death during the
    # import from one after it.
    channel.send({"id": None, "imported": {"error": worker.import_error is not None}})
    return serve(worker, channel)


def serve_session(options):
    """A spawned session (open_session): the protocol is on the inherited descriptors; answer
    the request that opened it with this pid once the candidate is imported, then serve."""
    read_fd, write_fd, rid = options["session"]
    for fd in (read_fd, write_fd):
        set_cloexec(fd)
    channel = Channel(read_fd, write_fd)
    quiet_standard_streams()
    PROCESSES["mode"] = "spawn"
    worker = Worker(options["module"], options["paths"])
    worker.channel = channel
    PROCESSES["module"] = worker.module
    if worker.module is None:  # imported in the agent, not here: the session ends unanswered
        sys.stderr.write("agent session: the candidate did not import: %s\n" % (worker.import_error or {}).get("message"))
        return 70
    if options["spare"] is not None:  # started ahead: wait for the request to answer
        order = b""
        while not order.endswith(b"\n"):
            chunk = os.read(options["spare"], 64)
            if not chunk:  # the agent dropped this spare, or ended
                return 0
            order += chunk
        os.close(options["spare"])
        rid = int(order)
    channel.send({"id": rid, "ok": {"pid": os.getpid()}})
    return serve(worker, channel)


def finish(code):
    """Exit now: flush what was printed, and do not wait for threads a candidate left running."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(code)


if __name__ == "__main__":
    try:
        exit_code = main(sys.argv[1:])
    except BaseException:
        sys.stderr.write(format_exc())
        exit_code = 70
    finish(exit_code)
