"""Conforming, but it starts a thread at import that never ends and is not a daemon: an
interpreter would wait for it at exit forever."""

import threading
import time
from resource import *


def _forever():  # type: ignore[no-untyped-def]
    while True:
        time.sleep(1)


threading.Thread(target=_forever, name="hangs-at-exit").start()
