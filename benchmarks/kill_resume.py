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


def clean_run(ctx: str, tmp: Path, seed: int, workers: int) -> tuple[dict, float]:
    out = tmp / "clean.json"
    t0 = time.monotonic()
    subprocess.run(argv(ctx, tmp / "clean.sqlite", seed, workers, ["--synth-json", str(out)]), check=True,
                   stdout=subprocess.DEVNULL)
    return json.loads(out.read_text()), time.monotonic() - t0


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
    for at in sorted(rng.uniform(0.15 * max_delay, max_delay) for _ in range(rng.randint(1, 2))):
        while proc.poll() is None and time.monotonic() - t0 < at:
            time.sleep(0.05)
        victims = _workers(proc.pid)
        if proc.poll() is None and victims:
            os.kill(rng.choice(victims), signal.SIGKILL)
            kills += 1
    try:
        text = proc.communicate(timeout=300)[0]
    except subprocess.TimeoutExpired:
        _dump_hang(proc.pid, archive)
        proc.kill()
        return (False, f"hung (killed after 300 s) after {kills} worker kills"), {"best": None}
    if proc.returncode != 0 or not out.exists():
        return (False, f"exit {proc.returncode} after {kills} worker kills: {text[-500:]}"), {"best": None}
    db = sqlite3.connect(archive)
    rows = db.execute("SELECT round, idx, attempt, COUNT(*) FROM candidates GROUP BY round, idx, attempt").fetchall()
    dup = [r for r in rows if r[3] != 1]
    pending = db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0]
    deaths = db.execute("SELECT COUNT(*), COUNT(candidate_id) FROM crashes").fetchone()
    got = json.loads(out.read_text())
    out.unlink()
    if deaths[0] != kills or os.environ.get("KILL_RESUME_VERBOSE"):
        print(text[-3000:])
        for row in db.execute("SELECT * FROM crashes"):
            print("  crash:", row)
        for row in db.execute("SELECT id, status, substr(feedback, 1, 300) FROM candidates WHERE status!='evaluated'"):
            print("  not evaluated:", row)
    got["kills"] = kills
    return (not dup and pending == 0 and deaths[0] == kills,
            f"worker kills={kills} deaths recorded={deaths[0]} (on a slot: {deaths[1]}) duplicates={len(dup)} "
            f"pending={pending} evaluated={got['evaluated']} best={got['best']['score']:.6f}"), got


def _dump_hang(controller: int, archive: Path) -> None:
    """What a hung run was doing: its processes, the inner session's log, the archive's state."""
    for pid in [controller, *_descendants(controller)]:
        try:
            cmd = _cmdline(pid).replace(b"\0", b" ")[:150]
            wchan = (Path("/proc") / str(pid) / "wchan").read_text()
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
            print(f"  pid {pid} {state} {wchan}: {cmd.decode(errors='replace')}")
        except OSError:
            pass
    db = sqlite3.connect(archive)
    for (run_id,) in db.execute("SELECT id FROM runs"):
        log = archive.parent / "runs" / run_id / "inner.log"
        print(log.read_text(errors="replace")[-4000:] if log.exists() else f"  no {log}")
    print("  runs:", db.execute("SELECT id, status, stop_reason FROM runs").fetchall())
    print("  crashes:", db.execute("SELECT * FROM crashes").fetchall())
    print("  rounds:", db.execute("SELECT round FROM rounds").fetchall())
    print("  pending:", db.execute("SELECT id FROM candidates WHERE status='pending'").fetchall())


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            children.setdefault(_parent(int(proc.name)), []).append(int(proc.name))
    out, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _workers(controller: int) -> list[int]:
    """The xdist worker processes under a controller (execnet starts them with ``python -c``), not
    their children: a candidate's process, forked but not yet exec'd, still carries its worker's name."""
    workers = [pid for pid in _descendants(controller) if b"exec(eval(" in _cmdline(pid)]
    return [pid for pid in workers if _parent(pid) not in workers]


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def _parent(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


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
    ap.add_argument("--max-delay", type=float, default=None,
                    help="latest kill, in seconds (default: 6; with --kill worker, 90%% of a clean run)")
    ap.add_argument("--kill", choices=("controller", "worker"), default="controller")
    args = ap.parse_args()
    if args.kill == "worker" and args.n < 2:
        ap.error("--kill worker needs xdist workers: add -n 2")
    run_trial = worker_trial if args.kill == "worker" else trial
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        ref, secs = clean_run(args.context, Path(tmp), args.seed, args.n)
        # Workers are killed while the run is surely going: within 90% of a clean run's time.
        max_delay = args.max_delay or (0.9 * secs if args.kill == "worker" else 6.0)
        print(f"uninterrupted: evaluated={ref['evaluated']} best={ref['best']['score']:.6f} in {secs:.1f} s")
        good = 0
        for k in range(args.trials):
            for _ in range(5):  # a trial whose kills all came after the run ended tests nothing: again
                (ok, text), got = run_trial(args.context, Path(tmp), args.seed, args.n, rng, max_delay)
                if got.get("kills", 1):
                    break
            same = got["best"] is not None and got["best"]["source"] == ref["best"]["source"] \
                and got["best"]["score"] == ref["best"]["score"] and got["evaluated"] == ref["evaluated"]
            good += ok and same
            print(f"trial {k + 1:2d}: {'consistent' if ok and same else 'INCONSISTENT'}  {text}")
    print(f"{good}/{args.trials} consistent {'runs' if args.kill == 'worker' else 'resumes'}")
    sys.exit(0 if good == args.trials else 1)


if __name__ == "__main__":
    main()
