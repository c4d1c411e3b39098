"""--transfer/--sweep for caches: one workload (trace, cache size), every stored heuristic and every
baseline on it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .baselines import ORACLE, BaselineTimeout, default_policies, run_baselines
from .evaluator import EVAL_LIMITS
from .simulator import build, resolve_capacity, simulate
from .traces import open_trace, trace_label

CLASSIC = "LRU"  # improvements are also reported against this one
HIGHLIGHT = ("LRU", "S3FIFO", "WTinyLFU", "ARC", "Belady", "FIFO")  # drawn in a sweep's figure
POLICY_TIMEOUT = 60.0  # seconds per baseline per workload; slower ones are reported as timed out


@dataclass(frozen=True)
class Workload:
    trace: str  # a file path or dataset/name
    size: float | int  # the cache size, as a context declares it

    @property
    def id(self) -> str:
        label = trace_label(self.trace) if Path(self.trace).suffix else self.trace
        return f"{label}@{self.size:g}"


def run_workload(w: Workload, ctx, template, heuristics: dict[str, str], dirs) -> dict:
    """{'trace', 'size', 'capacity', 'trace_sha256', 'results': {policy: objective}} for one workload."""
    trace = open_trace(w.trace, dirs)
    ignore = ctx.settings.ignore_size
    cap = resolve_capacity(w.size, trace, ignore)
    results = {}
    for name, source in heuristics.items():
        res = simulate(build(template, source, name), trace, cap, ignore, limits=EVAL_LIMITS)
        results[f"* {name}"] = getattr(res, ctx.objective)
    timeouts = []
    for policy in default_policies():
        try:
            base = run_baselines(trace, cap, ignore, template, [policy], timeout=POLICY_TIMEOUT)[policy]
            results[policy] = getattr(base, ctx.objective)
        except BaselineTimeout:  # e.g. libCacheSim's LFUDA crawls at small cache sizes
            timeouts.append(policy)
    return {"timeouts": timeouts, "trace": trace_label(str(trace.source)) if trace.source.is_file() else trace.name,
            "size": w.size, "capacity": cap, "trace_sha256": trace.sha256, "requests": trace.n_requests,
            "results": results, "workload": asdict(w), "references": list(ORACLE), "classic": CLASSIC,
            "highlight": list(HIGHLIGHT)}
