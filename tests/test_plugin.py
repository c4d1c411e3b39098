"""The plugin from the outside, through pytester: synthesis, accept, regression, resume, errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest


from helpers import ROOT, make_context


def synth(pytester, ctx, *args):
    return pytester.runpytest_subprocess(
        "--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"), "-p", "no:cacheprovider", *args
    )


def test_synthesis_run_writes_summary(pytester, small_trace):
    ctx = make_context(pytester, small_trace)
    res = synth(pytester, ctx, "--synth-json", "out.json")
    assert res.ret == 0, res.stdout.str() + res.stderr.str()
    res.stdout.fnmatch_lines(["round  0  best *", "round  2  best *", "*winner*"])
    out = json.loads((pytester.path / "out.json").read_text())
    for key in ("context", "run_id", "generator", "seed", "rounds", "candidates_per_round", "evaluated",
                "passed_checks", "failed_checks", "wall_seconds", "best", "baselines", "rounds_log"):
        assert key in out
    assert out["generator"] == "evolve" and out["rounds"] == 2 and len(out["rounds_log"]) == 3
    assert out["evaluated"] >= 10  # the seeds, at least
    seeds = [r for r in out["rounds_log"] if r["round"] == 0][0]["best_score"]
    assert out["best"]["score"] <= seeds
    assert set(out["best"]["metrics"]) == {str(small_trace)}
    assert out["settings"]["template_sha256"] and out["settings"]["traces"][str(small_trace)]["sha256"]
    assert not (ctx / "policies").exists()  # nothing under the context changes without --synth-accept


def test_same_seed_same_run(pytester, small_trace):
    ctx = make_context(pytester, small_trace)
    a = synth(pytester, ctx, "--synth-json", "a.json", "--synth-seed", "7")
    b = synth(pytester, ctx, "--synth-json", "b.json", "--synth-seed", "7")
    assert a.ret == b.ret == 0
    ja, jb = (json.loads((pytester.path / f).read_text()) for f in ("a.json", "b.json"))
    assert ja["run_id"] != jb["run_id"]
    assert ja["best"]["source"] == jb["best"]["source"] and ja["best"]["score"] == jb["best"]["score"]
    assert [r["best_score"] for r in ja["rounds_log"]] == [r["best_score"] for r in jb["rounds_log"]]
    db = sqlite3.connect(pytester.path / "a.sqlite")
    srcs = [[s for (s,) in db.execute("SELECT source FROM candidates WHERE run_id=? ORDER BY round, idx", (j["run_id"],))]
            for j in (ja, jb)]
    assert srcs[0] == srcs[1]


def test_accept_then_regression_mode(pytester, small_trace):
    ctx = make_context(pytester, small_trace)
    assert synth(pytester, ctx, "--synth-accept").ret == 0
    stored = sorted((ctx / "policies").glob("*.c"))
    assert len(stored) == 1 and stored[0].with_suffix(".json").is_file()
    meta = json.loads(stored[0].with_suffix(".json").read_text())
    assert meta["seed"] == 0 and meta["template_sha256"] and meta["metrics"][str(small_trace)]["object_miss_ratio"]
    res = pytester.runpytest_subprocess(str(ctx), "-p", "no:cacheprovider", "-v")
    res.assert_outcomes(passed=8)
    res.stdout.fnmatch_lines(["*test_reproduces_recorded_score*PASSED*", "*test_beats_gate_baselines*PASSED*"])

    # A regression: the recorded score no longer comes back.
    meta["metrics"][str(small_trace)]["object_miss_ratio"] -= 0.01
    stored[0].with_suffix(".json").write_text(json.dumps(meta))
    res = pytester.runpytest_subprocess(str(ctx), "-p", "no:cacheprovider")
    res.assert_outcomes(passed=7, failed=1)
    res.stdout.fnmatch_lines([f"*policy {stored[0].stem} regressed on {small_trace}: object_miss_ratio recorded *"
                              f", obtained *"])

    # Another copy of the trace (different bytes): told so, not a misleading regression.
    meta["metrics"][str(small_trace)]["trace_sha256"] = "0" * 64
    stored[0].with_suffix(".json").write_text(json.dumps(meta))
    res = pytester.runpytest_subprocess(str(ctx), "-p", "no:cacheprovider", "-rs")
    res.assert_outcomes(passed=7, skipped=1)
    res.stdout.fnmatch_lines(["*a different trace file*recorded score does not apply*"])


def test_gate_failure_names_the_baseline(pytester, small_trace):
    ctx = make_context(pytester, small_trace, gate=["Belady"])
    (ctx / "policies").mkdir()
    (ctx / "policies" / "lru.c").write_text("return now;\n")
    (ctx / "policies" / "lru.json").write_text(json.dumps({"metrics": {}}))
    res = pytester.runpytest_subprocess(str(ctx), "-p", "no:cacheprovider", "-k", "beats")
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["*policy lru does not beat baseline Belady on*object_miss_ratio * vs Belady *"])


def test_checker_feedback_is_stored(pytester, small_trace):
    tpl = pytester.path / "tpl"
    shutil.copytree(ROOT / "templates" / "cache_priority", tpl)
    (tpl / "seeds" / "broken.c").write_text("double x = obj.count;\nreturn x +* ;\n")
    (tpl / "seeds" / "sneaky.c").write_text("return obj.count + secret_global;\n")
    ctx = make_context(pytester, small_trace, template=str(tpl), search={"rounds": 1, "candidates": 2, "parents": 2})
    assert synth(pytester, ctx).ret == 0
    db = sqlite3.connect(pytester.path / "a.sqlite")
    fb = dict(db.execute("SELECT origin, feedback FROM candidates WHERE status='failed'").fetchall())
    assert "candidate.c:2:" in fb["seed:broken"] and "error" in fb["seed:broken"]
    assert "secret_global is not a declared input" in fb["seed:sneaky"]
    rules = {r for (r,) in db.execute("SELECT rule FROM checks")}
    assert {"test_compiles", "test_uses_only_declared_inputs", "test_is_deterministic"} <= rules


@pytest.mark.parametrize("field,value,message", [
    ("cache_size", "ten", "field 'cache_size' must be int or float"),
    ("domain", "dns", "field 'domain' is 'dns'"),
    ("traces", [], "field 'traces' must name at least one trace"),
    ("colour", "blue", "unknown field(s) colour"),
])
def test_bad_context_is_a_usage_error(pytester, small_trace, field, value, message):
    ctx = make_context(pytester, small_trace, **{field: value})
    res = synth(pytester, ctx)
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    err = res.stderr.str()
    assert str(ctx / "conftest.py") in err and message in err


def test_unknown_trace_fails_before_any_work(pytester, small_trace):
    ctx = make_context(pytester, small_trace, traces=["nowhere/none"])
    res = synth(pytester, ctx)
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "trace 'nowhere/none' not found" in res.stderr.str()
    assert not (pytester.path / "a.sqlite").exists()


def test_option_out_of_range(pytester, small_trace):
    ctx = make_context(pytester, small_trace)
    res = synth(pytester, ctx, "--synth-rounds", "0")
    assert res.ret == pytest.ExitCode.USAGE_ERROR and "--synth-rounds must be at least 1" in res.stderr.str()


def test_options_share_one_help_group(pytester):
    res = pytester.runpytest_subprocess("--help")
    text = res.stdout.str()
    block = text[text.index("policysmith: synthesize and gate heuristics"):]
    for opt in ("--synthesize", "--synth-rounds", "--synth-candidates", "--synth-parents", "--synth-generator",
                "--synth-seed", "--synth-archive", "--synth-resume", "--synth-accept", "--synth-json", "--synth-traces"):
        assert opt in block.split("\n\n")[0], opt


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


def test_parallel_run_gives_the_same_verdicts(pytester, small_trace):
    """-n 2 must not change any verdict: a slot's rules and evaluation share one worker."""
    ctx = make_context(pytester, small_trace, search={"rounds": 3, "candidates": 6, "parents": 2})
    runs = {}
    for label, extra in (("serial", []), ("n2", ["-n", "2"])):
        archive = pytester.path / f"{label}.sqlite"
        res = pytester.runpytest_subprocess("--synthesize", str(ctx), "--synth-archive", str(archive),
                                            "--synth-seed", "7", "-p", "no:cacheprovider", *extra)
        assert res.ret == 0, res.stdout.str()
        db = sqlite3.connect(archive)
        runs[label] = db.execute("SELECT id, hash, status, score FROM candidates ORDER BY id").fetchall()
    assert runs["serial"] == runs["n2"]
    assert {status for _, _, status, _ in runs["serial"]} >= {"evaluated"}


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
        assert rounds == [0, 1, 2]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0


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
        res = pytester.runpytest_subprocess("--synthesize", str(ctx), "--synth-archive", str(archive),
                                            "--synth-resume", "-p", "no:cacheprovider")
        assert res.ret == pytest.ExitCode.USAGE_ERROR
        assert f"still being run by process {proc.pid}" in res.stderr.str()
    finally:
        proc.kill()
        proc.wait()


def test_unwritable_archive_is_a_clear_error(pytester, small_trace):
    ctx = make_context(pytester, small_trace)
    res = pytester.runpytest_subprocess("--synthesize", str(ctx), "--synth-archive", "/proc/no-such-dir/a.sqlite")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "cannot open for writing" in res.stderr.str() and "--synth-archive" in res.stderr.str()


def test_checker_that_rejects_every_seed_stops_the_run_clearly(pytester, small_trace):
    ctx = make_context(pytester, small_trace, search={"rounds": 3, "candidates": 4, "parents": 2})
    (ctx / "test_strict.py").write_text("def test_never(candidate):\n    assert candidate.source == 'x', 'too strict'\n")
    res = synth(pytester, ctx, "--synth-json", "s.json")
    assert res.ret == 1
    res.stdout.fnmatch_lines(["*stopped before round 1: no seed passed the context's checker*too strict*"])
    s = json.loads((pytester.path / "s.json").read_text())
    assert [r["round"] for r in s["rounds_log"]] == [0] and s["best"] is None


def _crashy_context(pytester, small_trace, marks: Path, deaths: int) -> Path:
    """A context whose rule kills its own xdist worker (SIGKILL) the first ``deaths`` times it sees r01c00."""
    ctx = make_context(pytester, small_trace, search={"rounds": 3, "candidates": 4, "parents": 2})
    (ctx / "test_crashy.py").write_text(
        "import os, signal\nfrom pathlib import Path\n"
        "def test_crashy(candidate):\n"
        f"    marks = Path({str(marks)!r})\n"
        f"    if candidate.id == 'r01c00' and len(marks.read_text()) < {deaths}:\n"
        "        marks.write_text(marks.read_text() + 'x')\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n")
    marks.write_text("")
    return ctx


def _synth_n2(pytester, ctx: Path, *extra: str):
    return pytester.runpytest_subprocess("--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"),
                                         "-p", "no:cacheprovider", "-n", "2", "--synth-report", "none", *extra,
                                         timeout=180)


def test_a_worker_killed_mid_round_has_its_slot_retried_once(pytester, small_trace, tmp_path):
    """kill -9 of the xdist worker running r01c00: a fresh session runs that slot again and the run
    finishes with every candidate settled, none evaluated twice."""
    marks = tmp_path / "deaths"
    ctx = _crashy_context(pytester, small_trace, marks, deaths=1)
    res = _synth_n2(pytester, ctx)
    assert res.ret == 0, res.stdout.str()
    assert marks.read_text() == "x"
    res.stdout.fnmatch_lines(["*worker gw? died while running r01c00 (killed by signal 9 (SIGKILL)); "
                              "retrying it once in a fresh session*"])
    db = sqlite3.connect(pytester.path / "a.sqlite")
    assert db.execute("SELECT status FROM candidates WHERE id='r01c00'").fetchone()[0] == "evaluated"
    assert db.execute("SELECT candidate_id, reason FROM crashes").fetchall() == [
        ("r01c00", "killed by signal 9 (SIGKILL)")]
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")] == [0, 1, 2, 3]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0


def test_a_second_death_marks_the_candidate_failed_with_the_reason(pytester, small_trace, tmp_path):
    """r01c00 kills its worker every time: after the second death it is an error that says so, and the
    run carries on to the end."""
    marks = tmp_path / "deaths"
    ctx = _crashy_context(pytester, small_trace, marks, deaths=99)
    res = _synth_n2(pytester, ctx, "--synth-json", "s.json")
    assert res.ret == 0, res.stdout.str()
    assert marks.read_text() == "xx"
    res.stdout.fnmatch_lines(["*died while running r01c00*retrying it once*",
                              "*died while running r01c00 (killed by signal 9 (SIGKILL)); second death, so it is marked an error*"])
    db = sqlite3.connect(pytester.path / "a.sqlite")
    status, feedback = db.execute("SELECT status, feedback FROM candidates WHERE id='r01c00'").fetchone()
    assert status == "error" and "died 2 times" in feedback and "SIGKILL" in feedback
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")] == [0, 1, 2, 3]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0
    s = json.loads((pytester.path / "s.json").read_text())
    assert s["best"] is not None


def test_a_session_that_dies_without_a_culprit_stops_with_a_resume_hint(pytester, small_trace, tmp_path):
    """The inner session itself killed (no slot to blame): the run stops with the resume command, keeps what
    was done, and --synth-resume finishes it."""
    ctx = make_context(pytester, small_trace, search={"rounds": 3, "candidates": 4, "parents": 2})
    mark = tmp_path / "killed"
    (ctx / "test_killer.py").write_text(
        "import os, signal\nfrom pathlib import Path\n"
        "def test_killer(candidate):\n"
        f"    mark = Path({str(mark)!r})\n"
        "    if candidate.id == 'r01c00' and not mark.exists():\n"
        "        mark.touch()\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n")  # without -n: the inner session itself
    argv = ["--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"), "-p", "no:cacheprovider",
            "--synth-report", "none"]
    res = pytester.runpytest_subprocess(*argv, timeout=120)
    assert res.ret == 1 and mark.exists()
    res.stdout.fnmatch_lines(["*the inner session ended*before round 1 finished*", "*Resume with: --synth-resume*"])
    res = pytester.runpytest_subprocess(*argv, "--synth-resume", "latest", timeout=120)
    assert res.ret == 0, res.stdout.str()
    db = sqlite3.connect(pytester.path / "a.sqlite")
    assert [r for (r,) in db.execute("SELECT round FROM rounds ORDER BY round")] == [0, 1, 2, 3]
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0