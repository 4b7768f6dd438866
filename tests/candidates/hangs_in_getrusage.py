"""Conforming, except that getrusage never returns. A hung candidate costs the run at most its
hang budget in all, not a time limit per test."""

import time
from resource import *


def getrusage(who):  # type: ignore[no-untyped-def]
    while True:
        time.sleep(1)
