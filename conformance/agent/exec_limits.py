# -*- coding: utf-8 -*-
"""The program EFFECTS.SURVIVE_EXEC exec's: import the candidate, read limits, answer, exit.

    python exec_limits.py MODULE RESOURCES REPLY_ID REPLY_FD [PATH]...

RESOURCES is a comma-separated list of numbers. The answer is the reply to the agent's pending
``exec_report`` request, one protocol line on REPLY_FD:
``{"id": REPLY_ID, "ok": {"limits": {"3": [soft, hard], ...}}}``.

Apart from the agent's other modules (and not importing them) so that a fresh interpreter starts only what this needs: the candidate
and ``os``/``sys``. Under qemu, compiling the agent and importing json, tempfile and traceback cost
about 2.7 s at each exec, three times the interpreter's own start. Runs on Python 2.7 and 3.x.
"""

import os
import sys

TYPE_CHECKING = False  # mypy takes it as true; typing costs 0.5 s to import under qemu
if TYPE_CHECKING:
    from typing import List, Mapping, Optional, Sequence  # noqa: F401


def _int_text(value):
    # type: (object) -> Optional[str]
    """The JSON text of an exact int (not bool, not a subclass), or None."""
    if type(value) is int or (sys.version_info[0] == 2 and type(value).__name__ == "long"):
        return str(value)  # a Python 2 long too: str has no L suffix
    return None


def answer(reply_id, limits):
    # type: (int, Mapping[int, Sequence[object]]) -> str
    """The protocol line answering ``reply_id`` with ``limits`` ({resource: [soft, hard]}).
    Written by hand when every value is an exact int, the case of every working candidate;
    anything else goes through json (imported only then), as the agent would encode it."""
    parts = []
    for resource in sorted(limits):
        texts = []  # type: List[str]
        for value in limits[resource]:
            text = _int_text(value)
            if text is None:
                import json

                return json.dumps({"id": reply_id, "ok": {"limits": limits}}, sort_keys=True) + "\n"
            texts.append(text)
        parts.append('"%d": [%s]' % (resource, ", ".join(texts)))
    return '{"id": %d, "ok": {"limits": {%s}}}\n' % (reply_id, ", ".join(parts))


def main(argv):
    # type: (List[str]) -> int
    """Report the limits this fresh process sees through the candidate; 0 once written."""
    module_name, resources, reply_id, reply_fd = argv[0], argv[1], int(argv[2]), int(argv[3])
    # Not this program's own folder (Python puts it first): the candidate's modules come first.
    own = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != own]
    for path in reversed(argv[4:]):
        if path not in sys.path:
            sys.path.insert(0, path)
    module = __import__(module_name, fromlist=["_"])
    limits = dict((int(r), list(module.getrlimit(int(r)))) for r in resources.split(","))
    data = answer(reply_id, limits).encode("utf-8")
    while data:
        data = data[os.write(reply_fd, data) :]
    return 0


if __name__ == "__main__":
    code = 70
    try:
        code = main(sys.argv[1:])
    except BaseException:
        import traceback

        traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)  # not waiting for threads a candidate's import left running
