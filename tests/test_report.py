"""Reports: the run report in a real headless Chromium, transfer over a folder of traces, size sweeps."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, make_context
from pytest_policysmith.cache.traces import synthetic_trace

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered_dom(page: Path) -> str:
    """The DOM after load, as headless Chromium built it (scripts ran, images decoded)."""
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def cells(dom: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', dom, re.S).group(1)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_run_report_renders_in_chromium(pytester, small_trace):
    ctx = make_context(pytester, small_trace, search={"rounds": 2, "candidates": 4, "parents": 2})
    res = pytester.runpytest("--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"),
                                        "--synth-json", "s.json", "-p", "no:cacheprovider")
    assert res.ret == 0, res.stdout.str()
    page = Path(re.search(r"policysmith: report (\S+)", res.stdout.str()).group(1))
    summary = json.loads((pytester.path / "s.json").read_text())
    dom = rendered_dom(page)
    loaded, total = map(int, re.search(r'data-images="(\d+)/(\d+)"', dom).groups())
    assert total == 3 and loaded == 3  # progress, score spread, pass rate
    rows = {r[0]: r[1:] for r in cells(dom, "baselines")[1:]}
    trace = next(iter(summary["baselines"]))
    for policy in ("LRU", "S3FIFO", "Belady"):
        assert rows[policy][0] == f"{summary['baselines'][trace][policy]['object_miss_ratio']:.6f}"
    assert rows[f"winner {summary['best']['id']}"][0] == f"{summary['best']['score']:.6f}"
    lineage = cells(dom, "lineage")[1:]
    assert lineage[0][0] == summary["best"]["id"] and lineage[-1][2].startswith("seed:")
    assert "return" in dom and 'class="kw"' in dom  # the winner's source, highlighted


@pytest.fixture
def stored_context(pytester, small_trace):
    ctx = make_context(pytester, small_trace)
    (ctx / "policies").mkdir()
    for f in (ROOT / "contexts" / "cache_cloudphysics" / "policies").iterdir():
        shutil.copy(f, ctx / "policies" / f.name)
    return ctx


def test_transfer_over_a_folder_of_traces(pytester, stored_context, tmp_path):
    folder = tmp_path / "mydata"
    for k in range(3):
        synthetic_trace(folder / f"t{k}.oracleGeneral.bin.zst", 20_000, 2_000 + 500 * k, seed=k)
    res = pytester.runpytest(str(stored_context), "--transfer", str(folder), "-n", "2",
                                        "--synth-report", str(pytester.path / "rep"), "-p", "no:cacheprovider")
    assert res.ret == 0, res.stdout.str()
    res.stdout.fnmatch_lines(["*policysmith transfer: 3 traces*", "*wins on */3 traces*vs LRU mean*"])
    data = json.loads((pytester.path / "rep" / "transfer.json").read_text())
    assert sorted(r["trace"] for r in data["per_trace"]) == ["mydata/t0", "mydata/t1", "mydata/t2"]
    (name, s), = data["summary"]["heuristics"].items()
    assert 0.0 <= s["win_rate"] <= 1.0 and s["improvement_over_lru_median"] is not None
    for r in data["per_trace"]:
        assert {"LRU", "S3FIFO", "Belady", f"* {name}"} <= set(r["results"])
    assert (pytester.path / "rep" / "heatmap.png").stat().st_size > 1000


def test_sweep_gives_a_curve_per_policy(pytester, stored_context):
    res = pytester.runpytest(str(stored_context), "--sweep", "0.02,0.05,0.2", "--synth-report",
                                        str(pytester.path / "sw"), "-p", "no:cacheprovider")
    assert res.ret == 0, res.stdout.str()
    data = json.loads((pytester.path / "sw" / "sweep.json").read_text())
    (trace, d), = data["per_trace"].items()
    assert d["sizes"] == [0.02, 0.05, 0.2]
    lru = d["results"]["LRU"]
    assert lru[0] > lru[1] > lru[2]  # a bigger cache misses less
    assert list(Path(pytester.path / "sw").glob("sweep_*.png"))


def test_bad_sweep_is_a_usage_error(pytester, stored_context):
    res = pytester.runpytest(str(stored_context), "--sweep", "0.1,big")
    assert res.ret == pytest.ExitCode.USAGE_ERROR and "--sweep" in res.stderr.str()
