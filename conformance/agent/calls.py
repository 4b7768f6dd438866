# -*- coding: utf-8 -*-
"""One call of a candidate's function, described: its value or exception, with the warnings
and resource.* audit events it raised."""

from __future__ import absolute_import, print_function

import os
import sys
import warnings

from .codec import describe_exception, encode, safe_str

TYPE_CHECKING = False  # mypy takes it as true; typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple  # noqa: F401


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
