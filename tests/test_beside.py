"""Baselines beside the search (search/beside.py): their scores reach the archive for simplification,
and a failure stops the run instead of leaving the inner session waiting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_policysmith.cache.baselines import BaselineResult
from pytest_policysmith.context import load_context
from pytest_policysmith.errors import UsageError
from pytest_policysmith.outcomes import StopKind
from pytest_policysmith.search.beside import Beside
from pytest_policysmith.storage.archive import Archive

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def context(tmp_path, small_trace):
    decl = {"domain": "cache", "traces": [str(small_trace)], "cache_size": 0.1, "ignore_size": True,
            "objective": "object_miss_ratio", "template": str(ROOT / "templates" / "cache_priority")}
    return load_context(tmp_path, decl)


def _result(policy: str, omr: float) -> BaselineResult:
    return BaselineResult(policy, omr, omr, 0.0, "test", policy == "LRU")


def test_the_baselines_scores_reach_the_archive_once_done(tmp_path, context):
    archive = Archive(tmp_path / "a.sqlite")
    run_id = archive.create_run(context.name, {}, 0)
    assert archive.caps(run_id) is None  # the stepper waits while this is None
    done = {"t": {"LRU": _result("LRU", 0.5), "FIFO": _result("FIFO", 0.6), "Belady": _result("Belady", 0.2)}}
    beside = Beside(context, lambda: done, archive.path, run_id)
    assert beside.result() == done
    assert archive.caps(run_id) == (0.5, 0.6)  # Belady is a bound, not a contender
    assert beside.best() == ("LRU", 0.5)
    assert archive.run(run_id)["status"] == "running"


def test_failed_baselines_stop_the_run_and_say_why(tmp_path, context):
    archive = Archive(tmp_path / "a.sqlite")
    run_id = archive.create_run(context.name, {}, 0)

    def broken():
        raise UsageError("baseline LRU on t failed (exit 1): no such trace")

    beside = Beside(context, broken, archive.path, run_id)
    with pytest.raises(UsageError, match="no such trace"):
        beside.result()
    stop = archive.run(run_id)["stop"]
    assert stop.kind is StopKind.BASELINES and "no such trace" in stop.reason
    assert archive.caps(run_id) is None and beside.best() is None
