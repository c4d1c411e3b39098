"""Gate assertions for regression mode, with messages that name policy, metric and values."""

from __future__ import annotations

import math
from typing import Callable

import pytest

from ..domain import Evaluation
from ..storage.policies import Rerecord
from .candidate import Candidate


def assert_reproduces(candidate: Candidate, evaluation: Evaluation,
                      rerecord: Callable[[Rerecord], None] | None = None,
                      again: Callable[[], Evaluation] | None = None) -> None:
    """The stored policy gets its recorded score again, on the same trace bytes. Where no record
    applies (another workload), ``rerecord`` (``--synth-accept``) takes the score obtained instead.
    Where the domain's measurements are noisy (``Domain.remeasure``), ``again`` measures afresh
    before a score off its record fails: a regression is what every measurement shows."""
    ctx = candidate.context
    off = _off_record(candidate, evaluation, rerecord)
    tries = [evaluation]
    while off and again is not None and len(tries) <= ctx.plugin.remeasure:
        tries.append(again())
        off = _off_record(candidate, tries[-1], None)
    if off:
        trace, metric, want = off
        got = [t.per_trace[trace][metric] for t in tries]
        pytest.fail(
            f"policy {candidate.id} regressed on {trace}: {metric} recorded {want[metric]:.6f}, "
            f"obtained {', then '.join(f'{g:.6f}' for g in got)} (rtol={ctx.rtol:g}, atol={ctx.atol:g})"
            f"{'; in every one of %d measurements' % len(got) if len(got) > 1 else ''}"
            f"{_details(want, tries[-1].per_trace[trace], metric)}"
        )


def _off_record(candidate: Candidate, evaluation: Evaluation,
                rerecord: Callable[[Rerecord], None] | None) -> tuple[str, str, dict] | None:
    """The first (workload, metric, record) whose score is off its record, or None. Skips the test
    where a record does not apply (another workload), unless ``rerecord`` takes the new score."""
    ctx, meta = candidate.context, candidate.meta
    how = f"record its score here with `pytest {ctx.root} --synth-accept`"
    for trace, got in evaluation.per_trace.items():
        want = (meta.get("metrics") or {}).get(trace)
        if want is None or want.get("trace_sha256") != got["trace_sha256"]:  # no record applies here
            if rerecord is not None and candidate.path is not None:
                rerecord(Rerecord(str(candidate.path), trace, ctx.objective, dict(got),
                                  want.get("trace_sha256") if want else None))
                continue
            if want is None:
                pytest.fail(f"policy {candidate.id}: no recorded metrics for trace {trace}; {how}")
            pytest.skip(
                f"policy {candidate.id}: recorded on {trace} with sha256 {want.get('trace_sha256', '?')[:16]}..., "
                f"but yours is {got['trace_sha256'][:16]}... (a different workload: a different trace file, another "
                f"kernel, or one set up another way): the recorded score does not apply, so it is not compared; {how}"
            )
        for metric in [m for m in dict.fromkeys((ctx.objective, *ctx.plugin.objectives)) if m in want and m in got]:
            if not math.isclose(got[metric], want[metric], rel_tol=ctx.rtol, abs_tol=ctx.atol):
                return trace, metric, want
    return None


def _details(want: dict, got: dict, metric: str) -> str:
    """The other numbers recorded beside the score, recorded against obtained (the last measurement):
    what moved (a throughput, a queueing delay) says where to look."""
    pairs = [f"{k} {want[k]:.6g} -> {got[k]:.6g}" for k, v in want.items()
             if k != metric and isinstance(v, (int, float)) and not isinstance(v, bool)
             and isinstance(got.get(k), (int, float)) and v != got[k]]
    return f"; besides: {', '.join(pairs)}" if pairs else ""


def assert_beats(candidate: Candidate, evaluation: Evaluation, baselines: dict[str, dict]) -> None:
    """Lower objective than every baseline the context names in ``gate``, on every trace; where
    that baseline already reaches a reference bound (Belady's oracle), matching it is all any
    policy can do, so matching passes."""
    ctx = candidate.context
    for trace, got in evaluation.per_trace.items():
        bound = _bound(baselines[trace], ctx.objective)
        for name in ctx.gate:
            ours, theirs = got[ctx.objective], getattr(baselines[trace][name], ctx.objective)
            if bound is not None and math.isclose(theirs, bound, rel_tol=ctx.rtol, abs_tol=ctx.atol):
                assert ours <= theirs or math.isclose(ours, theirs, rel_tol=ctx.rtol, abs_tol=ctx.atol), (
                    f"policy {candidate.id} does not match baseline {name} on {trace} (it reaches the bound, "
                    f"so matching it passes): {ctx.objective} {ours:.6f} vs {name} {theirs:.6f}"
                )
                continue
            assert ours < theirs, (
                f"policy {candidate.id} does not beat baseline {name} on {trace}: "
                f"{ctx.objective} {ours:.6f} vs {name} {theirs:.6f}"
            )


def _bound(results: dict, objective: str) -> float | None:
    """The best a reference (a bound, not a contender) reaches on one workload, if any ran."""
    values = [getattr(b, objective) for b in results.values() if b.reference]
    return min(values) if values else None
