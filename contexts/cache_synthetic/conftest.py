"""Context: cache eviction for a synthetic Zipf+scan trace made on the fly (no download, no trace store needed).

Run the search:            pytest --synthesize contexts/cache_synthetic -n 2
Regression-check policies: pytest contexts/cache_synthetic
"""

policysmith_context = {
    "domain": "cache",
    "traces": ["synthetic/zipf_scan"],
    "cache_size": 0.1,            # fraction of the footprint (unique objects, sizes ignored)
    "ignore_size": True,
    "objective": "object_miss_ratio",
    "template": "cache_priority",
    # A stored heuristic must beat these in regression mode.
    "gate": ["LRU", "FIFO"],
    "search": {"rounds": 5, "candidates": 12, "parents": 2, "generator": "evolve"},
    # Our simulator is deterministic: a stored score must come back exactly.
    "rtol": 1e-9,
    "atol": 1e-12,
}
