"""kill -9 the controller at random points, resume, and check the archive: ten trials by default.

    python benchmarks/kill_resume.py [--trials 10] [--context contexts/cache_synthetic] [-n 2]

For each trial: start a seeded run, SIGKILL the controller (only the controller: its inner
session must die with it) after a random delay, then ``--synth-resume`` until the run
finishes, killing again at random while it resumes. A trial is consistent when every
candidate was evaluated exactly once (one row per slot, none pending), no run was
duplicated, and the winner equals an uninterrupted run's with the same seed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def argv(ctx: str, archive: Path, seed: int, workers: int, extra: list[str]) -> list[str]:
    a = [sys.executable, "-m", "pytest", "--synthesize", ctx, "--synth-archive", str(archive), "--synth-seed",
         str(seed), "-p", "no:cacheprovider", "-q", "--synth-report", "none", *extra]
    return a + (["-n", str(workers)] if workers > 1 else [])


def clean_run(ctx: str, tmp: Path, seed: int, workers: int) -> dict:
    out = tmp / "clean.json"
    subprocess.run(argv(ctx, tmp / "clean.sqlite", seed, workers, ["--synth-json", str(out)]), check=True,
                   stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def trial(ctx: str, tmp: Path, seed: int, workers: int, rng: random.Random, max_delay: float) -> tuple[bool, str]:
    archive = tmp / f"t{rng.random():.6f}.sqlite"
    kills = 0
    out = tmp / "resumed.json"
    for _ in range(30):
        extra = ["--synth-json", str(out)] + (["--synth-resume"] if _has_run(archive) else [])
        proc = subprocess.Popen(argv(ctx, archive, seed, workers, extra), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        delay = rng.uniform(0.5, max_delay)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        if proc.returncode == 0 and out.exists():
            break
    else:
        return False, f"did not finish after {kills} kills"
    db = sqlite3.connect(archive)
    runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    rows = db.execute("SELECT round, idx, attempt, COUNT(*) FROM candidates GROUP BY round, idx, attempt").fetchall()
    dup = [r for r in rows if r[3] != 1]
    pending = db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0]
    got = json.loads(out.read_text())
    out.unlink()
    return (runs == 1 and not dup and pending == 0, f"kills={kills} runs={runs} duplicates={len(dup)} "
            f"pending={pending} evaluated={got['evaluated']} best={got['best']['score']:.6f}"), got


def _has_run(archive: Path) -> bool:
    """Whether the killed attempt got as far as recording its run (else start afresh)."""
    if not archive.exists():
        return False
    try:
        return sqlite3.connect(archive).execute("SELECT COUNT(*) FROM runs").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--context", default="contexts/cache_synthetic")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("-n", type=int, default=0)
    ap.add_argument("--max-delay", type=float, default=6.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        ref = clean_run(args.context, Path(tmp), args.seed, args.n)
        print(f"uninterrupted: evaluated={ref['evaluated']} best={ref['best']['score']:.6f}")
        good = 0
        for k in range(args.trials):
            (ok, text), got = trial(args.context, Path(tmp), args.seed, args.n, rng, args.max_delay)
            same = got["best"]["source"] == ref["best"]["source"] and got["best"]["score"] == ref["best"]["score"] \
                and got["evaluated"] == ref["evaluated"]
            good += ok and same
            print(f"trial {k + 1:2d}: {'consistent' if ok and same else 'INCONSISTENT'}  {text}")
    print(f"{good}/{args.trials} consistent resumes")
    sys.exit(0 if good == args.trials else 1)


if __name__ == "__main__":
    main()
