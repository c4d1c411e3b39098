"""The one atomic write (old or new content, never half, no temporary left on failure), and scratch
folders that a killed process leaves are swept by the next one."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from pytest_policysmith.storage import files
from pytest_policysmith.storage.files import scratch_dir, write_atomic


def test_write_atomic_replaces_whole_files(tmp_path):
    dest = tmp_path / "sub" / "f.bin"
    write_atomic(dest, "old")
    write_atomic(dest, [b"ne", b"w"], mode=0o755)
    assert dest.read_text() == "new" and os.stat(dest).st_mode & 0o777 == 0o755
    assert sorted(p.name for p in dest.parent.iterdir()) == ["f.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    dest = tmp_path / "f.json"
    write_atomic(dest, "old")

    def chunks():
        yield b"partial"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left") as err:
        write_atomic(dest, chunks())
    assert err.value.filename == str(dest)  # the file meant, not the temporary
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_scratch_folders_of_dead_processes_are_swept(monkeypatch, tmp_path):
    """A SIGKILLed worker cannot remove its sandbox folder; the next process that makes one does."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    files._sweep_dead.cache_clear()
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = tmp_path / f"ps-test-{gone.pid}-abc"
    live = tmp_path / f"ps-test-{os.getppid()}-def"
    other = tmp_path / "ps-testimony"
    for d in (dead, live, other):
        d.mkdir()
        (d / "f").write_text("x")
    with scratch_dir("ps-test-") as mine:
        assert Path(mine).name.startswith(f"ps-test-{os.getpid()}-")
        assert not dead.exists() and live.exists() and other.exists()
    assert not Path(mine).exists()


def test_accepting_a_trace_s_winner_replaces_that_trace_s_old_one_only(tmp_path):
    from pytest_policysmith.storage.policies import accept, load_policies

    accept(tmp_path, "suite_a_r1", "return now;", {"workload": "ds/a"})
    accept(tmp_path, "suite_b_r1", "return now;", {"workload": "ds/b"})
    accept(tmp_path, "suite_a_r2", "return -now;", {"workload": "ds/a"}, replaces="ds/a")
    assert sorted(p.name for p in load_policies(tmp_path)) == ["suite_a_r2", "suite_b_r1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["suite_a_r2.c", "suite_a_r2.json", "suite_b_r1.c",
                                                         "suite_b_r1.json"]
    accept(tmp_path, "ctx_r3", "return now;", {})  # a context with one search keeps what it had
    assert len(load_policies(tmp_path)) == 3


def test_an_accept_cut_between_its_two_writes_leaves_no_policy_without_its_record(tmp_path):
    """A policy is found by its .c, and a .c without a record is taken for one written by hand: so the
    record goes first, and a failure after it leaves nothing that loads. (Here the body cannot be
    renamed into place: a folder holds its name.)"""
    from pytest_policysmith.storage.policies import accept, load_policies

    (tmp_path / "ctx_r1.c").mkdir()
    with pytest.raises(OSError):
        accept(tmp_path, "ctx_r1", "return now;", {"score": 0.5})
    assert (tmp_path / "ctx_r1.json").is_file() and load_policies(tmp_path) == []
    (tmp_path / "ctx_r1.c").rmdir()
    accept(tmp_path, "ctx_r1", "return now;", {"score": 0.5})  # accepting again completes it
    assert [(p.name, p.meta) for p in load_policies(tmp_path)] == [("ctx_r1", {"score": 0.5})]


def test_a_better_stored_winner_counts_only_on_the_same_trace_and_context(tmp_path):
    from pytest_policysmith.storage.policies import accept, better_stored

    meta = {"workload": "ds/a", "score": 0.40, "objective": "object_miss_ratio", "template_sha256": "t1",
            "traces": {"ds/a": {"sha256": "x"}}, "context": {"cache_size": 0.1, "search": {"rounds": 20}}}
    accept(tmp_path, "suite_a_r1", "return now;", meta)
    new = {**meta, "score": 0.45, "context": {"cache_size": 0.1, "search": {"rounds": 120}}}
    kept, score = better_stored(tmp_path, "ds/a", new)
    assert (kept.name, score) == ("suite_a_r1", 0.40)  # a longer search is no excuse
    assert better_stored(tmp_path, "ds/a", {**new, "score": 0.40}) is None  # a tie: the new run's
    assert better_stored(tmp_path, "ds/b", new) is None
    for changed in ({"traces": {"ds/a": {"sha256": "y"}}}, {"context": {"cache_size": 0.2, "search": {"rounds": 20}}}):
        assert better_stored(tmp_path, "ds/a", {**new, **changed}) is None  # not comparable: replaced
    assert better_stored(tmp_path / "none", "ds/a", new) is None


def test_a_winner_stored_under_another_template_is_compared_on_its_score_now(tmp_path):
    """A template that changed since (an input added, say) may score the same source differently, so
    the recorded score does not count; the policy is scored again, or, if it cannot be, replaced."""
    from pytest_policysmith.storage.policies import accept, better_stored

    meta = {"workload": "ds/a", "score": 0.40, "objective": "object_miss_ratio", "template_sha256": "t1",
            "traces": {"ds/a": {"sha256": "x"}}, "context": {"cache_size": 0.1}}
    accept(tmp_path, "suite_a_r1", "return now;", meta)
    new = {**meta, "score": 0.45, "template_sha256": "t2"}
    asked = []

    def now_scores(value):
        return lambda old: asked.append(old.name) or value

    assert better_stored(tmp_path, "ds/a", new) is None  # nothing to score it with: replaced
    assert better_stored(tmp_path, "ds/a", new, now_scores(0.50)) is None  # worse now than recorded
    assert better_stored(tmp_path, "ds/a", new, now_scores(None)) is None  # no longer compiles or runs
    kept, score = better_stored(tmp_path, "ds/a", new, now_scores(0.42))
    assert (kept.name, score) == ("suite_a_r1", 0.42)
    assert asked == ["suite_a_r1"] * 3
    assert better_stored(tmp_path, "ds/a", {**new, "template_sha256": "t1"}, now_scores(0.99))[1] == 0.40
    assert len(asked) == 3  # under the same template the recorded score counts, unmeasured
