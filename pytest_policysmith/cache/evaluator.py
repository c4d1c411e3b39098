"""The cache EVALUATOR for a context: simulate a candidate on every trace the context names."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..context import Context
from ..sandbox import Limits
from .simulator import build, resolve_capacity, simulate
from .traces import Trace, open_trace

EVAL_LIMITS = Limits(cpu_seconds=300, wall_seconds=600)


@dataclass(frozen=True)
class Evaluation:
    score: float  # mean objective over the context's traces (lower is better)
    per_trace: dict[str, dict]  # trace name -> SimResult fields + trace_sha256

    def as_dict(self) -> dict:
        return {"score": self.score, "per_trace": self.per_trace}


def context_traces(ctx: Context, dirs: Iterable[Path]) -> list[Trace]:
    return [open_trace(name, list(dirs)) for name in ctx.traces]


def evaluate(source: str, template, ctx: Context, traces: list[Trace], name: str = "candidate") -> Evaluation:
    binary = build(template, source, name)
    per: dict[str, dict] = {}
    for trace in traces:
        cap = resolve_capacity(ctx.cache_size, trace, ctx.ignore_size)
        res = simulate(binary, trace, cap, ctx.ignore_size, limits=EVAL_LIMITS)
        per[trace.name] = {**res.as_dict(), "trace_sha256": trace.sha256}
    score = statistics.fmean(m[ctx.objective] for m in per.values())
    return Evaluation(score, per)
