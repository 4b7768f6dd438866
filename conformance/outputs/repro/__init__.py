"""Reproducers: a stored example of a failing run turned into a standalone script.

``script`` writes the script (the part that differs per failure), ``prelude`` holds its fixed
helpers (copied into every script, so Python 2.7 and standard library only), ``rerun`` runs it
the way the failing run ran its candidate, and ``command`` is the ``repro`` command.
"""
