"""The ``policysmith`` console script, run as a user would: a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from pytest_policysmith.cache.baselines import PAPER_BASELINES, RAND_DEPENDENT


def run(*args, env=None):
    exe = shutil.which("policysmith") or sys.executable
    argv = [exe, *args] if exe.endswith("policysmith") else [exe, "-m", "pytest_policysmith.cli", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env)


def test_evaluate_json_fields(traces_dir, template):
    proc = run("evaluate", str(template.root / "seeds" / "lru.c"), "--trace", "cloudphysics/cloudPhysicsIO",
               "--cache-size", "0.1", "--json", "--traces", str(traces_dir))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for field in ("object_miss_ratio", "byte_miss_ratio", "requests", "seconds", "requests_per_second"):
        assert field in out
    assert out["requests"] == 113872
    assert 0.80 < out["object_miss_ratio"] < 0.82 and out["byte_miss_ratio"] > out["object_miss_ratio"]


def test_evaluate_compile_error_points_at_candidate_line(tmp_path, traces_dir):
    bad = tmp_path / "bad.c"
    bad.write_text("double x = obj.count;\nreturn x +* ;\n")
    proc = run("evaluate", str(bad), "--trace", "cloudphysics/cloudPhysicsIO", "--cache-size", "0.1",
               "--traces", str(traces_dir))
    assert proc.returncode == 2
    assert "candidate.c:2:" in proc.stderr and "error" in proc.stderr


@pytest.mark.parametrize("size,msg", [("0", "must be positive"), ("1.5", "whole number"), ("abc", "not a number")])
def test_bad_cache_size(traces_dir, template, size, msg):
    proc = run("evaluate", str(template.root / "seeds" / "lru.c"), "--trace", "cloudphysics/cloudPhysicsIO",
               "--cache-size", size, "--traces", str(traces_dir))
    assert proc.returncode == 2 and "--cache-size" in proc.stderr and msg in proc.stderr


def test_missing_trace_is_a_clear_error(tmp_path, template):
    proc = run("evaluate", str(template.root / "seeds" / "lru.c"), "--trace", "nowhere/none",
               "--cache-size", "0.1", "--traces", str(tmp_path))
    assert proc.returncode == 2 and "trace 'nowhere/none' not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_misspelt_baseline_policy_is_named_with_its_right_spelling(traces_dir):
    proc = run("baselines", "--trace", "lirs/ps", "--cache-size", "0.1", "--ignore-size", "--policies", "S3FIF0,LRU",
               "--traces", str(traces_dir))
    assert proc.returncode == 2
    assert "unknown baseline policy S3FIF0; did you mean S3FIFO instead of S3FIF0; known: ARC," in proc.stderr


def test_a_trace_folder_that_does_not_exist_is_marked_so(tmp_path, template):
    proc = run("evaluate", str(template.root / "seeds" / "lru.c"), "--trace", "nowhere/none",
               "--cache-size", "0.1", "--traces", str(tmp_path / "tracez"))
    assert proc.returncode == 2 and f"searched directories: {tmp_path / 'tracez'} (no such folder)" in proc.stderr


def test_a_misspelt_trace_is_named_with_the_one_in_the_store(traces_dir, template):
    proc = run("evaluate", str(template.root / "seeds" / "lru.c"), "--trace", "lirs/pss",
               "--cache-size", "0.1", "--traces", str(traces_dir))
    assert proc.returncode == 2 and "trace 'lirs/pss' not found" in proc.stderr
    assert "did you mean 'lirs/ps'? It is in the store." in proc.stderr, proc.stderr


def test_a_misspelt_template_field_is_named_with_its_right_spelling(tmp_path, template):
    tpl = tmp_path / "tpl"
    shutil.copytree(template.root, tpl)
    manifest = tpl / "template.toml"
    manifest.write_text(manifest.read_text().replace('harness = "', 'harnes = "', 1))
    proc = run("evaluate", str(tpl / "seeds" / "lru.c"), "--trace", "nowhere/none", "--cache-size", "0.1",
               "--template", str(tpl), "--traces", str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert f"{manifest}: missing field(s) harness; it has 'harnes': rename that to 'harness'" in proc.stderr


def test_baselines_on_w106_match_shared_table(traces_dir, baselines_tsv):
    """Deterministic policies match to the printed digit; LeCaR, Cacheus and LHD draw from rand()."""
    policies = ["LRU", "FIFO", "LFU", "ARC", "S3FIFO", "Sieve", "LIRS", "TwoQ", "WTinyLFU", "GDSF",
                "Cacheus", "LeCaR", "LHD", "Clock", "Belady", "MRU", "CR-LFU", "SR-LRU"]
    proc = run("baselines", "--trace", "cloudphysics/w106", "--cache-size", "0.1", "--ignore-size",
               "--json", "--policies", ",".join(policies), "--traces", str(traces_dir))
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert set(got) == set(policies)
    for policy in policies:
        want = baselines_tsv.get(("cloudphysics/w106", policy))
        if want is None:
            continue
        if policy in RAND_DEPENDENT:
            assert got[policy]["object_miss_ratio"] == pytest.approx(want, abs=0.004), policy
        else:
            assert round(got[policy]["object_miss_ratio"], 6) == want, policy
    assert got["MRU"]["source"].startswith("priority template")
    assert {p for p in policies if got[p]["paper"]} == set(PAPER_BASELINES)
    assert min(r["object_miss_ratio"] for r in got.values()) == got["Belady"]["object_miss_ratio"]
