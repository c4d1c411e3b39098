"""The per-domain EVALUATOR behind one interface: what the loop, the gate and the checker call.

``cache`` simulates traces (``cache/``); ``tcp`` loads a BPF controller and runs a flow
(``tcp/``). Everything else (search, storage, reporting) is the same for both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .cache.evaluator import Evaluation
from .context import Context
from .errors import UsageError


def workloads(ctx: Context, dirs: Iterable[Path]) -> dict[str, dict]:
    """What a score is measured on, with checksums for the run's settings (fails early if missing)."""
    if ctx.domain == "tcp":
        from .tcp.capability import require
        from .tcp.evaluator import link_sha256, link_spec

        require()
        spec = link_spec(ctx)
        return {spec.name: {"sha256": link_sha256(spec), **spec.as_dict()}}
    from .cache.evaluator import context_traces

    return {t.name: {"sha256": t.sha256, "requests": t.n_requests}  # by name and checksum: no machine paths
            for t in context_traces(ctx, dirs)}


def evaluate(ctx: Context, template, source: str, name: str, dirs: Iterable[Path],
             screen: float | None = None) -> Evaluation:
    """The candidate's score; ``screen`` is a search round's bar for the cache cascade (tcp has none)."""
    if ctx.domain == "tcp":
        from .tcp.evaluator import evaluate as tcp_evaluate

        return tcp_evaluate(source, template, ctx, name)
    from .cache.evaluator import context_traces, evaluate as cache_evaluate

    return cache_evaluate(source, template, ctx, context_traces(ctx, dirs), name, screen)


def baselines(ctx: Context, template, dirs: Iterable[Path], gate_only: bool = False,
              timeout: float | None = None) -> dict[str, dict]:
    """workload -> policy -> result (with attributes named like the context's objective). Beside a
    search (not ``gate_only``) a cache baseline slower than ``timeout`` is left out: a timeout."""
    if ctx.domain == "tcp":
        from .tcp.evaluator import BASELINES, run_baselines as tcp_baselines

        return tcp_baselines(ctx, list(dict.fromkeys(ctx.gate)) if gate_only and ctx.gate else BASELINES)
    from .cache.baselines import SEARCH_TIMEOUT, default_policies, run_baselines
    from .cache.evaluator import context_traces
    from .cache.simulator import resolve_capacity

    wanted = list(dict.fromkeys([*ctx.gate, "Belady"])) if gate_only else default_policies()
    return {t.name: run_baselines(t, resolve_capacity(ctx.cache_size, t, ctx.ignore_size), ctx.ignore_size,
                                  template, wanted, timeout=timeout or SEARCH_TIMEOUT, skip_timeouts=not gate_only)
            for t in context_traces(ctx, dirs)}


def build(ctx: Context, template, source: str, name: str):
    """Compile a candidate for the CHECKER (gcc for cache, clang -target bpf for tcp)."""
    if template.domain != ctx.domain:
        raise UsageError(f"{ctx.root / 'conftest.py'}: template {template.name!r} is for domain "
                         f"{template.domain!r}, but the context's domain is {ctx.domain!r}")
    if ctx.domain == "tcp":
        from .tcp.evaluator import build as tcp_build

        return tcp_build(template, source)[0]
    from .cache.simulator import build as cache_build

    return cache_build(template, source, name)
