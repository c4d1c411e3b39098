"""Baselines beside the search (search/beside.py): their scores reach the archive for simplification,
and a failure stops the run instead of leaving the inner session waiting."""

from __future__ import annotations

import threading
import time
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
    beside = Beside(context, lambda spare: done, archive.path, run_id)
    assert beside.result() == done
    assert archive.caps(run_id) == (0.5, 0.6)  # Belady is a bound, not a contender
    assert beside.best() == ("LRU", 0.5)
    assert archive.run(run_id)["status"] == "running"


def test_failed_baselines_stop_the_run_and_say_why(tmp_path, context):
    archive = Archive(tmp_path / "a.sqlite")
    run_id = archive.create_run(context.name, {}, 0)

    def broken(spare):
        raise UsageError("baseline LRU on t failed (exit 1): no such trace")

    with pytest.raises(UsageError, match="no such trace"):  # before the search starts: at once
        Beside(context, broken, archive.path, run_id)
    stop = archive.run(run_id)["stop"]
    assert stop.kind is StopKind.BASELINES and "no such trace" in stop.reason
    assert archive.caps(run_id) is None


def test_the_search_starts_once_a_core_is_idle_and_the_stragglers_finish_beside_it(tmp_path, context):
    archive = Archive(tmp_path / "a.sqlite")
    run_id = archive.create_run(context.name, {}, 0)
    done = {"t": {"LRU": _result("LRU", 0.5), "LFUDA": _result("LFUDA", 0.4)}}
    release = threading.Event()

    def stragglers(spare):
        spare.set()  # what run_baselines does when fewer policies are left than workers
        assert release.wait(30)
        return done

    beside = Beside(context, stragglers, archive.path, run_id, idle_grace=0.0)  # returns while LFUDA still runs
    assert beside.best() is None and archive.caps(run_id) is None
    release.set()
    assert beside.result() == done and archive.caps(run_id) == (0.5, 0.4)
    assert beside.best() == ("LFUDA", 0.4)


def test_run_baselines_says_when_a_worker_goes_idle(small_trace, tmp_path, monkeypatch):
    """``spare`` is set once fewer policies are left than workers, and every result still arrives."""
    from pytest_policysmith.cache.baselines import run_baselines
    from pytest_policysmith.cache.traces import open_trace

    monkeypatch.setenv("POLICYSMITH_CACHE", str(tmp_path / "cache"))
    spare = threading.Event()
    res = run_baselines(open_trace(str(small_trace)), 300, True, None, ["LRU", "FIFO", "LFU"], jobs=2, spare=spare)
    assert spare.wait(5) and list(res) == ["LRU", "FIFO", "LFU"]
    assert all(0 < r.object_miss_ratio < 1 for r in res.values())


def test_a_cpu_timeout_is_remembered_with_its_limit(small_trace, tmp_path, monkeypatch):
    """A policy that ran out of its CPU-seconds is not run again within as many (a resumed suite
    spent LFUDA's 120 s on cache2k/orm-* at every resume); given more, it runs."""
    from pytest_policysmith.cache.baselines import BaselineTimeout, _cache_key, run_baselines
    from pytest_policysmith.cache.traces import open_trace
    from pytest_policysmith.paths import cache_dir

    monkeypatch.setenv("POLICYSMITH_CACHE", str(tmp_path / "cache"))
    trace = open_trace(str(small_trace))
    mark = cache_dir() / "baselines" / f"{_cache_key(trace, 300, True, 'LRU', '')}.timeout"
    mark.parent.mkdir(parents=True)
    mark.write_text("5")  # as if LRU had run out of 5 CPU-seconds here (it needs milliseconds)
    assert run_baselines(trace, 300, True, None, ["LRU", "FIFO"], timeout=5.0, skip_timeouts=True).keys() == {"FIFO"}
    with pytest.raises(BaselineTimeout, match="within 5 CPU-seconds on an earlier run"):
        run_baselines(trace, 300, True, None, ["LRU"], timeout=2.0)
    assert 0 < run_baselines(trace, 300, True, None, ["LRU"], timeout=6.0)["LRU"].object_miss_ratio < 1


def test_a_short_straggler_is_waited_for_rather_than_shared_with_the_search(tmp_path, context):
    archive = Archive(tmp_path / "a.sqlite")
    run_id = archive.create_run(context.name, {}, 0)
    done = {"t": {"LRU": _result("LRU", 0.5), "FIFO": _result("FIFO", 0.6)}}

    def straggler(spare):
        spare.set()  # a core is idle ...
        time.sleep(0.2)  # ... for less than the grace
        return done

    beside = Beside(context, straggler, archive.path, run_id, idle_grace=10.0)
    assert beside.best() == ("LRU", 0.5) and archive.caps(run_id) == (0.5, 0.6)
