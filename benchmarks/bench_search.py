"""Search throughput with and without xdist, side by side in one run.

    python benchmarks/bench_search.py [--rounds 4] [--candidates 25] [--context contexts/cache_cloudphysics]
    python benchmarks/bench_search.py --trace lirs/ps --rounds 20     # a throwaway context on one trace

Runs the same seeded search twice (no -n, then -n 2) into throwaway archives, each from an
empty ``POLICYSMITH_CACHE`` (a first run: trace conversion, baselines and every compile
included), checks that both give the same winner and the same verdict and score for every
candidate, and prints evaluated candidates per second for each and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from throwaway import cache_context


def run(ctx: str, rounds: int, candidates: int, workers: int, tmp: Path) -> dict:
    out = tmp / f"n{workers}.json"
    env = {**os.environ, "POLICYSMITH_CACHE": str(tmp / f"cache-n{workers}")}
    argv = [sys.executable, "-m", "pytest", "--synthesize", ctx, "--synth-rounds", str(rounds),
            "--synth-candidates", str(candidates), "--synth-archive", str(tmp / f"n{workers}.sqlite"),
            "--synth-json", str(out), "-q", "-p", "no:cacheprovider"]
    if workers:
        argv += ["-n", str(workers)]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return json.loads(out.read_text())


def verdicts(archive: Path) -> list[tuple]:
    """Every candidate's id, status and score, and every rule's outcome: what must not change."""
    db = sqlite3.connect(archive)
    return (db.execute("SELECT id, hash, status, score FROM candidates ORDER BY id").fetchall()
            + db.execute("SELECT candidate_id, rule, outcome, 0 FROM checks ORDER BY candidate_id, rule").fetchall())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--context", default="contexts/cache_cloudphysics")
    ap.add_argument("--trace", default=None, help="search a throwaway context on this trace (dataset/name)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--candidates", type=int, default=25)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ctx = str(cache_context(Path(tmp) / "ctx", [args.trace])) if args.trace else args.context
        serial = run(ctx, args.rounds, args.candidates, 0, Path(tmp))
        par = run(ctx, args.rounds, args.candidates, 2, Path(tmp))
        same = verdicts(Path(tmp) / "n0.sqlite") == verdicts(Path(tmp) / "n2.sqlite")
    rate = {k: d["evaluated"] / sum(r["seconds"] for r in d["rounds_log"]) for k, d in (("serial", serial), ("n2", par))}
    assert serial["best"]["score"] == par["best"]["score"], "same seed must give the same winner"
    assert same, "same seed must give every candidate the same verdict and score"
    print(f"{args.trace or args.context}: {args.rounds} rounds x {args.candidates} candidates, same seed, same "
          f"winner ({serial['best']['score']:.6f}) and the same {serial['evaluated']} verdicts; empty caches")
    print(f"no xdist   {rate['serial']:6.2f} candidates/s   wall {serial['wall_seconds']:6.1f} s")
    print(f"-n 2       {rate['n2']:6.2f} candidates/s   wall {par['wall_seconds']:6.1f} s")
    print(f"ratio      {rate['n2'] / rate['serial']:6.2f}x")


if __name__ == "__main__":
    main()
