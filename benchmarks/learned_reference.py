"""What a learned policy closes of the distance to Belady, beside the suite's winners.

    python benchmarks/learned_reference.py [--summary SUITE.json] [--policy LRB] [--traces ../shared/traces] [-j 2]

The search-quality issue asks a winner to close a quarter of the distance from the best baseline to
Belady. For scale, this runs one of libCacheSim's learned policies, by default LRB (Learning Relaxed
Belady: gradient-boosted trees trained online on Belady's decisions over a sliding window; left out
of the 31 baselines because it takes minutes on a large trace), on every trace of a suite summary
(default: the README's table), at the suite's cache size, sizes ignored, and prints its share of
that distance beside the winner's. A policy that runs out of its CPU time is shown as a timeout.
Results are cached with the other baselines (``$POLICYSMITH_CACHE``).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_policysmith.cache.baselines import BaselineTimeout, run_baselines  # noqa: E402
from pytest_policysmith.cache.simulator import resolve_capacity  # noqa: E402
from pytest_policysmith.cache.traces import open_trace  # noqa: E402
from pytest_policysmith.context import load_context  # noqa: E402
from pytest_policysmith.reporting.suite import gap_closed  # noqa: E402


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary", type=Path, default=ROOT / "docs" / "suite_20261206_big60" / "summary.json",
                    help="a suite's --synth-json summary (its winners, best baselines and Belady)")
    ap.add_argument("--policy", default="LRB", help="the libCacheSim policy to run (default LRB)")
    ap.add_argument("--traces", default=os.environ.get("POLICYSMITH_TRACES") or str(ROOT.parent / "shared" / "traces"))
    ap.add_argument("--timeout", type=float, default=600.0, help="CPU-seconds per trace (default 600)")
    ap.add_argument("-j", type=int, default=2, help="traces at once (default 2)")
    args = ap.parse_args()
    suite = ROOT / "contexts" / "cache_suite"
    ctx = load_context(suite, runpy.run_path(str(suite / "conftest.py"))["policysmith_context"])
    rows = json.loads(args.summary.read_text())["per_trace"]

    def run(row: dict) -> float | None:
        trace = open_trace(row["trace"], [Path(args.traces)])
        cap = resolve_capacity(ctx.settings.cache_size, trace, ctx.settings.ignore_size)
        try:
            res = run_baselines(trace, cap, ctx.settings.ignore_size, None, [args.policy], jobs=1,
                                timeout=args.timeout)
        except BaselineTimeout:
            return None
        return getattr(res[args.policy], ctx.objective)

    with ThreadPoolExecutor(args.j) as pool:
        scores = list(pool.map(run, rows))
    print(f"{'trace':<42} {'best baseline':>24} {'Belady':>9} {args.policy:>9} {'closes':>9} {'winner':>9} {'closes':>9}")
    shares = []
    for row, score in zip(rows, scores):
        best, belady = row["best_baseline"]["score"], row["belady"]
        mine = gap_closed(best, score, belady)
        if mine is not None:
            shares.append(mine)
        shown = "timeout" if score is None else f"{score:.6f}"
        print(f"{row['trace']:<42} {row['best_baseline']['policy']:>13} {best:.6f} {belady:9.6f} {shown:>9} "
              f"{pct(mine):>9} {row['score']:9.6f} {pct(row['gap_closed']):>9}")
    behind = sum(s < 0 for s in shares)
    print(f"{args.policy}: behind the best baseline on {behind} of {len(shares)} traces with a distance to Belady; "
          f"median share closed {pct(statistics.median(shares)) if shares else 'n/a'}; "
          f"timeouts: {sum(s is None for s in scores)}")


if __name__ == "__main__":
    main()
