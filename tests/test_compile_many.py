"""A round compiled with a compiler start per core: the same scores as alone, and no verdict changed."""

from __future__ import annotations

import os
import uuid

import pytest

from pytest_policysmith.cache.candidate import tiny_trace
from pytest_policysmith.cache.simulator import ENTRY, build, build_many, simulate
from pytest_policysmith.compile import compile_shared
from pytest_policysmith.errors import CompileError, UsageError

BODIES = [
    "return now;",
    "return obj.count;",
    "return cache.last_evicted + ps_div(cache.capacity, log1p(obj.count));",
    "return obj.count > 1.0 ? now + cache.age_p50 : obj.insert_time;",
]


def fresh(body: str) -> str:
    """The body with a unique comment: nothing in the compile cache holds it yet."""
    return f"// {uuid.uuid4()}\n{body}"


def misses(program) -> int:
    return simulate(program, tiny_trace("zipf"), 100, True).misses


def test_a_round_compiled_together_scores_as_each_alone(template, tmp_path, monkeypatch):
    bodies = [fresh(b) for b in BODIES]
    monkeypatch.setenv("POLICYSMITH_CACHE", str(tmp_path / "alone"))
    alone = [misses(build(template, b)) for b in bodies]
    monkeypatch.setenv("POLICYSMITH_CACHE", str(tmp_path / "together"))
    assert build_many(template, [(f"c{i}", b) for i, b in enumerate(bodies)]) == len(bodies)
    programs = [build(template, b, f"c{i}") for i, b in enumerate(bodies)]
    assert [p.policy.symbol for p in programs] == [f"{ENTRY}_{i}" for i in range(len(bodies))]
    # one object per compiler start: one per core, at least two candidates each
    assert len({p.policy.path for p in programs}) == min(os.cpu_count() or 1, len(bodies) // 2)
    assert all(p.policy.cached for p in programs)
    assert [misses(p) for p in programs] == alone
    assert build_many(template, [(f"c{i}", b) for i, b in enumerate(bodies)]) == 0  # nothing left to build


def test_a_body_that_does_not_compile_leaves_each_to_compile_alone(template, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYSMITH_CACHE", str(tmp_path / "c"))
    good, bad = [fresh(b) for b in BODIES[:2]], fresh("return obj.count +;")
    assert build_many(template, [("a", good[0]), ("b", bad), ("c", good[1])]) == 0
    with pytest.raises(CompileError) as err:
        build(template, bad, "b")
    assert "candidate.c:2" in err.value.stderr  # its own error, at its own line
    for name, body in zip("ac", good):
        program = build(template, body, name)
        assert program.policy.symbol == ENTRY and not program.policy.cached


def test_a_body_the_static_rules_refuse_is_left_out(template, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYSMITH_CACHE", str(tmp_path / "c"))
    bodies = [fresh(b) for b in BODIES[:2]] + [fresh("return system(0);")]
    assert build_many(template, [(f"c{i}", b) for i, b in enumerate(bodies)]) == 2


def test_a_missing_compiler_is_named_with_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYSMITH_CACHE", str(tmp_path))
    with pytest.raises(UsageError, match="'no-such-cc' not found on PATH; install it"):
        compile_shared("int f(void) { return 0; }", "f", cc="no-such-cc")
