"""The cache domain: a priority function evicts from a simulated cache, scored on real traces."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Iterable

from ..context import need
from ..domain import Baselines, Domain, Evaluation, Screen
from ..errors import UsageError
from .candidate import CacheCandidate


@dataclass(frozen=True)
class CacheSettings:
    traces: tuple[str, ...]  # dataset/name in the trace store, or file paths
    cache_size: float | int  # a fraction of the footprint (<= 1), or an absolute size
    ignore_size: bool = False  # count objects, not bytes
    per_trace: bool = False  # one search per trace (a heuristic each), not one over all of them


class CacheDomain(Domain):
    name: ClassVar[str] = "cache"
    objectives: ClassVar[tuple[str, ...]] = ("object_miss_ratio", "byte_miss_ratio")
    candidate_class: ClassVar[type] = CacheCandidate
    threaded_evaluations: ClassVar[bool] = True  # each simulation is a sandboxed child of its own

    @property
    def cascade(self) -> dict:  # type: ignore[override]
        from .evaluator import CASCADE

        return CASCADE

    def parse(self, where: Path, fields: dict[str, Any]) -> CacheSettings:
        from .simulator import parse_cache_size

        traces = need(where, fields, "traces", (list, tuple, str))
        traces = (traces,) if isinstance(traces, str) else tuple(traces)
        if not traces or not all(isinstance(t, str) and t for t in traces):
            raise UsageError(f"{where}: field 'traces' must name at least one trace, e.g. ['cloudphysics/w106']")
        size = parse_cache_size(need(where, fields, "cache_size", (int, float)), f"{where}: field 'cache_size'")
        ignore = fields.pop("ignore_size", False)
        if not isinstance(ignore, bool):
            raise UsageError(f"{where}: field 'ignore_size' must be true or false")
        per_trace = fields.pop("per_trace", False)
        if not isinstance(per_trace, bool):
            raise UsageError(f"{where}: field 'per_trace' must be true (one search per trace) or false")
        return CacheSettings(traces, size, ignore, per_trace)

    def split(self, ctx, dirs: Iterable[Path]) -> list[str]:
        from .traces import expand

        return expand(ctx.settings.traces, dirs) if ctx.settings.per_trace else []

    def only(self, ctx, workload: str):
        return replace(ctx, name=f"{ctx.name}:{workload}",
                       settings=replace(ctx.settings, traces=(workload,), per_trace=False))

    def workloads(self, ctx, dirs: Iterable[Path]) -> dict[str, dict]:
        from .evaluator import context_traces

        return {t.name: {"sha256": t.sha256, "requests": t.n_requests}  # by name and checksum: no machine paths
                for t in context_traces(ctx, dirs)}

    def workload_size(self, info: dict) -> int | None:
        return info.get("requests")

    def build(self, ctx, template, source: str, name: str):
        from .simulator import build

        return build(template, source, name)

    def prebuild(self, ctx, template, candidates) -> None:
        from .simulator import build_many

        build_many(template, candidates)

    def evaluate(self, ctx, template, source: str, name: str, dirs: Iterable[Path],
                 screen: Screen | None = None) -> Evaluation:
        from .evaluator import context_traces, evaluate

        return evaluate(source, template, ctx, context_traces(ctx, dirs), name, screen)

    def gate_names(self) -> tuple[str, ...]:
        from .baselines import default_policies

        return tuple(default_policies(include_slow=True))

    def baselines(self, ctx, template, dirs: Iterable[Path], *, gate_only: bool = False,
                  timeout: float | None = None, spare: threading.Event | None = None) -> Baselines:
        from .baselines import ORACLE, SEARCH_TIMEOUT, default_policies, run_baselines
        from .evaluator import context_traces
        from .simulator import resolve_capacity

        s = ctx.settings
        wanted = list(dict.fromkeys([*ctx.gate, *ORACLE])) if gate_only else default_policies()
        traces = context_traces(ctx, dirs)
        return {t.name: run_baselines(t, resolve_capacity(s.cache_size, t, s.ignore_size), s.ignore_size,  # type: ignore[misc]
                                      template, wanted, timeout=timeout or SEARCH_TIMEOUT, skip_timeouts=not gate_only,
                                      spare=spare if t is traces[-1] else None)
                for t in traces}

    def search_baselines(self, ctx, template, dirs: Iterable[Path], *, timeout: float | None,
                         spare: threading.Event) -> Baselines:
        """Simulations do not depend on the load: the search may start beside the stragglers."""
        return self.baselines(ctx, template, dirs, timeout=timeout, spare=spare)

    def timeouts(self, baselines: Baselines) -> dict[str, list[str]]:
        from .baselines import default_policies

        return {w: missing for w, res in baselines.items() if (missing := [p for p in default_policies() if p not in res])}

    def transfer_workloads(self, ctx, dataset: str | None, sizes: list[float], dirs: Iterable[Path]) -> list[Any]:
        from .transfer import Workload
        from .traces import dataset_traces, expand

        if dataset:
            return [Workload(t, ctx.settings.cache_size) for t in dataset_traces(dataset, dirs)]
        return [Workload(t, size) for t in expand(ctx.settings.traces, dirs) for size in sizes]

    def run_workload(self, workload: Any, ctx, template, heuristics: dict[str, str], dirs: Iterable[Path]) -> dict:
        from .transfer import run_workload

        return run_workload(workload, ctx, template, heuristics, dirs)
