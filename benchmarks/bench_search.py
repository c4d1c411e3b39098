"""Search throughput with and without xdist, side by side in one run.

    python benchmarks/bench_search.py [--rounds 4] [--candidates 25] [--context contexts/cache_cloudphysics]

Runs the same seeded search twice (no -n, then -n 2) into throwaway archives and
prints evaluated candidates per second for each and their ratio (target >= 1.7).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def run(ctx: str, rounds: int, candidates: int, workers: int, tmp: Path) -> dict:
    out = tmp / f"n{workers}.json"
    argv = [sys.executable, "-m", "pytest", "--synthesize", ctx, "--synth-rounds", str(rounds),
            "--synth-candidates", str(candidates), "--synth-archive", str(tmp / f"n{workers}.sqlite"),
            "--synth-json", str(out), "-q", "-p", "no:cacheprovider"]
    if workers:
        argv += ["-n", str(workers)]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--context", default="contexts/cache_cloudphysics")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--candidates", type=int, default=25)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        serial = run(args.context, args.rounds, args.candidates, 0, Path(tmp))
        par = run(args.context, args.rounds, args.candidates, 2, Path(tmp))
    rate = {k: d["evaluated"] / sum(r["seconds"] for r in d["rounds_log"]) for k, d in (("serial", serial), ("n2", par))}
    assert serial["best"]["score"] == par["best"]["score"], "same seed must give the same winner"
    print(f"{args.context}: {args.rounds} rounds x {args.candidates} candidates, same seed, same winner "
          f"({serial['best']['score']:.6f})")
    print(f"no xdist   {rate['serial']:6.2f} candidates/s   wall {serial['wall_seconds']:6.1f} s")
    print(f"-n 2       {rate['n2']:6.2f} candidates/s   wall {par['wall_seconds']:6.1f} s")
    print(f"ratio      {rate['n2'] / rate['serial']:6.2f}x   (target >= 1.7)")


if __name__ == "__main__":
    main()
