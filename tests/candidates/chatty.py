"""Conforming, but talkative: a debug line on stdout and on stderr at import and in every call.
Printing is not a conformance failure; the protocol must not notice it."""

import resource as _c
import sys
from resource import *

print("chatty: imported")
sys.stderr.write("chatty: imported (stderr)\n")


def _say(name):  # type: ignore[no-untyped-def]
    def call(*args):  # type: ignore[no-untyped-def]
        print("chatty: %s%r" % (name, args))
        sys.stderr.write("chatty: %s (stderr)\n" % name)
        sys.stdout.flush()
        return getattr(_c, name)(*args)

    call.__name__ = name
    return call


getrlimit = _say("getrlimit")
setrlimit = _say("setrlimit")
getrusage = _say("getrusage")
getpagesize = _say("getpagesize")
if hasattr(_c, "prlimit"):
    prlimit = _say("prlimit")
