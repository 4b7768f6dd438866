"""The harness: drives candidates from the kit's own interpreter.

``candidates`` (what the suite calls), ``specs`` and ``info`` (what a candidate is, and what its
agent described), ``staging`` (the agent's files where its interpreter reads them),
``agent_process`` and ``sessions`` (the protocol's harness side, with its guards), ``errors``,
``values`` (the tagged encoding), ``exchanges`` (the record of the last example's requests),
``containment`` and ``warden`` (the keeper process that ends what an agent leaves behind), and
``own_limits`` (the harness's own limits, checked around each test). It imports the agent package
only to stage it and to run its worker in-process; nothing above it.
"""
