"""The cache EVALUATOR for a context: simulate a candidate on every trace the context names."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Iterable

from ..context import Context
from ..domain import Evaluation, Screen
from ..sandbox import Limits
from .simulator import build, resolve_capacity, simulate
from .traces import Trace, expand, open_trace, sampled_trace

EVAL_LIMITS = Limits(cpu_seconds=300, wall_seconds=600)
# The cascade: traces this long are first simulated on a SHARDS-style sample of their objects;
# a candidate whose sample score is above its round's bar is not simulated on the whole trace.
CASCADE = {"sample_rate": 0.1, "min_requests": 1_000_000}


def context_traces(ctx: Context, dirs: Iterable[Path]) -> list[Trace]:
    dirs = list(dirs)
    return [open_trace(name, dirs) for name in expand(ctx.settings.traces, dirs)]


def evaluate(source: str, template, ctx: Context, traces: list[Trace], name: str = "candidate",
             screen: Screen | None = None) -> Evaluation:
    """The candidate's score; with ``screen`` (a search round's cheap first stage) long traces go
    through the cascade: sample first, the whole trace only if the sample does not rule it out."""
    binary = build(template, source, name)
    size, ignore = ctx.settings.cache_size, ctx.settings.ignore_size
    proxies: dict[str, float] = {}
    if screen is not None:
        for trace in traces:
            if trace.n_requests >= CASCADE["min_requests"]:
                sample = sampled_trace(trace, CASCADE["sample_rate"])
                cap = _sample_capacity(ctx, trace, sample)
                res = simulate(binary, sample, cap, ignore, limits=EVAL_LIMITS)
                proxies[trace.name] = getattr(res, ctx.objective)
    proxy = statistics.fmean(proxies.values()) if proxies else None
    if proxy is not None and screen is not None:
        clone = screen.clone_of(proxy, every_workload=len(proxies) == len(traces))
        if proxy > screen.bar or clone is not None:
            sampled = {t.name: {"proxy": proxies[t.name], "trace_sha256": t.sha256} for t in traces if t.name in proxies}
            return Evaluation(None, sampled, proxy, screened=True, clone_of=clone)
    per: dict[str, dict] = {}
    for trace in traces:
        cap = resolve_capacity(size, trace, ignore)
        res = simulate(binary, trace, cap, ignore, limits=EVAL_LIMITS)
        per[trace.name] = {**res.as_dict(), "trace_sha256": trace.sha256}
        if trace.name in proxies:
            per[trace.name]["proxy"] = proxies[trace.name]
    score = statistics.fmean(float(m[ctx.objective]) for m in per.values())
    return Evaluation(score, per, proxy)


def _sample_capacity(ctx: Context, trace: Trace, sample: Trace) -> int:
    """The cache size on the sample: the same fraction of its footprint, or an absolute size scaled."""
    size, ignore = ctx.settings.cache_size, ctx.settings.ignore_size
    if isinstance(size, float) or size <= 1:
        return resolve_capacity(size, sample, ignore)
    share = sample.footprint(ignore) / max(1, trace.footprint(ignore))
    return max(1, int(size * share))
