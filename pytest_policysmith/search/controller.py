"""The controller's part of a ``--synthesize`` run: check inputs, run the loop, write results."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..context import Context
from ..errors import CompileError, UsageError
from ..paths import CACHE_ENV
from ..reporting.summary import summary_dict, write_json
from ..storage.policies import accept
from .loop import SearchError, SearchOptions, SearchOutcome, synthesize


def prepare(ps, args: list[Path]) -> None:
    """Resolve the context, template and traces before any work starts (clear errors first)."""
    from .. import domains

    dirs = [a for a in args if a.is_dir()]
    if len(dirs) != 1:
        raise UsageError("--synthesize takes exactly one context folder, e.g. pytest --synthesize contexts/cache_cloudphysics")
    ctx = ps.context_for(dirs[0])
    if ctx is None:
        raise UsageError(f"{dirs[0]}: no conftest.py here declares policysmith_context = {{...}}; see contexts/ for examples")
    template = ps.template_for(ctx)
    if not template.seeds():
        raise UsageError(f"template {template.root}: no seeds/*.c to start the search from")
    try:
        domains.workloads(ctx, ps.traces_dirs)  # unknown or corrupt traces, or a machine without BPF, fail here
        _check_harness(ctx, template)
    except OSError as exc:  # e.g. no space for the converted trace in the cache
        raise UsageError(f"{exc.filename or 'the cache'}: {exc.strerror or exc}; free space there, or point "
                         f"{CACHE_ENV} at a folder with room") from exc
    ps.context, ps.template, ps.options = ctx, template, _options(ps, ctx)


def _check_harness(ctx: Context, template) -> None:
    """Render and compile the first seed: a harness that renders invalid code is the template's fault,
    and is said before any work, not as every seed failing round 0."""
    from .. import domains

    name, source = next(iter(template.seeds().items()))
    try:
        domains.build(ctx, template, source, f"seed_{name}")
    except CompileError as exc:
        raise UsageError(f"template {template.root}: seed {name}.c does not compile in the harness "
                         f"{template.harness}; fix the template (its seeds are assumed correct):\n{exc}") from None


def _generator_options(opt, generator: str) -> dict:
    """What the generator needs besides its name, seed and model (never the API key)."""
    if generator != "openai":
        return {}
    return {"base_url": opt("synth_base_url"), "temperature": opt("synth_temperature"),
            "timeout": opt("synth_llm_timeout"), "retries": opt("synth_llm_retries"),
            "concurrency": opt("synth_concurrency"), "repairs": opt("synth_repairs"),
            "max_cost": opt("synth_max_cost"), "max_tokens": opt("synth_max_tokens"),
            "cache": not opt("synth_no_llm_cache"), "prices": opt("synth_prices"),
            "max_reply_tokens": opt("synth_max_reply_tokens") or None,
            "context_window": opt("synth_context_window") or None}


def _options(ps, ctx: Context) -> SearchOptions:
    opt = ps.config.getoption
    root = ps.config.rootpath
    generator = opt("synth_generator") or ctx.search.generator
    gen_opts = _generator_options(opt, generator)
    if gen_opts.get("base_url") is None and generator == "openai":
        import os

        gen_opts["base_url"] = os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    return SearchOptions(
        rounds=opt("synth_rounds") or ctx.search.rounds,
        candidates=opt("synth_candidates") or ctx.search.candidates,
        parents=opt("synth_parents") or ctx.search.parents,
        generator=generator,
        seed=opt("synth_seed"),
        workers=ps.workers,
        archive=Path(opt("synth_archive") or root / ".policysmith" / "archive.sqlite"),
        resume=opt("synth_resume"),
        traces_dirs=tuple(ps.traces_dirs),
        model=opt("synth_model"),
        generator_options=tuple(sorted(gen_opts.items())),
        repairs=gen_opts.get("repairs", 0),
        inner_args=tuple(ps.inner_args),
        simplify_rounds=opt("synth_simplify_rounds"),
        baseline_timeout=opt("synth_baseline_timeout"),
    )


def _report_dir(ps, outcome: SearchOutcome) -> Path | None:
    """--synth-report DIR, by default the run's folder; 'none' turns it off (or no matplotlib)."""
    opt = ps.config.getoption("synth_report")
    if opt == "none":
        return None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    from .loop import run_dir

    return Path(opt) if opt else run_dir(ps.options.archive, outcome.run_id) / "report"


def run(ps, say: Callable[[str], None]) -> SearchOutcome:
    from ..generators import make_generator

    # Validate name, model, prompts and prices before any work (no request is made here).
    make_generator(ps.options.generator, ps.template, ps.options.seed, ps.options.model,
                   **dict(ps.options.generator_options))
    outcome = synthesize(ps.context, ps.template, ps.options, say)
    try:
        _write_outputs(ps, outcome, say)
    except OSError as exc:
        raise SearchError(f"run {outcome.run_id} is finished and stored in {ps.options.archive}, but writing its "
                          f"outputs failed: {exc}.\nFree space (or fix the path) and write them again with: "
                          f"--synth-resume {outcome.run_id}") from None
    return outcome


def _write_outputs(ps, outcome: SearchOutcome, say: Callable[[str], None]) -> None:
    """The JSON summary, the report and the accepted policy: all derived from the archive."""
    summary = summary_dict(outcome)
    if ps.config.getoption("synth_json"):
        write_json(Path(ps.config.getoption("synth_json")), summary)
    report = _report_dir(ps, outcome)
    if report is not None:
        from ..reporting.run_report import write_run_report

        say(f"policysmith: report {write_run_report(summary, report)}")
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
