"""One search per trace (``per_trace``), from the outside: the table, the stored winners, their
gates, transfer, and a kill in the middle of the suite."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import make_context, synth
from pytest_policysmith.cache.traces import synthetic_trace

TRACES = ("a", "b", "c")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A trace store with one dataset of three small synthetic traces, and a file that is not a trace."""
    root = tmp_path_factory.mktemp("store")
    for i, name in enumerate(TRACES):
        synthetic_trace(root / "ds" / f"{name}.oracleGeneral.bin.zst", 12_000 + 3_000 * i, 1_500, seed=11 + i)
    (root / "ds" / "README.md").write_text("not a trace\n")
    return root


def suite_context(pytester, store: Path, **over):
    fields = {"traces": ["ds/*"], "per_trace": True, "search": {"rounds": 1, "candidates": 3, "parents": 2}} | over
    return make_context(pytester, store / "ds" / "a.oracleGeneral.bin.zst", **fields)


def test_one_search_per_trace_with_table_transfer_and_gates(pytester, store):
    ctx = suite_context(pytester, store)
    res = synth(pytester, ctx, "--synth-traces", str(store), "--synth-json", "s.json", "--synth-accept", "-n", "2",
                "--synth-report", str(pytester.path / "rep"))
    assert res.ret == 0, res.stdout.str()
    res.stdout.fnmatch_lines(["[[]1/3[]] ds/a: * vs *; * evaluated, * s", "[[]2/3[]] ds/b: *", "[[]3/3[]] ds/c: *",
                              "policysmith suite ctx: 3 traces in * s; the winner matches or beats *"])
    assert "round  1" not in res.stdout.str()  # one line per trace, not per round (-v shows rounds)
    s = json.loads((pytester.path / "s.json").read_text())
    rows = s["per_trace"]
    assert [r["trace"] for r in rows] == ["ds/a", "ds/b", "ds/c"]
    for r in rows:
        assert r["source"] and r["score"] == s["searches"][r["trace"]]["best"]["score"]
        bases = s["searches"][r["trace"]]["baselines"][r["trace"]]
        paper = {p: v["object_miss_ratio"] for p, v in bases.items() if v["paper"]}
        assert r["best_paper_baseline"] == {"policy": min(paper, key=paper.get), "score": min(paper.values())}
        assert r["best_baseline"]["score"] <= r["best_paper_baseline"]["score"]
        assert r["belady"] == bases["Belady"]["object_miss_ratio"] < r["best_baseline"]["score"]
        gap = (r["best_baseline"]["score"] - r["score"]) / (r["best_baseline"]["score"] - r["belady"])
        assert r["gap_closed"] == pytest.approx(gap)
        paper_gap = (r["best_paper_baseline"]["score"] - r["score"]) / (r["best_paper_baseline"]["score"] - r["belady"])
        assert r["gap_closed_paper"] == pytest.approx(paper_gap)
        assert r["matches_or_beats_paper"] == (r["score"] <= min(paper.values()) + 1e-12)
    assert s["matches_or_beats_paper"] == sum(r["matches_or_beats_paper"] for r in rows) / 3
    assert s["matches_or_beats_all"] == sum(r["matches_or_beats_all"] for r in rows) / 3
    assert s["gap_closed_median"] == pytest.approx(statistics.median(r["gap_closed"] for r in rows))
    assert s["gap_closed_paper_median"] == pytest.approx(statistics.median(r["gap_closed_paper"] for r in rows))
    assert len(set(s["runs"].values())) == 3  # a run per trace, each in the archive
    for own, t in s["transfer"].items():
        assert t["traces"] == 2 and set(t["scores"]) == {"ds/a", "ds/b", "ds/c"}
        assert t["scores"][own] == next(r["score"] for r in rows if r["trace"] == own)
        best_paper = {r["trace"]: r["best_paper_baseline"]["score"] for r in rows}
        assert t["wins"] == sum(v <= best_paper[w] + 1e-12 for w, v in t["scores"].items() if w != own)
    page = (pytester.path / "rep" / "index.html").read_text()
    assert 'id="per-trace" class="sortable"' in page and "<b>" in page and (pytester.path / "rep" / "transfer.png").is_file()

    stored = sorted(p.name for p in (ctx / "policies").glob("*.c"))
    assert [n.split("_r")[0] for n in stored] == ["ctx_ds_a", "ctx_ds_b", "ctx_ds_c"]  # named after the trace
    meta = json.loads((ctx / "policies" / stored[1]).with_suffix(".json").read_text())
    assert meta["workload"] == "ds/b" and list(meta["metrics"]) == ["ds/b"]

    gate = pytester.runpytest(str(ctx / "test_gate.py"), "--synth-traces", str(store), "-p", "no:cacheprovider", "-v")
    assert gate.ret == 0, gate.stdout.str()
    gate.stdout.fnmatch_lines(["*test_reproduces_recorded_score?ctx_ds_a_* PASSED*"])
    assert gate.parseoutcomes()["passed"] == 6  # each winner reproduced and gated on its own trace

    # A rerun does not replace a stored winner that scored better on the same trace; a worse one goes.
    b_meta, c_meta = ((ctx / "policies" / n).with_suffix(".json") for n in stored[1:])
    for path, shift in ((b_meta, -0.5), (c_meta, +0.5)):
        m = json.loads(path.read_text())
        path.write_text(json.dumps({**m, "score": m["score"] + shift}))
    res = synth(pytester, ctx, "--synth-traces", str(store), "--synth-accept", "--synth-report", "none")
    assert res.ret == 0, res.stdout.str()
    res.stdout.fnmatch_lines([f"policysmith: kept {stored[1]} for ds/b (*): this run's winner * scores *; "
                              "delete the stored one to store it"])
    assert json.loads(b_meta.read_text())["score"] == rows[1]["score"] - 0.5
    assert json.loads(c_meta.read_text())["score"] == rows[2]["score"]  # the same seed's winner, stored again


def test_a_killed_suite_resumes_without_redoing_finished_traces(pytester, store):
    ctx = suite_context(pytester, store, search={"rounds": 3, "candidates": 3, "parents": 2})
    archive = pytester.path / "k.sqlite"
    argv = [sys.executable, "-m", "pytest", "--synthesize", str(ctx), "--synth-archive", str(archive),
            "--synth-traces", str(store), "-p", "no:cacheprovider", "--synth-report", "none", "-v"]
    proc = subprocess.Popen(argv, cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("[1/3]"):
            seen += [next(proc.stdout)]  # the second trace's search has started once it says so
            break
    while not any(line.startswith("round  1") for line in seen[-1:]):
        seen.append(next(proc.stdout))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(archive)
    before = dict(db.execute("SELECT context, id FROM runs"))
    done_a = db.execute("SELECT COUNT(*) FROM candidates WHERE run_id=?", (before["ctx:ds/a"],)).fetchone()[0]
    assert set(before) == {"ctx:ds/a", "ctx:ds/b"}, "".join(seen)

    res = pytester.runpytest_subprocess("--synthesize", str(ctx), "--synth-archive", str(archive), "--synth-traces",
                                        str(store), "--synth-resume", "--synth-json", "r.json", "-p", "no:cacheprovider",
                                        "--synth-report", "none")
    assert res.ret == 0, res.stdout.str()
    res.stdout.fnmatch_lines(["[[]1/3[]] ds/a: * (resumed)", "[[]2/3[]] ds/b: * (resumed)", "[[]3/3[]] ds/c: *"])
    after = dict(db.execute("SELECT context, id FROM runs"))
    assert {k: after[k] for k in before} == before and len(after) == 3  # the same runs continued, one new
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE run_id=?", (before["ctx:ds/a"],)).fetchone()[0] == done_a
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0
    assert len(json.loads((pytester.path / "r.json").read_text())["per_trace"]) == 3


def test_a_pattern_that_matches_nothing_is_a_usage_error(pytester, store):
    ctx = suite_context(pytester, store, traces=["nope/*"])
    res = synth(pytester, ctx, "--synth-traces", str(store))
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*trace pattern 'nope/*' matches no trace in the trace store: *store*"])


def test_per_trace_must_be_a_boolean(pytester, store):
    ctx = suite_context(pytester, store, per_trace="yes")
    res = synth(pytester, ctx, "--synth-traces", str(store))
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*conftest.py: field 'per_trace' must be true (one search per trace) or false"])


def test_small_traces_get_the_contexts_small_rounds_unless_rounds_are_given(pytester, store):
    search = {"rounds": 1, "candidates": 2, "parents": 2, "small_rounds": 2, "small_below": 14_000}
    ctx = suite_context(pytester, store, search=search)
    res = synth(pytester, ctx, "--synth-traces", str(store), "--synth-json", "s.json", "--synth-simplify-rounds", "0")
    assert res.ret == 0, res.stdout.str()
    s = json.loads((pytester.path / "s.json").read_text())
    assert {t: s["searches"][t]["rounds"] for t in s["searches"]} == {"ds/a": 2, "ds/b": 1, "ds/c": 1}  # 12,000 < 14,000
    assert [r["round"] for r in s["searches"]["ds/a"]["rounds_log"]] == [0, 1, 2]
    res = synth(pytester, ctx, "--synth-traces", str(store), "--synth-json", "t.json", "--synth-simplify-rounds", "0",
                "--synth-rounds", "1", "--synth-archive", "other.sqlite")
    assert res.ret == 0, res.stdout.str()
    assert {v["rounds"] for v in json.loads((pytester.path / "t.json").read_text())["searches"].values()} == {1}


def test_small_rounds_may_be_tiers_by_size(pytester, store):
    # a: 12,000 requests, b: 15,000, c: 18,000; the smallest bound a trace is under gives its rounds.
    search = {"rounds": 1, "candidates": 2, "parents": 2, "small_rounds": {16_000: 2, 13_000: 3}}
    ctx = suite_context(pytester, store, search=search)
    res = synth(pytester, ctx, "--synth-traces", str(store), "--synth-json", "s.json", "--synth-simplify-rounds", "0")
    assert res.ret == 0, res.stdout.str()
    s = json.loads((pytester.path / "s.json").read_text())
    assert {t: s["searches"][t]["rounds"] for t in s["searches"]} == {"ds/a": 3, "ds/b": 2, "ds/c": 1}
    assert s["searches"]["ds/a"]["settings"]["context"]["search"]["small_rounds"] == [[13_000, 3], [16_000, 2]]


@pytest.mark.parametrize("search, says", [
    ({"small_rounds": {}}, "field 'search.small_rounds' is an empty dict"),
    ({"small_rounds": {"2M": 120}}, "field 'search.small_rounds' has the bound '2M'; a bound is a workload size"),
    ({"small_rounds": {2_000_000: 1.5}}, "field 'search.small_rounds[[]2000000[]]' must be a positive integer, got 1.5"),
    ({"small_rounds": {2_000_000: 120}, "small_below": 10}, "field 'search.small_below' goes with a number"),
    ({"small_rounds": 40}, "field 'search.small_rounds' needs 'search.small_below'"),
    ({"small_rounds": 0, "small_below": 10}, "field 'search.small_rounds' must be a positive integer, got 0"),
    ({"small_rounds": 4, "small_below": "2M"}, "field 'search.small_below' must be a whole number (0 or more), got '2M'"),
])
def test_bad_small_rounds_are_usage_errors(pytester, store, search, says):
    ctx = suite_context(pytester, store, search={"rounds": 1} | search)
    res = synth(pytester, ctx, "--synth-traces", str(store))
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines([f"*conftest.py: {says}*"])
