"""One default search per trace of a trace store, and the paper-style table of the winners.

    python benchmarks/per_trace.py [--traces ../shared/traces] [--only lirs/ps,arc/P6] [-n 2] [--out DIR]

For every trace, a throwaway context (10% of the objects, sizes ignored, the cache_priority
template, the shipped CHECKER rules) is searched with the default budget through
``pytest --synthesize CTX -n N``, exactly as a user runs it. The table gives, per trace: the
winner's miss ratio, the best of the paper's 14 baselines, the best non-oracle libCacheSim
policy, Belady, and ``gap_closed``: the share of the best baseline's distance to Belady that
the winner removes. Results are appended to ``DIR/per_trace.jsonl`` as each trace finishes,
so a stopped benchmark resumes where it was (traces already there are not searched again).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUFFIX = ".oracleGeneral.bin.zst"
ORACLES = ("Belady",)


def traces_in(store: Path) -> list[str]:
    """Every trace in the store, smallest file first (so a partial run has covered the most traces)."""
    files = sorted(store.glob(f"*/*{SUFFIX}"), key=lambda p: (p.stat().st_size, p.name))
    return [f"{p.parent.name}/{p.name[:-len(SUFFIX)]}" for p in files]


def make_context(folder: Path, trace: str) -> Path:
    ctx = folder / ("ctx_" + trace.replace("/", "_").replace("-", "_"))
    ctx.mkdir(parents=True, exist_ok=True)
    decl = {"domain": "cache", "traces": [trace], "cache_size": 0.1, "ignore_size": True,
            "objective": "object_miss_ratio", "template": "cache_priority"}
    (ctx / "conftest.py").write_text(f"policysmith_context = {decl!r}\n")
    (ctx / "test_rules.py").write_text((ROOT / "contexts" / "cache_cloudphysics" / "test_rules.py").read_text())
    return ctx


def row(summary: dict, trace: str, seconds: float) -> dict:
    """The table's entry for one trace, from a run's --synth-json summary."""
    bases = summary["baselines"][trace]
    best = summary["best"]
    score = best["score"] if best else None
    paper = {p: r for p, r in bases.items() if r["paper"]}
    others = {p: r for p, r in bases.items() if p not in ORACLES}
    bp = min(paper, key=lambda p: paper[p]["object_miss_ratio"])
    ba = min(others, key=lambda p: others[p]["object_miss_ratio"])
    belady = bases.get("Belady", {}).get("object_miss_ratio")
    base = others[ba]["object_miss_ratio"]
    gap = base - belady if belady is not None else None
    return {
        "trace": trace, "score": score, "source": best["source"] if best else None,
        "size": best.get("size") if best else None,
        "raw_score": (summary.get("raw_best") or {}).get("score"),
        "best_paper_baseline": {"policy": bp, "score": paper[bp]["object_miss_ratio"]},
        "best_baseline": {"policy": ba, "score": base},
        "belady": belady,
        "gap_closed": (base - score) / gap if gap and score is not None and gap > 1e-9 else None,
        "beats_paper": score is not None and all(score <= r["object_miss_ratio"] + 1e-12 for r in paper.values()),
        "beats_all_share": (sum(score <= r["object_miss_ratio"] + 1e-12 for r in others.values()) / len(others)
                            if score is not None else 0.0),
        "beats_all": score is not None and all(score <= r["object_miss_ratio"] + 1e-12 for r in others.values()),
        "timeouts": summary.get("baseline_timeouts", {}).get(trace, []),
        "evaluated": summary["evaluated"], "seconds": seconds, "run_id": summary["run_id"],
    }


def search(trace: str, tmp: Path, workers: int, env: dict, extra: list[str]) -> dict:
    ctx = make_context(tmp, trace)
    out = tmp / f"{ctx.name}.json"
    argv = [sys.executable, "-m", "pytest", "--synthesize", str(ctx), "--synth-archive", str(tmp / "a.sqlite"),
            "--synth-json", str(out), "--synth-report", "none", "-q", "-p", "no:cacheprovider", *extra]
    if workers:
        argv += ["-n", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if proc.returncode != 0 or not out.exists():
        return {"trace": trace, "error": (proc.stdout + proc.stderr)[-1500:], "seconds": secs}
    return row(json.loads(out.read_text()), trace, secs)


def table(rows: list[dict]) -> list[str]:
    ok = [r for r in rows if "error" not in r]
    lines = ["| trace | winner | best paper baseline | best libCacheSim | Belady | gap closed | beats all 14 | "
             "beats libCacheSim | s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in ok:
        gap = f"{r['gap_closed'] * 100:.1f}%" if r["gap_closed"] is not None else "n/a (no gap)"
        lines.append(f"| {r['trace']} | {r['score']:.6f} | {r['best_paper_baseline']['policy']} "
                     f"{r['best_paper_baseline']['score']:.6f} | {r['best_baseline']['policy']} "
                     f"{r['best_baseline']['score']:.6f} | {r['belady']:.6f} | {gap} | "
                     f"{'yes' if r['beats_paper'] else 'no'} | {r['beats_all_share'] * 100:.0f}% | "
                     f"{r['seconds']:.0f} |")
    gaps = [r["gap_closed"] for r in ok if r["gap_closed"] is not None]
    lines.append("")
    lines.append(f"traces searched: {len(ok)} of {len(rows)}; beats all 14 paper baselines on "
                 f"{sum(r['beats_paper'] for r in ok)}; beats every non-oracle libCacheSim policy on "
                 f"{sum(r['beats_all'] for r in ok)}; median gap closed "
                 f"{statistics.median(gaps) * 100 if gaps else float('nan'):.1f}% (over {len(gaps)} traces with a gap)")
    for r in rows:
        if "error" in r:
            lines.append(f"FAILED {r['trace']}: {r['error'][-300:]}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", default=os.environ.get("POLICYSMITH_TRACES") or str(ROOT.parent / "shared" / "traces"))
    ap.add_argument("--only", default=None, help="comma-separated dataset/name subset")
    ap.add_argument("-n", type=int, default=2, help="xdist workers per search (default 2)")
    ap.add_argument("--out", default=str(ROOT / ".policysmith" / "per_trace"))
    ap.add_argument("extra", nargs="*", help="more pytest arguments for every search, after --")
    args = ap.parse_args()
    store = Path(args.traces).resolve()
    names = args.only.split(",") if args.only else traces_in(store)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "per_trace.jsonl"
    done = {json.loads(x)["trace"]: json.loads(x) for x in log.read_text().splitlines()} if log.exists() else {}
    env = {**os.environ, "POLICYSMITH_TRACES": str(store)}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if name in done and "error" not in done[name]:
                continue
            r = search(name, Path(tmp), args.n, env, args.extra)
            done[name] = r
            with open(log, "a") as f:
                f.write(json.dumps(r) + "\n")
            print(f"{name}: " + (f"winner {r['score']:.6f}, best baseline {r['best_baseline']['policy']} "
                                 f"{r['best_baseline']['score']:.6f}, {r['seconds']:.0f} s" if "error" not in r
                                 else "FAILED"), flush=True)
    rows = [done[n] for n in names if n in done]
    text = "\n".join(table(rows))
    (out / "per_trace.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
