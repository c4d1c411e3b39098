"""The libCacheSim fork server (cache/baseline_worker.py): a child per policy gives what a fresh
process gives, and a crash stays in its child."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pytest_policysmith.cache.baselines import hashpower
from pytest_policysmith.cache.traces import libcachesim_input, open_trace

SERVER = [sys.executable, "-m", "pytest_policysmith.cache.baseline_worker"]
FRESH = """
import json, sys, libcachesim as lcs
from pathlib import Path
from pytest_policysmith.cache.traces import libcachesim_reader
policy, trace, capacity, hp = sys.argv[1:]
cache = getattr(lcs, policy)(cache_size=int(capacity), hashpower=int(hp))
print(json.dumps(cache.process_trace(libcachesim_reader(Path(trace), True))))
"""


def _serve(*requests: list) -> list[dict]:
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    proc = subprocess.run(SERVER, input=lines, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _request(policy: str, trace, capacity: int, cpu: float = 60.0) -> list:
    return [policy, str(trace.source), capacity, True, hashpower(trace.n_objects), cpu, 20 * cpu, 0]


@pytest.mark.parametrize("policy", ["LeCaR", "Cacheus", "LHD"])
def test_rand_policies_give_what_a_fresh_process_gives(small_trace, policy):
    """They draw from rand(): the fork must start from the state a fresh process starts from,
    also for the second policy served."""
    trace = open_trace(str(small_trace))
    cap = trace.n_objects // 10
    fresh = subprocess.run([sys.executable, "-c", FRESH, policy, str(trace.source), str(cap),
                            str(hashpower(trace.n_objects))], capture_output=True, text=True, check=True)
    want = json.loads(fresh.stdout.splitlines()[-1])
    first, second = _serve(_request(policy, trace, cap), _request(policy, trace, cap))
    assert first["ok"][:2] == want and second["ok"][:2] == want
    assert 0 < first["ok"][2] < 60  # the child's own CPU time, not the server's import


def test_a_crash_stays_in_its_child_and_the_server_goes_on(small_trace, tmp_path):
    trace = open_trace(str(small_trace))
    missing = tmp_path / "gone.oracleGeneral.bin"
    crash, unknown, good = _serve(
        [*_request("LRU", trace, 100)[:1], str(missing), *_request("LRU", trace, 100)[2:]],
        _request("NoSuchPolicy", trace, 100),
        _request("LRU", trace, 100),
    )
    assert crash == {"signal": 6}  # libCacheSim aborts on a trace it cannot open
    assert unknown["exit"] == 1 and "NoSuchPolicy" in unknown["stderr"]
    assert 0 < good["ok"][0] < 1


@pytest.mark.parametrize("policy", ["LRU", "S3FIFO", "LeCaR"])
def test_the_decompressed_input_gives_what_the_zst_gives(small_trace, policy):
    """Baselines read a .zst trace decompressed once (libcachesim_input): the same requests, the same
    miss ratios as libCacheSim reading the .zst itself; and the copy is made once."""
    trace = open_trace(str(small_trace))
    bin_path = libcachesim_input(trace)
    assert bin_path.name.endswith(".oracleGeneral.bin") and bin_path != trace.source
    stamp = bin_path.stat().st_mtime_ns
    assert libcachesim_input(trace) == bin_path and bin_path.stat().st_mtime_ns == stamp
    cap = trace.n_objects // 10
    from_zst, from_bin = _serve(_request(policy, trace, cap), [policy, str(bin_path), *_request(policy, trace, cap)[2:]])
    assert from_zst["ok"][:2] == from_bin["ok"][:2]
    assert 0 < from_bin["ok"][0] < 1
