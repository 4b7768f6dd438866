"""The conformance suite: judge any ``resource`` implementation against the rules in rckit.spec.

Run it with ``python -m rckit.conformance`` (see rckit.conformance.cli) or as pytest tests
(``pytest SUITE --candidate MODULE[=PYTHON]``, SUITE being ``rckit.conformance.cli.SUITE``).
"""
