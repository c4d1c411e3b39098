"""The search loop: TEMPLATE -> GENERATOR -> CHECKER -> EVALUATOR, round after round.

Round 0 checks and scores the template's seeds. Each later round asks the generator for
new candidates from the best ``parents`` so far. One inner pytest session (``driver.py``)
runs all remaining rounds; its reporting process generates each round when the previous
one is settled (``stepper.py``). Everything is in the archive before it is used, so a
killed run resumes without losing or repeating an evaluation.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from .. import __version__
from ..context import Context
from ..errors import ArchiveWriteError, SearchError, UsageError
from ..generators.simplify import POOL, TOLERANCE, incumbent, polish_rounds
from ..reporting.llm import llm_block
from ..outcomes import PASSED, REJECTED, Status, Stop, screened_as_clones
from ..storage.archive import Archive, CandidateRow, RoundRow
from ..templates import Template
from .beside import Beside
from .deaths import INNER, InFlight, blame, signal_text
from .driver import run_inner
from .spec import InnerSpec
from .stepper import parent_of


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
    generator_options: tuple[tuple[str, object], ...] = ()  # e.g. the LLM's base URL and limits
    repairs: int = 0  # repair attempts per rejected candidate (generators that repair)
    inner_args: tuple[str, ...] = ()  # extra pytest arguments for the inner session (e.g. --tx)
    simplify_rounds: int = 0  # rounds after the search that simplify the winner (generators/simplify.py)
    baseline_timeout: float | None = None  # seconds per baseline shown beside the search; slower: a timeout
    workload: str | None = None  # one search of a per-workload context (Domain.split): its workload
    small_rounds: tuple[tuple[int, int], ...] = ()  # (size below, rounds) tiers from the context; none under --synth-rounds


MAX_BLAMELESS_DEATHS = 3  # worker deaths with no slot to blame before a run stops (a sick host)


@dataclass
class SearchOutcome:
    run_id: str
    context: Context
    options: SearchOptions
    winner: CandidateRow | None  # the simplified winner: the smallest within tolerance of the best
    rounds: list[RoundRow]
    baselines: dict[str, dict]  # workload (trace or link) -> policy -> result
    evaluated: int
    passed: int
    failed: int
    wall_seconds: float
    settings: dict = field(default_factory=dict)
    stop: Stop | None = None
    llm: dict | None = None
    candidates: list[dict] = field(default_factory=list)  # every candidate: checks, status, metrics
    raw_best: CandidateRow | None = None  # the best score the search found, before simplification

    @property
    def screened(self) -> int:
        """Candidates that passed the checker but were not scored in full (the cascade)."""
        return self.passed - self.evaluated

    @property
    def clones(self) -> int:
        """Of the screened, those screened as clones of a candidate scored in full (domain.Screen)."""
        return screened_as_clones(self.candidates)


def run_settings(ctx: Context, template: Template, opts: SearchOptions, workloads: dict[str, dict]) -> dict:
    """Everything a run decides, so that a result can be reproduced."""
    return {
        "context": ctx.as_dict(), "seed": opts.seed, "generator": opts.generator, "model": opts.model,
        "rounds": opts.rounds, "candidates_per_round": opts.candidates, "parents": opts.parents,
        "repairs": opts.repairs, "generator_options": dict(opts.generator_options),
        "simplify_rounds": opts.simplify_rounds, "simplify_tolerance": TOLERANCE,
        "template": template.name, "template_sha256": template.sha256, "package_version": __version__,
        "traces": workloads,
    }


def sized_rounds(ctx: Context, opts: SearchOptions, workloads: dict[str, dict]) -> SearchOptions:
    """The context's ``small_rounds`` for a search whose workloads are small in all (the first tier
    whose bound their total is under): cheap rounds buy more search where a round costs seconds."""
    if not opts.small_rounds:
        return opts
    sizes = [ctx.plugin.workload_size(info) for info in workloads.values()]
    if not sizes or any(s is None for s in sizes):
        return opts
    total = sum(s for s in sizes if s is not None)
    rounds = next((r for below, r in opts.small_rounds if total < below), None)
    return opts if rounds is None else replace(opts, rounds=rounds)


def synthesize(ctx: Context, template: Template, opts: SearchOptions, say: Callable[[str], None]) -> SearchOutcome:
    t0 = time.perf_counter()
    workloads = ctx.plugin.workloads(ctx, opts.traces_dirs)
    opts = sized_rounds(ctx, opts, workloads)
    archive = Archive(opts.archive)
    settings = run_settings(ctx, template, opts, workloads)
    run_id = _open_run(archive, ctx, settings, opts, say)
    beside = Beside(ctx, lambda spare: ctx.plugin.search_baselines(ctx, template, opts.traces_dirs,
                                                                    timeout=opts.baseline_timeout, spare=spare),
                    archive.path, run_id)
    polish = polish_rounds(template, opts.simplify_rounds)
    try:
        _run_sessions(archive, run_id, template, opts, ctx,
                      lambda row: _say_round(say, row, beside.best(), t0, opts.rounds, polish), say)
        baselines = beside.result()
        archive.set_run_status(run_id, "finished")
    except ArchiveWriteError as exc:
        raise SearchError(f"run {run_id} stopped: {exc}.\n{_kept(archive, run_id)}\n"
                          f"Then resume with: --synth-resume {run_id}") from None
    finally:
        _count_session(archive, run_id, time.perf_counter() - t0)
    caps = tuple((beside.scores or {}).values())
    all_rows = archive.candidates(run_id)
    run = archive.run(run_id) or {}
    raw_best, winner = pick_winner(archive, run_id, opts.rounds + polish, caps)
    outcome = SearchOutcome(
        run_id, ctx, opts, winner, archive.rounds(run_id), baselines,
        evaluated=sum(r.status == Status.EVALUATED for r in all_rows),
        passed=sum(r.status in PASSED for r in all_rows),
        failed=sum(r.status in REJECTED for r in all_rows),
        wall_seconds=run.get("seconds") or time.perf_counter() - t0, settings=settings,
        stop=run.get("stop"),
        llm=_llm_summary(archive, run_id, all_rows, opts),
        candidates=[_candidate_record(archive, run_id, r) for r in all_rows],
        raw_best=raw_best,
    )
    archive.close()
    return outcome


def _llm_summary(archive: Archive, run_id: str, rows: list[CandidateRow], opts: SearchOptions) -> dict | None:
    """The LLM block over the search rounds only: polish and simplification rounds are not the model's."""
    if opts.generator != "openai":
        return None
    return llm_block(archive.llm_totals(run_id), [r for r in rows if r.round <= opts.rounds], opts.repairs)


def pick_winner(archive: Archive, run_id: str, search_rounds: int,
                caps: tuple[float, ...] = ()) -> tuple[CandidateRow | None, CandidateRow | None]:
    """(the best of the search rounds, the winner): the winner is the smallest candidate scoring within
    the simplification tolerance of the best scored in any round (the best itself when nothing
    simpler is as good)."""
    rows = archive.top(run_id, POOL)
    if not rows:
        return None, None
    raw = next((r for r in rows if r.round <= search_rounds), rows[0])
    chosen = incumbent([parent_of(r) for r in rows], caps=caps)
    return raw, next((r for r in rows if chosen is not None and r.id == chosen.id), raw)


def _run_sessions(archive: Archive, run_id: str, template: Template, opts: SearchOptions, ctx: Context,
                  on_round: Callable[[RoundRow], None], say: Callable[[str], None]) -> None:
    """Run inner sessions until every round is done. A session that a dying xdist worker ended (or
    that died itself, without workers) is followed by a fresh one, in which the slot being run when
    it died runs again (see ``deaths.py``)."""
    blameless = 0  # deaths of workers between slots (nothing to retry): a few are tolerated
    while True:
        spec = _spec(archive, run_id, template, opts)
        if not spec.rounds:
            return
        if spec.inflight:
            InFlight(spec.inflight).reset()
        res = run_inner(archive, spec, ctx.root, opts.workers, run_dir(archive.path, run_id) / "inner.log",
                        on_round, list(opts.inner_args))
        if spec.inflight:
            _blame_inner_death(archive, run_id, InFlight(spec.inflight).slot(), res.returncode)
        missing = [r for r, *_ in spec.rounds if r not in {x.round for x in archive.rounds(run_id)}]
        stop = (archive.run(run_id) or {}).get("stop")
        if not missing:
            return
        if stop:
            say(f"policysmith: stopped before round {missing[0]}: {stop.reason}; everything done so far is kept")
            return
        deaths = archive.crashes(run_id)[spec.deaths_before:]
        blameless += sum(cid is None for cid, _, _ in deaths)
        if not deaths or blameless > MAX_BLAMELESS_DEATHS:
            archive.set_run_status(run_id, "interrupted")  # on a full disk this says so instead
            why = f" after losing {blameless} workers (last: {deaths[-1][2]})" if deaths else ""
            raise SearchError(f"run {run_id}: the inner session ended (exit {res.returncode}){why} before round "
                              f"{missing[0]} finished; everything before is in {archive.path}.\n"
                              f"Resume with: --synth-resume {run_id}\n--- inner session output (tail) ---\n"
                              f"{res.output_tail}")
        for cid, worker, reason in deaths:
            say(f"policysmith: {_death_line(archive, run_id, cid, worker, reason)}")


def _blame_inner_death(archive: Archive, run_id: str, slot: str | None, returncode: int) -> None:
    """A worker-less inner session killed by a signal while running a slot: that slot is to blame."""
    if returncode < 0 and slot is not None:
        archive.record_crash(run_id, INNER, signal_text(returncode))
        blame(archive, run_id, INNER, slot)


def _death_line(archive: Archive, run_id: str, cid: str | None, worker: str | None, reason: str) -> str:
    if cid is None:
        who = f"worker {worker} died between slots" if worker else "the inner session lost a worker"
        return f"{who} ({reason}); carrying on in a fresh session"
    row = archive.candidate(run_id, cid)
    fate = ("retrying it once in a fresh session" if row is not None and row.status == Status.PENDING else
            "second death, so it is marked an error; the run carries on in a fresh session")
    who = "the inner session" if worker == INNER else f"worker {worker or '?'}"
    return f"{who} died while running {cid} ({reason}); {fate}"


def _kept(archive: Archive, run_id: str) -> str:
    """What a stopped run has safely in the archive (read-only: works on a full disk)."""
    rounds = [r.round for r in archive.rounds(run_id)]
    settled = sum(r.status != Status.PENDING for r in archive.candidates(run_id))
    done = f"rounds {rounds[0]}-{rounds[-1]}" if rounds else "no finished round"
    return f"Kept in the archive: {done}, {settled} settled candidates."


def _candidate_record(archive: Archive, run_id: str, row: CandidateRow) -> dict:
    """One candidate for the summary: each rule's verdict (compile, verifier, ...), then its metrics."""
    checks = {rule: outcome for rule, outcome, _, _ in archive.checks(run_id, row.id)}
    return {"id": row.id, "round": row.round, "attempt": row.attempt, "origin": row.origin, "status": row.status,
            "parents": list(row.parents),
            "checks": checks, "score": row.score, "metrics": row.metrics, "clone_of": row.clone_of,
            "feedback": (row.feedback or "")[:500] or None}


def _count_session(archive: Archive, run_id: str, seconds: float) -> None:
    """Add this session's wall time to the run's (what a resumed run reports is all of its sessions');
    a failed write must not hide the error the session is ending with."""
    try:
        archive.add_run_seconds(run_id, seconds)
    except ArchiveWriteError:
        pass


def _open_run(archive: Archive, ctx: Context, settings: dict, opts: SearchOptions, say) -> str:
    if not opts.resume:
        return archive.create_run(ctx.name, settings, os.getpid())
    run_id = archive.latest_run(ctx.name) if opts.resume == "latest" else opts.resume
    run = archive.run(run_id) if run_id else None
    if run is None or run_id is None:
        raise UsageError(f"--synth-resume: no run {opts.resume!r} for context {ctx.name} in {archive.path}")
    owner = run.get("owner_pid")
    if run["status"] == "running" and owner and owner != os.getpid() and os.path.exists(f"/proc/{owner}"):
        raise UsageError(f"--synth-resume {run_id}: the run is still being run by process {owner}; "
                         "two controllers on one run would interleave. Wait for it, or stop it first")
    old = run["settings"]
    for key in ("seed", "generator", "template_sha256", "traces", "candidates_per_round", "parents"):
        if old.get(key) != settings.get(key):
            raise UsageError(f"--synth-resume {run_id}: this run used {key}={old.get(key)!r}, now {settings.get(key)!r};"
                             " resume with the same settings or start a new run")
    archive.set_run_status(run_id, "running", os.getpid())
    say(f"policysmith: resuming run {run_id}")
    return run_id


def run_dir(archive_path: Path, run_id: str) -> Path:
    """Where a run keeps its files besides the archive: the inner session's log, reports."""
    return Path(archive_path).parent / "runs" / run_id


def _spec(archive: Archive, run_id: str, template: Template, opts: SearchOptions) -> InnerSpec:
    """The rounds still to run, each with its number of slots."""
    finished = {r.round for r in archive.rounds(run_id)}
    rounds = []
    for r in range(opts.rounds + 1 + opts.simplify_rounds):
        if r in finished:
            continue
        gen = archive.generated(run_id, r)
        slots = gen[0] if gen else len(template.seeds()) if r == 0 else opts.candidates
        rounds.append((r, slots, 1 if r == 0 or r > opts.rounds else 1 + opts.repairs))
    return InnerSpec(run_id, str(archive.path), [str(d) for d in opts.traces_dirs], rounds, opts.generator,
                     opts.seed, opts.model, opts.candidates, opts.parents, dict(opts.generator_options),
                     search_rounds=opts.rounds, polish_rounds=polish_rounds(template, opts.simplify_rounds),
                     deaths_before=len(archive.crashes(run_id)),
                     inflight=_inflight_path(archive, run_id, opts), workload=opts.workload)


def _inflight_path(archive: Archive, run_id: str, opts: SearchOptions) -> str | None:
    """Only a worker-less inner session needs it: with xdist, its crash report names the slot."""
    if opts.workers or "--tx" in opts.inner_args:
        return None
    return str(run_dir(archive.path, run_id) / "inner-inflight")


def _say_round(say: Callable[[str], None], row: RoundRow, best_base: tuple[str, float] | None, t0: float,
               search_rounds: int, polish: int = 0) -> None:
    """A line per round; a simplification round with nothing left to try says nothing."""
    if row.round <= search_rounds or row.candidates:
        say(_progress(row, best_base, t0, search_rounds, polish))


def _progress(stats: RoundRow, best_base: tuple[str, float] | None, t0: float, search_rounds: int,
              polish: int = 0) -> str:
    """One round's line; the comparison with the best baseline appears once the baselines are done."""
    elapsed = time.perf_counter() - t0
    rate = stats.candidates / stats.seconds if stats.seconds > 0 else 0.0
    best = f"{stats.best_score:.6f}" if stats.best_score is not None else "-"
    versus = "vs baselines (still running)"
    if best_base is not None:
        versus = f"vs {best_base[0]} {best_base[1]:.6f}"
        if stats.best_score is not None:
            versus += f" ({(stats.best_score - best_base[1]) / best_base[1] * 100:+.2f}%)"
    label = "best" if stats.round <= search_rounds else "polish" if stats.round <= search_rounds + polish else "simplify"
    return (f"round {stats.round:2d}  {label} {best} {versus}  "
            f"pass {stats.pass_rate * 100:5.1f}%  {rate:5.1f} cand/s  elapsed {elapsed:6.1f}s")
