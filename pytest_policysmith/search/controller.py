"""The controller's part of a ``--synthesize`` run: check inputs, run the loop, write results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest

from ..context import Context
from ..errors import CompileError, UsageError
from ..generators import generator_options, make_generator
from ..paths import CACHE_ENV
from ..reporting.summary import summary_dict, write_json
from ..session import PolicysmithSession
from ..storage.policies import StoredPolicy, accept, better_stored, policy_name
from ..templates import Template
from .loop import SearchError, SearchOptions, SearchOutcome, synthesize

if TYPE_CHECKING:
    from .suite import SuiteOutcome


@dataclass(frozen=True)
class Prepared:
    """What a ``--synthesize`` run searches, resolved and checked before any work starts."""

    context: Context
    template: Template
    options: SearchOptions


def prepare(ps: PolicysmithSession, config: pytest.Config, args: list[Path], workers: int,
            inner_args: list[str]) -> Prepared:
    """Resolve the context, template and traces before any work starts (clear errors first)."""
    dirs = [a for a in args if a.is_dir()]
    if len(dirs) != 1:
        raise UsageError("--synthesize takes exactly one context folder, "
                         "e.g. pytest --synthesize contexts/cache_cloudphysics")
    ctx = ps.context_for(dirs[0])
    if ctx is None:
        raise UsageError(f"{dirs[0]}: no conftest.py here declares policysmith_context = {{...}}; "
                         "see contexts/ for examples")
    template = ps.template_for(ctx)
    if not template.seeds():
        raise UsageError(f"template {template.root}: no seeds/*.c to start the search from")
    try:
        ctx.plugin.workloads(ctx, ps.traces_dirs)  # unknown or corrupt traces, or a machine without BPF, fail here
        _check_harness(ctx, template)
    except OSError as exc:  # e.g. no space for the converted trace in the cache
        raise UsageError(f"{exc.filename or 'the cache'}: {exc.strerror or exc}; free space there, or point "
                         f"{CACHE_ENV} at a folder with room") from exc
    return Prepared(ctx, template, _options(config, ps, ctx, workers, inner_args))


def _check_harness(ctx: Context, template: Template) -> None:
    """Render and compile the first seed: a harness that renders invalid code is the template's fault,
    and is said before any work, not as every seed failing round 0."""
    name, source = next(iter(template.seeds().items()))
    try:
        ctx.plugin.build(ctx, template, source, f"seed_{name}")
    except CompileError as exc:
        raise UsageError(f"template {template.root}: seed {name}.c does not compile in the harness "
                         f"{template.harness}; fix the template (its seeds are assumed correct):\n{exc}") from None


def validate_options(config: pytest.Config) -> None:
    for opt in ("synth_repairs", "synth_llm_retries", "synth_simplify_rounds"):
        val = config.getoption(opt)
        if val is not None and val < 0:
            raise UsageError(f"--{opt.replace('_', '-')} must be 0 or more, got {val}")
    for opt in ("synth_rounds", "synth_candidates", "synth_parents", "synth_concurrency", "synth_max_tokens"):
        val = config.getoption(opt)
        if val is not None and val < 1:
            raise UsageError(f"--{opt.replace('_', '-')} must be at least 1, got {val}")


def _options(config: pytest.Config, ps: PolicysmithSession, ctx: Context, workers: int,
             inner_args: list[str]) -> SearchOptions:
    opt = config.getoption
    generator = opt("synth_generator") or ctx.search.generator
    gen_opts = generator_options(generator, opt)
    return SearchOptions(
        rounds=opt("synth_rounds") or ctx.search.rounds,
        small_rounds=() if opt("synth_rounds") else ctx.search.size_tiers(),
        candidates=opt("synth_candidates") or ctx.search.candidates,
        parents=opt("synth_parents") or ctx.search.parents,
        generator=generator,
        seed=opt("synth_seed"),
        workers=workers,
        # absolute: the inner session runs in the context's folder and finds its spec beside the archive
        archive=Path(opt("synth_archive") or config.rootpath / ".policysmith" / "archive.sqlite").resolve(),
        resume=opt("synth_resume"),
        traces_dirs=tuple(ps.traces_dirs),
        model=opt("synth_model"),
        generator_options=tuple(sorted(gen_opts.items())),
        repairs=gen_opts.get("repairs", 0),
        inner_args=tuple(inner_args),
        simplify_rounds=opt("synth_simplify_rounds"),
        baseline_timeout=opt("synth_baseline_timeout"),
    )


def _report_dir(config: pytest.Config, p: Prepared, outcome: SearchOutcome) -> Path | None:
    """--synth-report DIR, by default the run's folder; 'none' turns it off (or no matplotlib)."""
    opt = config.getoption("synth_report")
    if opt == "none":
        return None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    from .loop import run_dir

    return Path(opt) if opt else run_dir(p.options.archive, outcome.run_id) / "report"


def run(p: Prepared, config: pytest.Config, say: Callable[[str], None]) -> SearchOutcome | SuiteOutcome:
    # Validate name, model, prompts and prices before any work (no request is made here).
    make_generator(p.options.generator, p.template, p.options.seed, p.options.model,
                   **dict(p.options.generator_options))
    workloads = p.context.plugin.split(p.context, p.options.traces_dirs)
    if workloads:  # one search per workload
        from .suite import run_suite, write_suite_outputs

        suite = run_suite(p.context, p.template, p.options, workloads, config, say)
        write_suite_outputs(config, p.options, suite, say)
        return suite
    outcome = synthesize(p.context, p.template, p.options, say)
    try:
        _write_outputs(config, p, outcome, say)
    except OSError as exc:
        raise SearchError(f"run {outcome.run_id} is finished and stored in {p.options.archive}, but writing its "
                          f"outputs failed: {exc}.\nFree space (or fix the path) and write them again with: "
                          f"--synth-resume {outcome.run_id}") from None
    return outcome


def _write_outputs(config: pytest.Config, p: Prepared, outcome: SearchOutcome, say: Callable[[str], None]) -> None:
    """The JSON summary, the report and the accepted policy: all derived from the archive."""
    summary = summary_dict(outcome)
    if config.getoption("synth_json"):
        write_json(Path(config.getoption("synth_json")), summary)
    report = _report_dir(config, p, outcome)
    if report is not None:
        from ..reporting.run_report import write_run_report

        say(f"policysmith: report {write_run_report(summary, report)}")
    if config.getoption("synth_accept"):
        accept_winner(p.context, outcome, say)


def accept_winner(ctx: Context, outcome: SearchOutcome, say: Callable[[str], None],
                  rescore: Callable[[StoredPolicy], float | None] | None = None, **extra: object) -> None:
    """--synth-accept: store the winner in the context's ``policies/`` with everything the run decided
    (``extra``: e.g. the one workload a per-workload search was for). A per-workload winner replaces
    the one stored for its workload, unless that one scores better on the same trace (``rescore``: its
    score now, where it was recorded under another template; see ``better_stored``)."""
    if outcome.winner is None:
        raise UsageError(f"--synth-accept: no candidate of {ctx.name} passed the checker, nothing to accept")
    w = outcome.winner
    meta = {
        "run_id": outcome.run_id, "candidate": w.id, "score": w.score, "objective": ctx.objective,
        "metrics": w.metrics, "origin": w.origin, "parents": list(w.parents), **outcome.settings, **extra,
    }
    workload = extra.get("workload")
    if isinstance(workload, str) and (kept := better_stored(ctx.policies_dir, workload, meta, rescore)) is not None:
        old, score = kept
        say(f"policysmith: kept {old.path.name} for {workload} ({score:.6f}): this run's winner "
            f"{w.id} scores {w.score:.6f} on the same trace; delete the stored one to store it")
        return
    path = accept(ctx.policies_dir, policy_name(ctx.name, w.id.split('-')[0], w.hash[:6]), w.source, meta,
                  replaces=workload if isinstance(workload, str) else None)
    say(f"policysmith: accepted {w.id} as {path}")
