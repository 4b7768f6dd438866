"""The harness: drives candidates from the kit's own interpreter.

``candidates`` (what the suite calls), ``specs`` and ``info`` (what a candidate is, and what its
agent described), ``staging`` (the agent's files where its interpreter reads them),
``agent_process`` and ``sessions`` (the protocol's harness side, with its guards), ``timeouts``
and ``errors``, ``values`` (the tagged encoding), ``exchanges`` (the record of the last example's
requests), and ``own_limits`` (the harness's own limits, checked around each test). It imports
the agent package (to stage it, and to run its worker in-process) and the environments (to put
an agent under a warden); nothing above it.
"""
