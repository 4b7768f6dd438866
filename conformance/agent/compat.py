# -*- coding: utf-8 -*-
"""What differs between the interpreters the agent runs on: Python 2 or 3, and the optional
modules (signal, threading) whose absence is a capability the agent reports, not a crash."""

from __future__ import absolute_import, print_function

import sys

__all__ = ["HAVE_SIGNAL", "HAVE_THREADS", "integer_types", "signal", "string_types", "threading"]

# Optional: an interpreter without them still starts the agent, and the rules that need them are
# n/a there with the reason (see describe_capabilities and docs/protocol.md).
try:
    import signal

    HAVE_SIGNAL = True
except ImportError:  # pragma: no cover - no known interpreter lacks it
    HAVE_SIGNAL = False
    signal = None  # type: ignore[assignment]
try:
    import threading

    HAVE_THREADS = True
except ImportError:  # pragma: no cover - an interpreter built without threads
    HAVE_THREADS = False
    threading = None  # type: ignore[assignment]

if sys.version_info[0] == 2:  # pragma: no cover - exercised under CPython 2.7 only
    string_types = (str, unicode)  # noqa: F821
    integer_types = (int, long)  # noqa: F821
else:
    string_types = (str,)
    integer_types = (int,)
