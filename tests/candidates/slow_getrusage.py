"""Conforming, but getrusage takes 3 seconds, as a call may under a loaded emulator. Judged as
another machine's candidate (its interpreter run through ``linux32``), the time limits stretch
and it passes; judged natively with a 2-second limit, it hangs."""

import time
from resource import *
from resource import getrusage as _getrusage


def getrusage(who):  # type: ignore[no-untyped-def]
    time.sleep(3)
    return _getrusage(who)
