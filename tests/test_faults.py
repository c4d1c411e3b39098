"""Faults, from the outside: a killed controller, dead workers, a full disk, two runs on one archive."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import make_context, synth


def _inner_sessions(cwd: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if b"--synth-inner" in (proc / "cmdline").read_bytes() and (proc / "cwd").resolve() == cwd.resolve():
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def _wait_gone(cwd: Path, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while _inner_sessions(cwd):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_kill_and_resume_loses_nothing(pytester, small_trace):
    """kill -9 during round 2, then --synth-resume: every candidate once, same winner as a clean run."""
    ctx = make_context(pytester, small_trace, search={"rounds": 4, "candidates": 4, "parents": 2})
    clean = synth(pytester, ctx, "--synth-json", "clean.json", "--synth-seed", "3")
    assert clean.ret == 0
    archive = pytester.path / "k.sqlite"
    argv = [sys.executable, "-m", "pytest", "--synthesize", str(ctx), "--synth-archive", str(archive),
            "--synth-seed", "3", "-p", "no:cacheprovider"]
    proc = subprocess.Popen(argv, cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    for line in proc.stdout:
        if line.startswith("round  1"):
            break
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)  # the controller only: its inner session must die with it
    proc.wait()
    assert _wait_gone(ctx), "the inner session outlived its killed controller"
    res = pytester.runpytest_subprocess("--synthesize", str(ctx), "--synth-archive", str(archive), "--synth-seed", "3",
                                        "--synth-resume", "--synth-json", "resumed.json", "-p", "no:cacheprovider")
    assert res.ret == 0, res.stdout.str()
    res.stdout.fnmatch_lines(["*resuming run*"])
    db = sqlite3.connect(archive)
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    ids = [i for (i,) in db.execute("SELECT id FROM candidates")]
    assert len(ids) == len(set(ids))
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0
    a = json.loads((pytester.path / "clean.json").read_text())
    b = json.loads((pytester.path / "resumed.json").read_text())
    assert a["best"]["source"] == b["best"]["source"] and a["best"]["score"] == b["best"]["score"]
    assert a["evaluated"] == b["evaluated"]


def test_two_runs_on_one_archive_are_serialised(pytester, small_trace):
    """Two controllers at once on one archive: SQLite transactions keep their runs apart and whole."""
    ctx = make_context(pytester, small_trace, search={"rounds": 2, "candidates": 4, "parents": 2})
    archive = pytester.path / "shared.sqlite"
    argv = [sys.executable, "-m", "pytest", "--synthesize", str(ctx), "--synth-archive", str(archive),
            "-p", "no:cacheprovider", "--synth-report", "none"]
    procs = [subprocess.Popen(argv + ["--synth-seed", str(s)], cwd=pytester.path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for s in (1, 2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    db = sqlite3.connect(archive)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    runs = [r for (r,) in db.execute("SELECT id FROM runs")]
    assert len(runs) == 2
    for run in runs:
        rounds = [r for (r,) in db.execute("SELECT round FROM rounds WHERE run_id=? ORDER BY round", (run,))]
        assert rounds[:3] == [0, 1, 2]  # then the simplification rounds
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0


def _open_and_write(path: str, barrier, results) -> None:
    from pytest_policysmith.storage.archive import Archive

    barrier.wait()
    try:
        archive = Archive(Path(path))
        archive.create_run("ctx", {}, os.getpid())
        archive.close()
        results.put("ok")
    except Exception as exc:  # the assertion below shows it
        results.put(repr(exc))


def test_processes_opening_a_new_archive_at_once_are_not_refused(tmp_path):
    """Controller, inner session and workers all open the archive; a second run may be creating it.
    SQLite refuses some of those races at once ("database is locked"); the archive waits instead."""
    for trial in range(10):
        path = tmp_path / f"a{trial}.sqlite"
        got = _open_at_once(path)
        assert got == ["ok"] * 8, got
        assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 8


def _open_at_once(path: Path, n: int = 8) -> list[str]:
    """``n`` processes open the archive at the same moment and start a run each: "ok" or the error, each."""
    import multiprocessing

    mp = multiprocessing.get_context("fork")
    barrier, results = mp.Barrier(n), mp.Queue()
    procs = [mp.Process(target=_open_and_write, args=(str(path), barrier, results)) for _ in range(n)]
    for p in procs:
        p.start()
    got = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join()
    return got


def test_resuming_a_live_run_is_refused(pytester, small_trace):
    ctx = make_context(pytester, small_trace, search={"rounds": 6, "candidates": 6, "parents": 2})
    archive = pytester.path / "live.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "--synthesize", str(ctx), "--synth-archive",
                             str(archive), "-p", "no:cacheprovider"], cwd=pytester.path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("round  0"):
                break
        res = pytester.runpytest("--synthesize", str(ctx), "--synth-archive", str(archive),
                                 "--synth-resume", "-p", "no:cacheprovider")
        assert res.ret == pytest.ExitCode.USAGE_ERROR
        assert f"still being run by process {proc.pid}" in res.stderr.str()
    finally:
        proc.kill()
        proc.wait()


def test_unwritable_archive_is_a_clear_error(pytester, small_trace):
    ctx = make_context(pytester, small_trace)
    res = pytester.runpytest("--synthesize", str(ctx), "--synth-archive", "/proc/no-such-dir/a.sqlite")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "cannot open for writing" in res.stderr.str() and "--synth-archive" in res.stderr.str()


def _crashy_context(pytester, small_trace, marks: Path, deaths: int, slot: str = "r01c00",
                    delay: float = 0.0) -> Path:
    """A context whose rule kills its own xdist worker (SIGKILL) the first ``deaths`` times it sees
    ``slot``, ``delay`` seconds after starting on it."""
    ctx = make_context(pytester, small_trace, search={"rounds": 3, "candidates": 4, "parents": 2})
    (ctx / "test_crashy.py").write_text(
        "import os, signal, time\nfrom pathlib import Path\n"
        "def test_crashy(candidate):\n"
        f"    marks = Path({str(marks)!r})\n"
        f"    if candidate.id == {slot!r} and len(marks.read_text()) < {deaths}:\n"
        "        marks.write_text(marks.read_text() + 'x')\n"
        f"        time.sleep({delay})\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n")
    marks.write_text("")
    return ctx


WORKERS = pytest.mark.parametrize("workers, who", [(["-n", "2"], "worker gw?"), ([], "the inner session")],
                                  ids=["xdist", "no-xdist"])


@WORKERS
def test_a_process_killed_mid_round_has_its_slot_retried_once(pytester, small_trace, tmp_path, workers, who):
    """kill -9 of the process running r01c00 (an xdist worker, or the worker-less inner session): a fresh
    session runs that slot again and the run finishes with every candidate settled, none evaluated twice."""
    marks = tmp_path / "deaths"
    ctx = _crashy_context(pytester, small_trace, marks, deaths=1)
    res = synth(pytester, ctx, *workers, "--synth-report", "none", timeout=180)
    assert res.ret == 0, res.stdout.str()
    assert marks.read_text() == "x"
    res.stdout.fnmatch_lines([f"*{who} died while running r01c00 (killed by signal 9 (SIGKILL)); "
                              "retrying it once in a fresh session*"])
    db = sqlite3.connect(pytester.path / "a.sqlite")
    assert db.execute("SELECT status FROM candidates WHERE id='r01c00'").fetchone()[0] == "evaluated"
    assert db.execute("SELECT candidate_id, reason FROM crashes").fetchall() == [
        ("r01c00", "killed by signal 9 (SIGKILL)")]
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")][:4] == [0, 1, 2, 3]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0


def test_a_death_at_the_end_of_a_round_does_not_strand_the_other_worker(pytester, small_trace, tmp_path):
    """The worker on a round's last slot dies while the other already waits on the next round, which
    can never be generated in this session: that worker lets go, and the fresh session runs both."""
    marks = tmp_path / "deaths"
    ctx = _crashy_context(pytester, small_trace, marks, deaths=1, slot="r01c03", delay=2.0)
    res = synth(pytester, ctx, "-n", "2", "--synth-report", "none", timeout=120)
    assert res.ret == 0, res.stdout.str()
    res.stdout.fnmatch_lines(["*died while running r01c03*retrying it once*"])
    db = sqlite3.connect(pytester.path / "a.sqlite")
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")][:4] == [0, 1, 2, 3]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status IN ('pending', 'error')").fetchone()[0] == 0


@WORKERS
def test_a_second_death_marks_the_candidate_failed_with_the_reason(pytester, small_trace, tmp_path, workers, who):
    """r01c00 kills its process every time: after the second death it is an error that says so, and the
    run carries on to the end."""
    marks = tmp_path / "deaths"
    ctx = _crashy_context(pytester, small_trace, marks, deaths=99)
    res = synth(pytester, ctx, *workers, "--synth-report", "none", "--synth-json", "s.json", timeout=180)
    assert res.ret == 0, res.stdout.str()
    assert marks.read_text() == "xx"
    res.stdout.fnmatch_lines([f"*{who} died while running r01c00*retrying it once*",
                              f"*{who} died while running r01c00 (killed by signal 9 (SIGKILL)); second death, so it "
                              "is marked an error*"])
    db = sqlite3.connect(pytester.path / "a.sqlite")
    status, feedback = db.execute("SELECT status, feedback FROM candidates WHERE id='r01c00'").fetchone()
    assert status == "error" and "died 2 times" in feedback and "SIGKILL" in feedback
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")][:4] == [0, 1, 2, 3]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0
    s = json.loads((pytester.path / "s.json").read_text())
    assert s["best"] is not None


def test_a_session_that_dies_without_a_culprit_stops_with_a_resume_hint(pytester, small_trace, tmp_path):
    """The inner session itself killed between items (no slot to blame): the run stops with the resume
    command, keeps what was done, and --synth-resume finishes it."""
    ctx = make_context(pytester, small_trace, search={"rounds": 3, "candidates": 4, "parents": 2})
    mark = tmp_path / "killed"
    (ctx / "conftest.py").write_text((ctx / "conftest.py").read_text() + (
        "import os, signal, pytest\nfrom pathlib import Path\n"
        "@pytest.hookimpl(trylast=True)\n"  # after the plugin marked the item finished
        "def pytest_runtest_logfinish(nodeid, location):\n"
        f"    mark = Path({str(mark)!r})\n"
        "    if 'policysmith_evaluate[r01c00]' in nodeid and not mark.exists():\n"
        "        mark.touch()\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"))  # without -n: the inner session itself
    argv = ["--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"), "-p", "no:cacheprovider",
            "--synth-report", "none"]
    res = pytester.runpytest_subprocess(*argv, timeout=120)
    assert res.ret == 1 and mark.exists()
    res.stdout.fnmatch_lines(["*the inner session ended*before round 1 finished*", "*Resume with: --synth-resume*"])
    first = sqlite3.connect(pytester.path / "a.sqlite").execute("SELECT seconds FROM runs").fetchone()[0]
    assert first > 0  # the stopped session's time is counted
    res = pytester.runpytest_subprocess(*argv, "--synth-resume", "latest", "--synth-json", "s.json", timeout=120)
    assert res.ret == 0, res.stdout.str()
    db = sqlite3.connect(pytester.path / "a.sqlite")
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")][:4] == [0, 1, 2, 3]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0
    # A resumed run's time is both sessions', as the summary (and a suite's `s` column) reports it.
    total = db.execute("SELECT seconds FROM runs").fetchone()[0]
    assert total > first and json.loads((pytester.path / "s.json").read_text())["wall_seconds"] == total


def test_workers_that_cannot_start_stop_the_run_after_a_few_fresh_sessions(pytester, small_trace):
    """A gateway whose worker dies while starting fails xdist's whole session (an INTERNALERROR, no
    report to blame): each counts as a lost worker and gets a fresh session, up to a limit, then the
    run stops with the reason and the resume command."""
    ctx = make_context(pytester, small_trace)
    res = synth(pytester, ctx, "--tx", "popen//python=/bin/false", "--synth-report", "none", timeout=120)
    assert res.ret == 1, res.stdout.str()
    res.stdout.fnmatch_lines(["*the inner session lost a worker (a worker could not start or was cut off (*"
                              "*carrying on in a fresh session*"])
    res.stdout.fnmatch_lines(["*the inner session ended (exit 3) after losing 4 workers (last: a worker could not "
                              "start*", "*Resume with: --synth-resume*"])
    db = sqlite3.connect(pytester.path / "a.sqlite")
    assert db.execute("SELECT COUNT(*), COUNT(candidate_id) FROM crashes").fetchone() == (4, 0)


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MiB tmpfs: a disk that can really fill up (root only, as in CI)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8M", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_stops_the_run_clearly_and_loses_nothing(pytester, small_trace, small_disk):
    """The disk holding the archive fills up mid-round 2: the run stops with the reason, what is kept and
    the resume command; rounds 0-1 are intact; once space is freed, --synth-resume finishes the run."""
    ctx = make_context(pytester, small_trace, search={"rounds": 4, "candidates": 4, "parents": 2})
    filler = small_disk / "filler"
    (ctx / "test_fill.py").write_text(
        "from pathlib import Path\n"
        "def test_fill(candidate):\n"
        "    if candidate.id == 'r02c01':\n"
        "        try:\n"
        f"            with open({str(filler)!r}, 'ab') as fh:\n"
        "                while True:\n"
        "                    fh.write(b'x' * 65536)\n"
        "                    fh.flush()\n"
        "        except OSError:\n"
        "            pass\n")
    archive = small_disk / "a.sqlite"
    argv = ["--synthesize", str(ctx), "--synth-archive", str(archive), "-p", "no:cacheprovider", "--synth-report",
            "none", "--synth-simplify-rounds", "0"]
    res = pytester.runpytest_subprocess(*argv, timeout=120)
    assert res.ret == 1, res.stdout.str()
    out = res.stdout.str()
    assert "write failed (database or disk is full)" in out and "free space on that filesystem" in out
    assert "Kept in the archive: rounds 0-1" in out and "Then resume with: --synth-resume" in out
    assert "Traceback" not in out
    db = sqlite3.connect(archive)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")] == [0, 1]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE round < 2 AND status != 'evaluated'").fetchone()[0] == 0
    db.close()

    filler.unlink()
    (ctx / "test_fill.py").unlink()
    res = pytester.runpytest_subprocess(*argv, "--synth-resume", "latest", timeout=120)
    assert res.ret == 0, res.stdout.str()
    db = sqlite3.connect(archive)
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")] == [0, 1, 2, 3, 4]
    seeds = db.execute("SELECT COUNT(*) FROM candidates WHERE round = 0").fetchone()[0]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status IN ('evaluated', 'failed')").fetchone()[0] \
        == seeds + 4 * 4
    db.close()


def test_an_archive_on_a_read_only_disk_is_a_clear_error_and_stays_whole(pytester, small_trace, small_disk):
    """The archive's filesystem turns read-only between runs: the next run is refused up front, naming
    the file and the fix, and the runs already in the archive are untouched."""
    ctx = make_context(pytester, small_trace)
    archive = small_disk / "a.sqlite"
    argv = ["--synthesize", str(ctx), "--synth-archive", str(archive), "-p", "no:cacheprovider", "--synth-report", "none"]
    assert pytester.runpytest_subprocess(*argv, timeout=120).ret == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    res = pytester.runpytest_subprocess(*argv, timeout=120)
    assert res.ret == pytest.ExitCode.USAGE_ERROR, res.stdout.str()
    err = res.stderr.str()
    assert f"archive {archive}: cannot open for writing" in err and "read-only" in err, err
    assert "choose a writable path with --synth-archive" in err
    db = sqlite3.connect(f"file:{archive}?mode=ro&immutable=1", uri=True)
    assert db.execute("SELECT status FROM runs").fetchall() == [("finished",)]


def test_outputs_that_do_not_fit_on_disk_are_a_clear_error(pytester, small_trace, small_disk):
    """The run itself is stored; its JSON summary cannot be written (disk full): a clear error, and
    --synth-resume of the finished run writes it once there is space."""
    ctx = make_context(pytester, small_trace, search={"rounds": 1, "candidates": 2, "parents": 2})
    filler = small_disk / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"x" * 65536)
                fh.flush()
        except OSError:
            pass
    out = small_disk / "s.json"
    res = synth(pytester, ctx, "--synth-json", str(out), "--synth-report", "none")
    assert res.ret == 1
    res.stdout.fnmatch_lines(["*is finished and stored in*a.sqlite, but writing its outputs failed: "
                              "*No space left on device*", "*write them again with: --synth-resume *"])
    filler.unlink()
    res = synth(pytester, ctx, "--synth-json", str(out), "--synth-report", "none", "--synth-resume", "latest")
    assert res.ret == 0, res.stdout.str()
    assert json.loads(out.read_text())["best"] is not None


def test_a_full_cache_disk_is_a_clear_error_before_the_search(pytester, small_trace, small_disk, monkeypatch):
    """The trace store cannot write its converted trace: a usage error naming the file and the fix."""
    ctx = make_context(pytester, small_trace)
    monkeypatch.setenv("POLICYSMITH_CACHE", str(small_disk / "cache"))
    with open(small_disk / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"x" * 65536)
                fh.flush()
        except OSError:
            pass
    res = synth(pytester, ctx, "--synth-report", "none")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*cache*No space left on device; free space there, or point POLICYSMITH_CACHE*"])
    assert "Traceback" not in res.stderr.str() + res.stdout.str()


def test_an_older_archive_opened_by_many_processes_at_once_gains_its_new_columns(tmp_path):
    """Migrations run in the schema's transaction: eight processes opening an archive written before the
    cascade and retry columns existed must not both add a column ("duplicate column name")."""
    for trial in range(3):
        path = tmp_path / f"old{trial}.sqlite"
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE llm_requests (run_id TEXT NOT NULL, slot TEXT NOT NULL, purpose TEXT NOT NULL,"
                   " model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, cost_usd REAL, seconds REAL,"
                   " status TEXT NOT NULL, cached INTEGER NOT NULL, error TEXT, at REAL NOT NULL)")
        db.execute("CREATE TABLE generated (run_id TEXT NOT NULL, round INTEGER NOT NULL, attempt INTEGER NOT NULL,"
                   " count INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (run_id, round, attempt))")
        db.commit()
        db.close()
        got = _open_at_once(path)
        assert got == ["ok"] * 8, got
        db = sqlite3.connect(path)
        assert {"attempts", "timeouts"} <= {r[1] for r in db.execute("PRAGMA table_info(llm_requests)")}
        assert "screen" in {r[1] for r in db.execute("PRAGMA table_info(generated)")}
