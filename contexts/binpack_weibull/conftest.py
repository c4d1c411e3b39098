"""Context: online bin packing on FunSearch's Weibull 5k setting (5 instances of 5,000 items, capacity 100).

Run the search:            pytest --synthesize contexts/binpack_weibull -n 2
Regression-check policies: pytest contexts/binpack_weibull
"""

policysmith_context = {
    "domain": "binpack",
    "instances": "weibull",   # generated from the seed as FunSearch does: Weibull(3, 45), rounded, in [1, 100]
    "count": 5,
    "items": 5000,
    "seed": 0,
    "objective": "excess_bins",  # (bins used - L1 lower bound) / L1 bound, over the 5 instances
    "template": "binpack_priority",
    "gate": ["BestFit", "FirstFit"],
    "search": {"rounds": 20, "candidates": 25, "parents": 2, "generator": "evolve"},
    "rtol": 1e-12,
    "atol": 1e-12,
}
