# -*- coding: utf-8 -*-
"""The worker: imports one candidate module and answers the requests about it. The serve loop
uses it, and the harness runs it in its own process for an in-process candidate."""

from __future__ import absolute_import, print_function

import errno as errno_module
import os
import sys

from .calls import perform_call
from .codec import decode, encode, format_exc, safe_str
from .compat import integer_types, signal
from .processes import reap

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401

    from .channel import Channel  # noqa: F401


def _possible_int(value):
    """The integer a candidate could read from an argument (every conversion some version uses)."""
    for convert in (lambda v: int.__and__(v, -1), lambda v: v.__index__(), int):
        try:
            result = convert(value)
        except Exception:
            continue
        if isinstance(result, integer_types):
            return int(result)
    return None


def _process_exists(pid):
    if not 0 < pid < 2 ** 31:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno != errno_module.ESRCH
    return True


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
        if op == "describe":  # asked of the root agent: a spawned session need not import facts
            from .facts import describe

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
            from .actions import ACTIONS  # on the first act: most sessions only call

            return ACTIONS[request["action"]](params, self)
        raise ValueError("unknown op %r" % (op,))

    def refuse_foreign_target(self, args, kwargs):
        """Never let a candidate set the limits of a process that is not disposable: prlimit with
        limits may only name this process (0 or its pid), a sleeper it spawned, or no process."""
        limits = args[2] if len(args) > 2 else kwargs.get("limits")
        if limits is None or not args:
            return
        pid = _possible_int(args[0])
        if pid is None or pid in (0, os.getpid()) or pid in self.sleepers or not _process_exists(pid):
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
