"""The commands: ``cli`` (``python -m rckit.conformance``, ``rckit``, ``rckit-conform``: judge,
and hand the other commands to their modules) and ``traceability`` (the rule <-> test table and
its gate, ``rckit-trace``).
"""
