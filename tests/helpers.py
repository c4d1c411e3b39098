"""Helpers for the plugin tests: a throwaway context around a small synthetic trace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_policysmith.cache.traces import ORACLE_GENERAL_DTYPE

ROOT = Path(__file__).resolve().parents[1]
RULES = (ROOT / "contexts" / "cache_cloudphysics" / "test_rules.py").read_text()
GATE = (ROOT / "contexts" / "cache_cloudphysics" / "test_gate.py").read_text()


def make_context(pytester: pytest.Pytester, trace: Path, **overrides) -> Path:
    decl = {
        "domain": "cache", "traces": [str(trace)], "cache_size": 0.1, "ignore_size": True,
        "objective": "object_miss_ratio", "template": str(ROOT / "templates" / "cache_priority"),
        "gate": ["LRU", "FIFO"], "search": {"rounds": 2, "candidates": 4, "parents": 2},
    }
    decl.update(overrides)
    ctx = pytester.mkdir("ctx")
    (ctx / "conftest.py").write_text(f"policysmith_context = {decl!r}\n")
    (ctx / "test_rules.py").write_text(RULES)
    (ctx / "test_gate.py").write_text(GATE)
    return ctx


def synth(pytester: pytest.Pytester, ctx: Path, *args: str, timeout: float | None = None):
    """``pytest --synthesize CTX`` with the archive in the test's folder: in this process (pytester's
    in-process run; the inner session is a subprocess anyway), or in a subprocess where a test needs
    a ``timeout`` (it kills processes, say)."""
    argv = ("--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"), "-p", "no:cacheprovider", *args)
    if timeout is not None:
        return pytester.runpytest_subprocess(*argv, timeout=timeout)
    return pytester.runpytest(*argv)


def write_trace(path: Path, ids, sizes) -> Path:
    """An uncompressed oracleGeneral trace of these requests (object ids and sizes), with no next-access times."""
    recs = np.zeros(len(ids), dtype=ORACLE_GENERAL_DTYPE)
    recs["clock_time"] = np.arange(len(ids))
    recs["obj_id"] = ids
    recs["obj_size"] = sizes
    recs["next_access_vtime"] = -1
    path.write_bytes(recs.tobytes())
    return path
