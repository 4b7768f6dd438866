"""Broken: getrusage leaves the process with os._exit(3) (no exception, no cleanup)."""

import os
from resource import *


def getrusage(who):  # type: ignore[no-untyped-def]
    os._exit(3)
