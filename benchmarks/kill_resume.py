"""kill -9 the controller (or an xdist worker) at random points and check the archive: ten trials.

    python benchmarks/kill_resume.py [--trials 10] [--context contexts/cache_synthetic] [-n 2]
    python benchmarks/kill_resume.py --kill worker -n 2

``--kill controller`` (the default): start a seeded run, SIGKILL the controller (only the
controller: its inner session must die with it) after a random delay, then
``--synth-resume`` until the run finishes, killing again at random while it resumes.

``--kill worker``: start a seeded run with xdist workers and SIGKILL one or two of them at
random moments. The run must finish on its own (no resume): the dead workers' slots run
again in a fresh inner session.

A trial is consistent when every candidate was evaluated exactly once (one row per slot,
none pending), no run was duplicated, and the winner equals an uninterrupted run's with
the same seed.
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


def worker_trial(ctx: str, tmp: Path, seed: int, workers: int, rng: random.Random,
                 max_delay: float) -> tuple[tuple[bool, str], dict]:
    """SIGKILL one or two xdist workers of a running search; it must finish without help."""
    archive = tmp / f"w{rng.random():.6f}.sqlite"
    out = tmp / "worker.json"
    proc = subprocess.Popen(argv(ctx, archive, seed, workers, ["--synth-json", str(out)]), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    t0, kills = time.monotonic(), 0
    for at in sorted(rng.uniform(1.0, max_delay) for _ in range(rng.randint(1, 2))):
        while proc.poll() is None and time.monotonic() - t0 < at:
            time.sleep(0.05)
        victims = _workers(proc.pid)
        if proc.poll() is None and victims:
            os.kill(rng.choice(victims), signal.SIGKILL)
            kills += 1
    text = proc.communicate(timeout=600)[0]
    if proc.returncode != 0 or not out.exists():
        return (False, f"exit {proc.returncode} after {kills} worker kills: {text[-500:]}"), {"best": None}
    db = sqlite3.connect(archive)
    rows = db.execute("SELECT round, idx, attempt, COUNT(*) FROM candidates GROUP BY round, idx, attempt").fetchall()
    dup = [r for r in rows if r[3] != 1]
    pending = db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0]
    deaths = db.execute("SELECT COUNT(*), COUNT(candidate_id) FROM crashes").fetchone()
    got = json.loads(out.read_text())
    out.unlink()
    return (not dup and pending == 0 and deaths[0] == kills,
            f"worker kills={kills} deaths recorded={deaths[0]} (on a slot: {deaths[1]}) duplicates={len(dup)} "
            f"pending={pending} evaluated={got['evaluated']} best={got['best']['score']:.6f}"), got


def _workers(controller: int) -> list[int]:
    """The xdist worker processes under a controller (execnet starts them with ``python -c``)."""
    children: dict[int, list[int]] = {}
    cmd: dict[int, bytes] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd[int(proc.name)] = (proc / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(proc.name))
    found, todo = [], list(children.get(controller, []))
    while todo:
        pid = todo.pop()
        if b"execnet" in cmd.get(pid, b"") or b"exec(eval(" in cmd.get(pid, b""):
            found.append(pid)
        todo += children.get(pid, [])
    return found


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
    ap.add_argument("--kill", choices=("controller", "worker"), default="controller")
    args = ap.parse_args()
    if args.kill == "worker" and args.n < 2:
        ap.error("--kill worker needs xdist workers: add -n 2")
    run_trial = worker_trial if args.kill == "worker" else trial
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        ref = clean_run(args.context, Path(tmp), args.seed, args.n)
        print(f"uninterrupted: evaluated={ref['evaluated']} best={ref['best']['score']:.6f}")
        good = 0
        for k in range(args.trials):
            (ok, text), got = run_trial(args.context, Path(tmp), args.seed, args.n, rng, args.max_delay)
            same = got["best"] is not None and got["best"]["source"] == ref["best"]["source"] \
                and got["best"]["score"] == ref["best"]["score"] and got["evaluated"] == ref["evaluated"]
            good += ok and same
            print(f"trial {k + 1:2d}: {'consistent' if ok and same else 'INCONSISTENT'}  {text}")
    print(f"{good}/{args.trials} consistent {'runs' if args.kill == 'worker' else 'resumes'}")
    sys.exit(0 if good == args.trials else 1)


if __name__ == "__main__":
    main()
