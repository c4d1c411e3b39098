"""Context: one heuristic per trace, for every trace in the trace store (the paper's per-trace table).

Each trace gets its own search at 10% of its objects (sizes ignored), and its own winner.

Run the searches:          pytest --synthesize contexts/cache_suite -n 2 --synth-accept
Resume after a kill:       pytest --synthesize contexts/cache_suite -n 2 --synth-resume latest
Regression-check winners:  pytest contexts/cache_suite   (each winner on its own trace)
"""

policysmith_context = {
    "domain": "cache",
    "traces": ["*/*"],            # patterns are resolved in the trace store (--synth-traces, $POLICYSMITH_TRACES)
    "per_trace": True,            # one search, and one stored winner, per trace
    "cache_size": 0.1,
    "ignore_size": True,
    "objective": "object_miss_ratio",
    "template": "cache_priority",
    "gate": ["LRU", "FIFO"],
    # Cheap traces search longer: 240 rounds below 110,000 requests (the LIRS traces, web07/12, adapt_size),
    # 120 below 2 M, 60 on the rest (w106, arc/P3 and P6, orm-*).
    "search": {"rounds": 60, "candidates": 25, "parents": 2, "generator": "evolve",
               "small_rounds": {110_000: 240, 2_000_000: 120}},
    "rtol": 1e-9,
    "atol": 1e-12,
}
