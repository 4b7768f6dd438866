"""The conformance suite: judge any ``resource`` implementation against the rules in rckit.spec.

Run it with ``python -m rckit.conformance`` (see rckit.conformance.tools.cli) or as pytest tests
(``pytest SUITE --candidate MODULE[=PYTHON]``, SUITE being ``rckit.conformance.SUITE``).
"""

from pathlib import Path

#: The folder of the conformance tests (what ``pytest SUITE --candidate ...`` runs).
SUITE = Path(__file__).resolve().parent / "suite"
