"""Bin packing, the third domain: a package outside the core (policysmith_binpack) that plugs in
through the public interface, reproduces FunSearch's published baseline figures, and runs the same
search, checker and gate as the cache and tcp domains."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from policysmith_binpack.instances import load
from policysmith_binpack.pack import build, pack
from pytest_policysmith import EvaluationError
from pytest_policysmith.templates import load_template

from helpers import synth

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "binpack_priority"


@pytest.fixture(scope="module")
def template():
    return load_template(str(TEMPLATE))


@pytest.mark.parametrize("instances, seed, excess, bins", [
    # FunSearch's bin_packing.ipynb: best fit uses 2067.0 bins on average against an L1 bound of
    # 1987.8 on its Weibull 5k instances (3.98%), and 212.0 against 201.2 on OR3 (5.37%).
    ("funsearch_weibull5k", "best_fit", 0.0398, 2067.0),
    ("or3", "best_fit", 0.0537, 212.0),
    # First fit on Weibull 5k: 4.23% in FunSearch's paper (Table 1).
    ("funsearch_weibull5k", "first_fit", 0.0423, None),
])
def test_the_harness_reproduces_funsearchs_baseline_figures(template, instances, seed, excess, bins):
    res = pack(build(template, template.seeds()[seed]), load(instances, 0, 0, 0))
    assert res.excess_bins == pytest.approx(excess, abs=5e-5)
    if bins is not None:
        assert sum(res.bins) / len(res.bins) == bins


def test_generated_instances_follow_funsearchs_recipe():
    inst = load("weibull", 2, 5000, 3)
    assert inst.capacities == (100, 100) and [len(s) for s in inst.sizes] == [5000, 5000]
    sizes = [x for s in inst.sizes for x in s]
    assert min(sizes) >= 1 and max(sizes) <= 100
    assert 39 < sum(sizes) / len(sizes) < 41.5  # Weibull(3, 45) has mean 45 * Gamma(4/3) = 40.2
    assert load("weibull", 2, 5000, 3).sha256 == inst.sha256 != load("weibull", 2, 5000, 4).sha256


@pytest.mark.parametrize("body", ['return fopen("/etc/passwd", "r") != 0;', "return (double)getpid();"])
def test_a_candidate_that_reaches_past_the_rules_is_killed(template, body):
    """Defence in depth behind the static rules: the harness enters seccomp strict mode before any
    candidate code runs, so a body that opens a file or makes any other system call is killed."""
    with pytest.raises(EvaluationError, match="SIGKILL|signal 9"):
        pack(build(template, body), load("or3", 0, 0, 0))


def test_a_short_synthesis_is_checked_scored_accepted_and_gated(pytester):
    """The whole loop on a small context (the default context's search, which beats best fit, is
    measured in the README and its winner gated in contexts/binpack_weibull)."""
    ctx = pytester.mkdir("bp")
    decl = {"domain": "binpack", "instances": "weibull", "count": 2, "items": 2000, "seed": 1,
            "template": str(TEMPLATE), "gate": ["FirstFit"], "search": {"rounds": 4, "candidates": 12}}
    (ctx / "conftest.py").write_text(f"policysmith_context = {decl!r}\n")
    (ctx / "test_rules.py").write_text((ROOT / "contexts" / "binpack_weibull" / "test_rules.py").read_text())
    (ctx / "test_gate.py").write_text((ROOT / "contexts" / "binpack_weibull" / "test_gate.py").read_text())
    res = synth(pytester, ctx, "--synth-json", "s.json", "--synth-accept", "--synth-report", "none")
    assert res.ret == 0, res.stdout.str()
    s = json.loads((pytester.path / "s.json").read_text())
    base = next(iter(s["baselines"].values()))
    assert base["L1 bound"]["reference"] and not base["BestFit"]["reference"]
    assert s["best"]["score"] <= base["BestFit"]["excess_bins"] < base["FirstFit"]["excess_bins"]
    assert set(s["check_pass_rates"]) >= {"test_compiles", "test_shares_bins", "test_is_deterministic"}
    res = pytester.runpytest(str(ctx), "-p", "no:cacheprovider", "-v")
    res.assert_outcomes(passed=7)
    res.stdout.fnmatch_lines(["*test_beats_gate_baselines*PASSED*"])


def test_no_core_module_names_bin_packing():
    """The domain reaches the core only through the public interface: the core never names it."""
    core = ROOT / "pytest_policysmith"
    named = [p for p in core.rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".j2")
             and re.search(r"bin.?pack", p.read_text(errors="replace"), re.IGNORECASE)]
    assert named == []
