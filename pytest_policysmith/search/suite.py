"""One search per workload (a context with ``per_trace``, say): a heuristic for each, the
paper-style table of how each winner does against the baselines, and how it transfers.

Each workload's search is an ordinary run in the archive under the narrowed context's name
(``cache_suite:lirs/ps``), so a killed suite resumes with ``--synth-resume latest``: finished
workloads are read back from the archive, the interrupted one continues, the rest start.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import pytest

from ..context import Context
from ..errors import CompileError, EvaluationError, UsageError
from ..outcomes import Stop
from ..reporting.suite import entry, progress_line, suite_summary, transfer_block
from ..reporting.summary import summary_dict, write_json
from ..storage.archive import Archive, CandidateRow
from ..storage.policies import StoredPolicy
from ..templates import Template
from .loop import SearchOptions, SearchOutcome, run_dir, synthesize


@dataclass
class SuiteOutcome:
    context: Context
    searches: dict[str, SearchOutcome]  # workload -> its search
    summary: dict  # reporting/suite.py: suite_summary
    wall_seconds: float

    @property
    def evaluated(self) -> int:
        return sum(o.evaluated for o in self.searches.values())

    @property
    def screened(self) -> int:
        return sum(o.screened for o in self.searches.values())

    @property
    def failed(self) -> int:
        return sum(o.failed for o in self.searches.values())

    @property
    def stop(self) -> Stop | None:
        """The first search that stopped early on a failure (the LLM service failed, say), if any."""
        return next((o.stop for o in self.searches.values() if o.stop is not None and o.stop.kind.is_failure), None)


def run_suite(ctx: Context, template: Template, opts: SearchOptions, workloads: list[str],
              config: pytest.Config, say: Callable[[str], None]) -> SuiteOutcome:
    from .controller import accept_winner

    t0 = time.perf_counter()
    verbose = config.getoption("verbose") > 0
    searches: dict[str, SearchOutcome] = {}
    rows = []
    for i, workload in enumerate(workloads, 1):
        part = ctx.plugin.only(ctx, workload)
        resume = _resume_of(opts, part)
        outcome = synthesize(part, template, replace(opts, resume=resume, workload=workload),
                             say if verbose else (lambda line: None))
        searches[workload] = outcome
        rows.append(entry(summary_dict(outcome), workload, ctx.objective))
        say(progress_line(i, len(workloads), rows[-1], resume is not None))
        if config.getoption("synth_accept") and outcome.winner is not None:
            accept_winner(part, outcome, say, rescore=_rescorer(part, template, opts), workload=workload)
    transfer = transfer_block(_transfer_scores(ctx, template, opts, searches), rows)
    summaries = {w: summary_dict(o) for w, o in searches.items()}
    summary = suite_summary(ctx.name, ctx.objective, rows, transfer, summaries, time.perf_counter() - t0)
    return SuiteOutcome(ctx, searches, summary, summary["wall_seconds"])


def _rescorer(part: Context, template: Template, opts: SearchOptions) -> Callable[[StoredPolicy], float | None]:
    """A stored winner's score on its workload now: what it is compared on when it was recorded under
    another template. One that no longer compiles or runs under this one cannot be compared (None)."""
    def rescore(old: StoredPolicy) -> float | None:
        try:
            return part.plugin.evaluate(part, template, old.source, f"stored_{old.name}", opts.traces_dirs).score
        except (CompileError, EvaluationError):
            return None
    return rescore


def _resume_of(opts: SearchOptions, part: Context) -> str | None:
    """A suite resumes each workload's latest run (if it has one); a single run id names one search."""
    if not opts.resume:
        return None
    if opts.resume != "latest":
        raise UsageError(f"--synth-resume {opts.resume}: a per-trace context resumes as a whole, with "
                         "--synth-resume latest (each trace continues its latest run)")
    archive = Archive(opts.archive)
    try:
        return archive.latest_run(part.name)
    finally:
        archive.close()


def _transfer_scores(ctx: Context, template: Template, opts: SearchOptions,
                     searches: dict[str, SearchOutcome]) -> dict[str, dict[str, float | None]]:
    """Each workload's winner scored on every workload of the suite (its own score is the search's),
    on as many threads as the search had workers where the domain allows it."""
    out: dict[str, dict[str, float | None]] = {own: dict.fromkeys(searches) for own in searches}
    jobs = []
    for own, o in searches.items():
        if o.winner is not None:
            out[own][own] = o.winner.score
            jobs += [(own, other, o.winner) for other in searches if other != own]

    def score(job: tuple[str, str, CandidateRow]) -> float | None:
        own, other, winner = job
        return ctx.plugin.evaluate(ctx.plugin.only(ctx, other), template, winner.source,
                                   f"transfer_{winner.hash[:12]}", opts.traces_dirs).score

    threads = max(1, opts.workers) if ctx.plugin.threaded_evaluations else 1
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for (own, other, _), got in zip(jobs, pool.map(score, jobs)):
            out[own][other] = got
    return out

def write_suite_outputs(config: pytest.Config, opts: SearchOptions, s: SuiteOutcome,
                        say: Callable[[str], None]) -> None:
    """The suite's JSON summary and report (each search stays in the archive under its run id)."""
    if config.getoption("synth_json"):
        write_json(Path(config.getoption("synth_json")), s.summary)
    opt = config.getoption("synth_report")
    if opt == "none":
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    from ..reporting.suite import write_suite_report

    first = next(iter(s.summary["runs"].values()), "suite")
    folder = Path(opt) if opt else run_dir(opts.archive, first).parent / f"suite-{first}" / "report"
    say(f"policysmith: suite report {write_suite_report(s.summary, folder)}")
