"""The cache domain's CHECKER rules, shipped once. A context pulls them in with

    from pytest_policysmith.cache.checks import *  # noqa: F403

in its ``test_rules.py``, and may add tests or override one by defining it again.
A failed assertion is the generator's feedback.
"""

from ..checking.basic_checks import test_uses_only_declared_inputs, test_compiles  # noqa: F401  (in this order: rules before gcc)


def test_returns_finite_priorities(candidate):
    res = candidate.run_tiny("zipf")
    assert res.nonfinite_priorities == 0, "priority() returned NaN or infinity"


def test_is_deterministic(candidate):
    assert candidate.run_tiny("zipf").misses == candidate.run_tiny("zipf", fresh=True).misses


def test_repeated_objects_hit(candidate):
    # 10 objects requested in a loop, cache of 20: only the first request of each may miss.
    res = candidate.run_tiny("loop", capacity=20)
    assert res.misses == 10


def test_caches_something_useful(candidate):
    # On a skewed trace any sane policy keeps some popular objects.
    res = candidate.run_tiny("zipf", capacity=100)
    assert res.object_miss_ratio < 0.95
