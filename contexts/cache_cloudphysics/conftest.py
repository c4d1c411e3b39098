"""Context: cache eviction for CloudPhysics w106 at 10% of its objects (the PolicySmith paper's default).

Run the search:            pytest --synthesize contexts/cache_cloudphysics -n 2
Regression-check policies: pytest contexts/cache_cloudphysics
"""

policysmith_context = {
    "domain": "cache",
    "traces": ["cloudphysics/w106"],
    "cache_size": 0.1,            # fraction of the footprint (unique objects, sizes ignored)
    "ignore_size": True,
    "objective": "object_miss_ratio",
    "template": "cache_priority",
    # A stored heuristic must beat these in regression mode: the paper's best baseline and LRU.
    "gate": ["S3FIFO", "LRU", "ARC", "LIRS"],
    "search": {"rounds": 36, "candidates": 25, "parents": 2, "generator": "evolve"},
    # Our simulator is deterministic: a stored score must come back exactly.
    "rtol": 1e-9,
    "atol": 1e-12,
}
