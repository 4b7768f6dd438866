# -*- coding: utf-8 -*-
"""The protocol's channel: line-oriented JSON over private descriptors, moved away from the
standard streams before any candidate code runs."""

from __future__ import absolute_import, print_function

import json
import os

from .processes import set_cloexec

#: The version of the protocol (docs/protocol.md), said in ``hello`` and ``describe``.
PROTOCOL_VERSION = 1
#: The protocol's descriptors are moved at least this high, out of the way of a candidate that
#: closes or redirects its standard streams (or the first few descriptors).
PROTOCOL_FD_MIN = 200


def _private_copy(fd):
    """A close-on-exec duplicate of ``fd`` numbered PROTOCOL_FD_MIN or above."""
    import fcntl

    try:
        copy = fcntl.fcntl(fd, fcntl.F_DUPFD, PROTOCOL_FD_MIN)
    except (IOError, OSError):  # a descriptor limit at or below PROTOCOL_FD_MIN
        copy = fcntl.fcntl(fd, fcntl.F_DUPFD, 3)
    set_cloexec(copy)
    return copy


def take_protocol_streams():
    """Move the protocol off stdin and stdout before any candidate code runs: stdin then reads
    /dev/null and stdout writes where stderr does, so a candidate that prints, reads or closes
    its standard streams cannot corrupt or cut the protocol."""
    channel = Channel(_private_copy(0), _private_copy(1))
    quiet_standard_streams()
    return channel


def quiet_standard_streams():
    """Point stdin at /dev/null and stdout where stderr goes (the protocol is elsewhere)."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)


class Channel(object):
    """Line-oriented JSON over raw file descriptors (no buffering to confuse a fork)."""

    def __init__(self, read_fd=0, write_fd=1):
        self.read_fd, self.write_fd = read_fd, write_fd
        self.pending = b""

    def receive(self):
        while b"\n" not in self.pending:
            chunk = os.read(self.read_fd, 65536)
            if not chunk:
                return None
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return json.loads(line.decode("utf-8"))

    def send(self, message):
        data = (json.dumps(message, sort_keys=True) + "\n").encode("utf-8")
        while data:
            written = os.write(self.write_fd, data)
            data = data[written:]
