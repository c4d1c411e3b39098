"""Context: the per-trace suite in small, for tests and a first try (three small LIRS traces, few rounds).

Run the searches:          pytest --synthesize contexts/cache_suite_small -n 2 --synth-accept
Regression-check winners:  pytest contexts/cache_suite_small
"""

policysmith_context = {
    "domain": "cache",
    "traces": ["lirs/ps", "lirs/multi*"],
    "per_trace": True,
    "cache_size": 0.1,
    "ignore_size": True,
    "objective": "object_miss_ratio",
    "template": "cache_priority",
    "gate": ["LRU", "FIFO"],
    "search": {"rounds": 3, "candidates": 10, "parents": 2, "generator": "evolve"},
    "rtol": 1e-9,
    "atol": 1e-12,
}
