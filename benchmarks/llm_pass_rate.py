"""Checker pass rates of a real local model, with and without the template's grammar, side by side.

    bash scripts/local-llm.sh        # Gemma 3 270M served as "local" on 127.0.0.1:8080
    python benchmarks/llm_pass_rate.py [--rounds 3] [--candidates 8] [--contexts contexts/cache_synthetic contexts/tcp_cc]

For each context, the same seeded run twice (``--synth-grammar off``, then ``on``), each from an
empty reply cache: the summary's first-try and after-repair pass rates through the CHECKER, and the
share of the model's replies (repairs included) that compiled.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(ctx: str, grammar: str, args, tmp: Path) -> dict:
    out = tmp / f"{Path(ctx).name}-{grammar}.json"
    argv = [sys.executable, "-m", "pytest", "--synthesize", ctx, "--synth-generator", "openai",
            "--synth-base-url", args.base_url, "--synth-model", "local", "--synth-grammar", grammar,
            "--synth-rounds", str(args.rounds), "--synth-candidates", str(args.candidates),
            "--synth-simplify-rounds", "0", "--synth-no-llm-cache", "--synth-llm-timeout", "300",
            "--synth-archive", str(tmp / f"{out.stem}.sqlite"), "--synth-json", str(out), "--synth-report", "none",
            "-q", "-p", "no:cacheprovider"]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    if not out.exists():
        sys.exit(f"llm_pass_rate: the run for {ctx} (grammar {grammar}) wrote no summary (exit {proc.returncode}):\n"
                 + proc.stdout[-1500:])
    s = json.loads(out.read_text())
    llm = [c for c in s["candidates"] if c["origin"].startswith("llm")]
    compiled = [c["checks"].get("test_compiles") == "passed" for c in llm]
    return {**s["llm"], "wall": time.perf_counter() - t0, "compiles": sum(compiled) / len(compiled) if llm else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contexts", nargs="+", default=["contexts/cache_synthetic", "contexts/tcp_cc"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--candidates", type=int, default=8)
    ap.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    ap.add_argument("--grammar", nargs="+", default=["off", "on"], choices=["off", "on"])
    args = ap.parse_args()
    print(f"{'context':<20} {'grammar':<8} {'replies':>8} {'first try':>10} {'after repair':>13} "
          f"{'compiles':>9} {'wall (s)':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for ctx in args.contexts:
            for grammar in args.grammar:
                r = run(ctx, grammar, args, Path(tmp))
                comp = f"{r['compiles'] * 100:.0f}%" if r["compiles"] is not None else "-"
                print(f"{Path(ctx).name:<20} {grammar:<8} {r['conversations']:>8} {r['first_try_pass_rate'] * 100:>9.0f}% "
                      f"{r['after_repair_pass_rate'] * 100:>12.0f}% {comp:>9} {r['wall']:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
