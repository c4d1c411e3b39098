"""Transfer and size sweeps: stored heuristics and every baseline across traces and cache sizes.

    pytest contexts/cache_cloudphysics --transfer DATASET_OR_DIR
    pytest contexts/cache_cloudphysics --sweep 0.01,0.03,0.1,0.2

One pytest item per (trace, cache size), so ``-n`` spreads them over workers; baselines
come from the on-disk baseline cache when they were computed before.
"""
