"""A pure-Python reference implementation of Python's ``resource`` module.

Import it as a drop-in: ``import rckit.reference.resource as resource``.
"""
