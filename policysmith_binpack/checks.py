"""The bin packing CHECKER rules. A context pulls them in with

    from policysmith_binpack.checks import *  # noqa: F403
"""

from pytest_policysmith.checking.basic_checks import test_uses_only_declared_inputs, test_compiles  # noqa: F401  (in this order: rules before gcc)


def test_returns_finite_priorities(candidate):
    assert candidate.pack_tiny().nonfinite_priorities == 0, "priority() returned NaN or infinity"


def test_is_deterministic(candidate):
    assert candidate.pack_tiny().bins == candidate.pack_tiny().bins


def test_shares_bins(candidate):
    # A heuristic that opens a bin per item is not packing.
    res = candidate.pack_tiny()
    assert res.bins[0] < 0.75 * 500, f"{res.bins[0]} bins for 500 items: items are not sharing bins"
