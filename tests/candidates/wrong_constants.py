"""Broken: RLIMIT_NOFILE has the macOS value (8) on Linux, and a name the platform lacks exists."""

from resource import *

RLIMIT_NOFILE = 8
RLIMIT_KQUEUES = 13
