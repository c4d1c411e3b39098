"""The simulator counts exactly as libCacheSim does (the issue's acceptance bar)."""

from __future__ import annotations

import math

import libcachesim as lcs
import pytest

from pytest_policysmith.cache.baselines import hashpower
from pytest_policysmith.cache.simulator import build, resolve_capacity, simulate
from pytest_policysmith.cache.traces import libcachesim_reader, open_trace


@pytest.mark.parametrize("seed,policy", [("lru", "LRU"), ("fifo", "FIFO")])
def test_w106_10pct_matches_libcachesim_baselines(traces_dir, template, baselines_tsv, seed, policy):
    trace = open_trace("cloudphysics/w106", [traces_dir])
    cap = resolve_capacity(0.1, trace, ignore_size=True)
    assert cap == 27517
    res = simulate(build(template, template.seeds()[seed], seed), trace, cap, ignore_size=True)
    assert round(res.object_miss_ratio, 6) == baselines_tsv[("cloudphysics/w106", policy)]
    assert res.requests == 5292456


@pytest.mark.parametrize("ignore_size", [False, True])
@pytest.mark.parametrize("seed,policy", [("lru", "LRU"), ("fifo", "FIFO")])
def test_cloudphysicsio_matches_libcachesim_live(traces_dir, template, seed, policy, ignore_size):
    trace = open_trace("cloudphysics/cloudPhysicsIO", [traces_dir])
    cap = resolve_capacity(0.1, trace, ignore_size)
    ours = simulate(build(template, template.seeds()[seed], seed), trace, cap, ignore_size)
    cache = getattr(lcs, policy)(cache_size=cap, hashpower=hashpower(trace.n_objects))
    omr, bmr = cache.process_trace(libcachesim_reader(trace.source, ignore_size))
    assert ours.object_miss_ratio == pytest.approx(omr, abs=1e-12)
    assert ours.byte_miss_ratio == pytest.approx(bmr, abs=1e-12)
    if not ignore_size:
        assert not math.isclose(ours.object_miss_ratio, ours.byte_miss_ratio)  # sizes really honoured
