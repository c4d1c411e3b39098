"""The controller's part of a ``--synthesize`` run: check inputs, run the loop, write results."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..context import Context
from ..errors import UsageError
from ..reporting.summary import summary_dict, write_json
from ..storage.policies import accept
from .loop import SearchOptions, SearchOutcome, synthesize


def prepare(ps, args: list[Path]) -> None:
    """Resolve the context, template and traces before any work starts (clear errors first)."""
    from ..cache.evaluator import context_traces

    dirs = [a for a in args if a.is_dir()]
    if len(dirs) != 1:
        raise UsageError("--synthesize takes exactly one context folder, e.g. pytest --synthesize contexts/cache_cloudphysics")
    ctx = ps.context_for(dirs[0])
    if ctx is None:
        raise UsageError(f"{dirs[0]}: no conftest.py here declares policysmith_context = {{...}}; see contexts/ for examples")
    template = ps.template_for(ctx)
    if not template.seeds():
        raise UsageError(f"template {template.root}: no seeds/*.c to start the search from")
    template.render(next(iter(template.seeds().values())))  # a template that does not render fails here
    context_traces(ctx, ps.traces_dirs)  # unknown or corrupt traces fail here
    ps.context, ps.template, ps.options = ctx, template, _options(ps, ctx)


def _options(ps, ctx: Context) -> SearchOptions:
    opt = ps.config.getoption
    root = ps.config.rootpath
    return SearchOptions(
        rounds=opt("synth_rounds") or ctx.search.rounds,
        candidates=opt("synth_candidates") or ctx.search.candidates,
        parents=opt("synth_parents") or ctx.search.parents,
        generator=opt("synth_generator") or ctx.search.generator,
        seed=opt("synth_seed"),
        workers=ps.workers,
        archive=Path(opt("synth_archive") or root / ".policysmith" / "archive.sqlite"),
        resume=opt("synth_resume"),
        traces_dirs=tuple(ps.traces_dirs),
        model=opt("synth_model"),
    )


def run(ps, say: Callable[[str], None]) -> SearchOutcome:
    from ..generators import make_generator

    make_generator(ps.options.generator, ps.template, ps.options.seed, ps.options.model)  # validate name early
    outcome = synthesize(ps.context, ps.template, ps.options, say)
    if ps.config.getoption("synth_json"):
        write_json(Path(ps.config.getoption("synth_json")), summary_dict(outcome))
    if ps.config.getoption("synth_accept"):
        if outcome.winner is None:
            raise UsageError("--synth-accept: no candidate passed the checker, nothing to accept")
        w = outcome.winner
        meta = {
            "run_id": outcome.run_id, "candidate": w.id, "score": w.score, "objective": ps.context.objective,
            "metrics": w.metrics, "origin": w.origin, "parents": list(w.parents), **outcome.settings,
        }
        path = accept(ps.context.policies_dir, f"{ps.context.name}_{w.id.split('-')[0]}_{w.hash[:6]}", w.source, meta)
        say(f"policysmith: accepted {w.id} as {path}")
    return outcome
