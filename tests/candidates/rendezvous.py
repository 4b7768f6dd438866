"""Not broken: its import leaves a mark and waits until a second copy of it (another candidate,
another agent) has left one too, then re-exports resource. Checked one at a time, the first copy
waits alone and gives up; checked together, both import."""

import os
import time
from resource import *

_folder = os.environ["RCKIT_RENDEZVOUS"]
_mine = os.path.join(_folder, os.urandom(8).hex())  # pids repeat: each agent has its own PID namespace
open(_mine, "w").close()
_deadline = time.monotonic() + float(os.environ.get("RCKIT_RENDEZVOUS_WAIT", "10"))
while len(os.listdir(_folder)) < 2:
    if time.monotonic() > _deadline:
        raise ImportError("no other copy of this module started while this one waited")
    time.sleep(0.05)
