"""The search loop: TEMPLATE -> GENERATOR -> CHECKER -> EVALUATOR, round after round.

Round 0 checks and scores the template's seeds. Each later round asks the generator for
new candidates from the best ``parents`` so far, stores them, then runs one inner pytest
session (``round.py``) over them. Everything is in the archive before it is used, so a
killed run resumes without losing or repeating an evaluation.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__
from ..cache.baselines import BaselineResult, default_policies, run_baselines
from ..cache.evaluator import context_traces
from ..cache.simulator import resolve_capacity
from ..context import Context
from ..errors import UsageError
from ..generators import make_generator
from ..generators.base import Parent, Proposal
from ..generators.expr import normalized_hash
from ..storage.archive import Archive, CandidateRow, RoundRow
from ..templates import Template
from .round import run_round


@dataclass(frozen=True)
class SearchOptions:
    rounds: int
    candidates: int
    parents: int
    generator: str
    seed: int
    workers: int  # xdist workers for the inner sessions (0 = in-process)
    archive: Path
    resume: str | None  # run id, "latest", or None
    traces_dirs: tuple[Path, ...]
    model: str | None = None


@dataclass
class SearchOutcome:
    run_id: str
    context: Context
    options: SearchOptions
    winner: CandidateRow | None
    rounds: list[RoundRow]
    baselines: dict[str, dict[str, BaselineResult]]  # trace -> policy -> result
    evaluated: int
    passed: int
    failed: int
    wall_seconds: float
    settings: dict = field(default_factory=dict)


def run_settings(ctx: Context, template: Template, opts: SearchOptions, traces) -> dict:
    """Everything a run decides, so that a result can be reproduced."""
    return {
        "context": ctx.as_dict(), "seed": opts.seed, "generator": opts.generator, "model": opts.model,
        "rounds": opts.rounds, "candidates_per_round": opts.candidates, "parents": opts.parents,
        "template": template.name, "template_sha256": template.sha256, "package_version": __version__,
        "traces": {t.name: {"sha256": t.sha256, "path": str(t.source), "requests": t.n_requests} for t in traces},
    }


def synthesize(ctx: Context, template: Template, opts: SearchOptions, say: Callable[[str], None]) -> SearchOutcome:
    t0 = time.perf_counter()
    traces = context_traces(ctx, opts.traces_dirs)
    archive = Archive(opts.archive)
    settings = run_settings(ctx, template, opts, traces)
    run_id = _open_run(archive, ctx, settings, opts, say)
    baselines = {
        t.name: run_baselines(t, resolve_capacity(ctx.cache_size, t, ctx.ignore_size), ctx.ignore_size, template,
                              default_policies())
        for t in traces
    }
    best_base = _best_baseline_score(ctx, baselines)
    generator = make_generator(opts.generator, template, opts.seed, opts.model)
    for round_no in range(0, opts.rounds + 1):
        r0 = time.perf_counter()
        rows = archive.candidates(run_id, round_no)
        if not rows:
            proposals = _proposals(round_no, template, generator, archive, run_id, opts)
            _store(archive, run_id, round_no, proposals, generator.name if round_no else "seed")
            rows = archive.candidates(run_id, round_no)
        pending = [r for r in rows if r.status == "pending"]
        if pending:
            run_round(archive, run_id, round_no, pending, ctx, opts)
        rows = archive.candidates(run_id, round_no)
        stats = _round_stats(archive, run_id, round_no, rows, time.perf_counter() - r0)
        archive.finish_round(run_id, stats)
        say(_progress(stats, best_base, rows, t0))
    archive.set_run_status(run_id, "finished")
    all_rows = archive.candidates(run_id)
    top = archive.top(run_id, 1)
    outcome = SearchOutcome(
        run_id, ctx, opts, top[0] if top else None, archive.rounds(run_id), baselines,
        evaluated=sum(r.status == "evaluated" for r in all_rows),
        passed=sum(r.status == "evaluated" for r in all_rows),
        failed=sum(r.status in ("failed", "error") for r in all_rows),
        wall_seconds=time.perf_counter() - t0, settings=settings,
    )
    archive.close()
    return outcome


def _open_run(archive: Archive, ctx: Context, settings: dict, opts: SearchOptions, say) -> str:
    if not opts.resume:
        return archive.create_run(ctx.name, settings, os.getpid())
    run_id = archive.latest_run(ctx.name) if opts.resume == "latest" else opts.resume
    run = archive.run(run_id) if run_id else None
    if run is None:
        raise UsageError(f"--synth-resume: no run {opts.resume!r} for context {ctx.name} in {archive.path}")
    old = run["settings"]
    for key in ("seed", "generator", "template_sha256", "traces", "candidates_per_round", "parents"):
        if old.get(key) != settings.get(key):
            raise UsageError(f"--synth-resume {run_id}: this run used {key}={old.get(key)!r}, now {settings.get(key)!r};"
                             " resume with the same settings or start a new run")
    archive.set_run_status(run_id, "running", os.getpid())
    say(f"policysmith: resuming run {run_id}")
    return run_id


def _proposals(round_no: int, template: Template, generator, archive: Archive, run_id: str,
               opts: SearchOptions) -> list[Proposal]:
    if round_no == 0:
        return [Proposal(src, (), f"seed:{name}") for name, src in template.seeds().items()]
    parents = [Parent(r.id, r.source, r.score) for r in archive.top(run_id, opts.parents)]
    return generator.propose(round_no, parents, opts.candidates, archive.hashes(run_id))


def _store(archive: Archive, run_id: str, round_no: int, proposals: list[Proposal], generator: str) -> None:
    for idx, p in enumerate(proposals):
        h = normalized_hash(p.source)
        cid = f"r{round_no:02d}c{idx:02d}-{h[:6]}"
        archive.add_candidate(run_id, cid, round_no, idx, h, p.source, p.parent_ids, p.origin, generator)


def _round_stats(archive: Archive, run_id: str, round_no: int, rows: list[CandidateRow], secs: float) -> RoundRow:
    done = [r for r in rows if r.status != "pending"]
    passed = [r for r in done if r.status == "evaluated"]
    top = archive.top(run_id, 1)
    return RoundRow(round_no, top[0].score if top else None, len(passed) / len(done) if done else 0.0, secs, len(rows))


def _best_baseline_score(ctx: Context, baselines: dict[str, dict[str, BaselineResult]]) -> tuple[str, float]:
    """The best non-oracle baseline by the context's score (mean objective over traces)."""
    names = [p for p in next(iter(baselines.values())) if p != "Belady"]
    scores = {p: sum(getattr(b[p], ctx.objective) for b in baselines.values()) / len(baselines) for p in names}
    best = min(scores, key=scores.get)
    return best, scores[best]


def _progress(stats: RoundRow, best_base: tuple[str, float], rows: list[CandidateRow], t0: float) -> str:
    elapsed = time.perf_counter() - t0
    rate = len(rows) / stats.seconds if stats.seconds > 0 else 0.0
    best = f"{stats.best_score:.6f}" if stats.best_score is not None else "-"
    delta = ""
    if stats.best_score is not None:
        delta = f" ({(stats.best_score - best_base[1]) / best_base[1] * 100:+.2f}%)"
    return (f"round {stats.round:2d}  best {best} vs {best_base[0]} {best_base[1]:.6f}{delta}  "
            f"pass {stats.pass_rate * 100:5.1f}%  {rate:5.1f} cand/s  elapsed {elapsed:6.1f}s")
