"""How much of lirs/2_pools' distance to Belady a policy without the future can close.

    python benchmarks/two_pools_bound.py [--traces ../shared/traces] [--summary SUITE.json]

The trace alternates two pools (odd requests: 100 hot objects; even ones: about 9,840 cold objects),
each request a uniform draw from its pool. When the next request is a uniform draw, no choice of the
cold objects kept hits more than (slots left) / (cold objects) of the cold requests on average, so the
expected misses of any online policy have a floor. This prints the pools, checks that the cold pool
behaves as independent draws (LRU's hits on it against that expectation), and prints the floor
beside the winner, the best baseline and Belady of a suite summary (default: the README's table).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_policysmith.cache.simulator import resolve_capacity  # noqa: E402
from pytest_policysmith.cache.traces import open_trace, read_requests  # noqa: E402


def lru_hits(seq: list[int], slots: int) -> int:
    cache: OrderedDict[int, None] = OrderedDict()
    hits = 0
    for x in seq:
        if x in cache:
            hits += 1
            cache.move_to_end(x)
        else:
            cache[x] = None
            if len(cache) > slots:
                cache.popitem(last=False)
    return hits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", default=os.environ.get("POLICYSMITH_TRACES") or str(ROOT.parent / "shared" / "traces"))
    ap.add_argument("--summary", type=Path, default=ROOT / "docs" / "suite_20261206_big60" / "summary.json",
                    help="a suite's --synth-json summary with a lirs/2_pools row")
    args = ap.parse_args()
    row = next(r for r in json.loads(args.summary.read_text())["per_trace"] if r["trace"] == "lirs/2_pools")
    trace = open_trace("lirs/2_pools", [Path(args.traces)])
    ids, _ = read_requests(trace.source)
    hot, cold = [int(x) for x in ids[1::2]], [int(x) for x in ids[0::2]]  # every second request, each
    capacity = resolve_capacity(0.1, trace, True)  # the suite's cache: 10% of the objects, sizes ignored
    n_hot, n_cold = len(set(hot)), len(set(cold))
    slots = capacity - n_hot
    counts_hot, counts_cold = Counter(hot).values(), Counter(cold).values()
    print(f"{trace.n_requests} requests; capacity {capacity} objects")
    print(f"hot pool: {n_hot} objects, {len(hot)} requests, {min(counts_hot)}-{max(counts_hot)} each")
    print(f"cold pool: {n_cold} objects, {len(cold)} requests, {min(counts_cold)}-{max(counts_cold)} each")
    expected = len(cold) * slots / n_cold
    print(f"LRU with {slots} slots on the cold pool alone: {lru_hits(cold, slots)} hits; "
          f"independent uniform draws: {expected:.0f} expected")
    floor = n_hot + len(cold) - expected  # the hot pool's first requests, and the cold pool's misses
    best = row["best_baseline"]
    print(f"expected misses of an online policy, at least: {floor:.0f} ({floor / trace.n_requests:.6f}); "
          f"{args.summary.parent.name}: winner {row['score']:.6f}, {best['policy']} {best['score']:.6f}, "
          f"Belady {row['belady']:.6f}")


if __name__ == "__main__":
    main()
