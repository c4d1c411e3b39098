"""CHECKER rules every domain shares: the body reads only what the template declares, and it compiles.

A domain's own checks module imports them by name (``cache/checks.py``, ``tcp/checks.py``), so a
context pulls everything in with one import of its domain's checks.
"""

from .rules import static_violations


def test_uses_only_declared_inputs(candidate):
    violations = static_violations(candidate.source, candidate.template)
    assert not violations, "; ".join(violations)


def test_compiles(candidate):
    candidate.compile()
