"""Conforming, but at import it starts a process that leaves its session (setsid) and its parent
(a double fork) and sleeps for ten minutes. Nothing a candidate starts may outlive the run."""

import os
import sys
from resource import *

# The escapee's command line names the directory the run was started in, so a test can find it.
MARKER = "rckit-escapee-of-escapes:" + os.getcwd()


def _escape():  # type: ignore[no-untyped-def]
    child = os.fork()
    if child == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", MARKER])
        os._exit(0)
    os.waitpid(child, 0)


_escape()
