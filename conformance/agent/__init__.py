# -*- coding: utf-8 -*-
"""The agent: the code that runs inside the candidate's interpreter and does what the harness asks.

Standard library only; runs on CPython 2.7 and 3.x and on PyPy. ``candidates.stage()`` copies this
folder into each stage as the package ``_rckit_agent`` (docs/architecture.md), and ``boot.py``
starts it there; the harness imports ``worker`` for an in-process candidate. docs/protocol.md
describes the protocol; the modules, from the bottom up:

- ``compat``: Python 2 or 3, and the optional modules (signal, threading).
- ``codec``: the tagged JSON encoding of arguments and results.
- ``calls``: one call of the candidate's function, described.
- ``processes``: making, running and waiting for processes; how one ended.
- ``facts``: what ``describe`` answers about the process and interpreter.
- ``workloads``, ``experiments`` and ``actions`` (their table): what the ``act`` request runs.
- ``children``: the programs of the agent's child processes.
- ``worker``: imports the candidate and answers requests about it.
- ``channel``: JSON lines over private descriptors.
- ``sessions``: the serve loop and the child sessions it opens.
- ``main``: the command line and start.
- ``boot.py`` and ``exec_limits.py`` are programs run as scripts, not imported by the others.

Nothing here is imported at package import, so that a fresh session pays only for what it uses.
"""
