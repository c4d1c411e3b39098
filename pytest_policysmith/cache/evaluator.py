"""The cache EVALUATOR for a context: simulate a candidate on every trace the context names."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..context import Context
from ..sandbox import Limits
from .simulator import build, resolve_capacity, simulate
from .traces import Trace, open_trace, sampled_trace

EVAL_LIMITS = Limits(cpu_seconds=300, wall_seconds=600)
# The cascade: traces this long are first simulated on a SHARDS-style sample of their objects;
# a candidate whose sample score is above its round's bar is not simulated on the whole trace.
CASCADE = {"sample_rate": 0.1, "min_requests": 1_000_000}


@dataclass(frozen=True)
class Evaluation:
    score: float | None  # mean objective over the context's traces (lower is better); None if screened
    per_trace: dict[str, dict]  # trace name -> SimResult fields + trace_sha256 (+ "proxy", the sample's)
    proxy: float | None = None  # mean objective on the sampled traces (the cheap first stage)
    screened: bool = False  # the proxy was above the bar, so the full traces were not simulated

    def as_dict(self) -> dict:
        return {"score": self.score, "per_trace": self.per_trace, "proxy": self.proxy, "screened": self.screened}


def context_traces(ctx: Context, dirs: Iterable[Path]) -> list[Trace]:
    return [open_trace(name, list(dirs)) for name in ctx.traces]


def evaluate(source: str, template, ctx: Context, traces: list[Trace], name: str = "candidate",
             screen: float | None = None) -> Evaluation:
    """The candidate's score; with ``screen`` (the bar of a search round) long traces go through
    the cascade: sample first, the whole trace only if the sample's mean is at or below the bar."""
    binary = build(template, source, name)
    proxies: dict[str, float] = {}
    if screen is not None:
        for trace in traces:
            if trace.n_requests >= CASCADE["min_requests"]:
                sample = sampled_trace(trace, CASCADE["sample_rate"])
                cap = _sample_capacity(ctx, trace, sample)
                res = simulate(binary, sample, cap, ctx.ignore_size, limits=EVAL_LIMITS)
                proxies[trace.name] = getattr(res, ctx.objective)
    proxy = statistics.fmean(proxies.values()) if proxies else None
    if proxy is not None and proxy > screen:
        per = {t.name: {"proxy": proxies[t.name], "trace_sha256": t.sha256} for t in traces if t.name in proxies}
        return Evaluation(None, per, proxy, screened=True)
    per: dict[str, dict] = {}
    for trace in traces:
        cap = resolve_capacity(ctx.cache_size, trace, ctx.ignore_size)
        res = simulate(binary, trace, cap, ctx.ignore_size, limits=EVAL_LIMITS)
        per[trace.name] = {**res.as_dict(), "trace_sha256": trace.sha256}
        if trace.name in proxies:
            per[trace.name]["proxy"] = proxies[trace.name]
    score = statistics.fmean(m[ctx.objective] for m in per.values())
    return Evaluation(score, per, proxy)


def _sample_capacity(ctx: Context, trace: Trace, sample: Trace) -> int:
    """The cache size on the sample: the same fraction of its footprint, or an absolute size scaled."""
    if isinstance(ctx.cache_size, float) or ctx.cache_size <= 1:
        return resolve_capacity(ctx.cache_size, sample, ctx.ignore_size)
    share = sample.footprint(ctx.ignore_size) / max(1, trace.footprint(ctx.ignore_size))
    return max(1, int(ctx.cache_size * share))
