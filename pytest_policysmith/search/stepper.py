"""The inner session's conductor: settles candidates, closes rounds, generates the next.

It lives in the process that receives every report (the xdist master, or the only
process). When every candidate of a round is settled, rejected ones go back to the
GENERATOR for repair (one level per attempt, for generators that repair); when the last
level is settled it records the round and asks for the next round from the best parents
so far. Workers waiting on those slots then proceed. One session spans the whole run, so
xdist workers start once.
"""

from __future__ import annotations

import math
import time
from typing import Callable

from ..generators import make_generator
from ..generators.base import Failure, Parent, Proposal, mark_repeats
from ..generators.expr import normalized_hash
from ..generators.simplify import POOL, Simplifier, tiebreak_of
from ..domain import Screen, mean_proxy
from ..outcomes import PASSED, REJECTED, Status, Stop, StopKind
from ..storage.archive import Archive, CandidateRow, NewCandidate, RoundRow
from ..templates import Template
from .spec import InnerSpec, slot_id

# The cascade's bar is set by this many of the best candidates so far, and this margin (relative) above
# the worst of their sample scores. Replayed on the suite's seven long traces, 5 and 0.5% (rather than
# 10 and 1%) score 12-21% fewer candidates in full, and screen none of the final five best.
SCREEN_TOP = 5
SCREEN_MARGIN = 0.005
# Simplification's bar: the best candidate's sample score and this margin. A simplification may cost
# 0.05% of the full score; on the suite's long traces, pairs of candidates that close in full score
# differed by at most 1.4% on the sample in 99% of cases (3.7% at worst, on arc/P6).
SIMPLIFY_SCREEN_MARGIN = 0.02
CAPS_POLL = 0.1  # seconds between looks for the baselines' scores, which simplification waits for


def feedback_text(failures: list[tuple[str, str | None]]) -> str:
    """Each distinct failure once, with every rule that gave it: a compile error breaks every rule that
    compiles, and the generator needs to read it once, not six times."""
    groups: dict[str, list[str]] = {}
    for rule, fb in failures:
        groups.setdefault(fb or "failed", []).append(rule)
    return "\n\n".join(f"{', '.join(rules)}: {fb}" for fb, rules in groups.items())


def parent_of(row: CandidateRow) -> Parent:
    """A scored candidate as a generator sees it."""
    assert row.score is not None, f"{row.id} has no score to offer it as a parent with"
    return Parent(row.id, row.source, row.score, row.round, row.idx)


def screen_bar(proxies: list[float | None], simplify: bool) -> float | None:
    """A round's cascade bar from the sample scores of the best candidates so far, best first.

    A search round: the worst of the best ``SCREEN_TOP``, plus a margin; inf (compute the sample
    score, screen nothing) until there are that many. A simplification round, which needs exact
    scores for whatever may pass: the best's, plus a wider margin. None: no cascade (the traces
    are too short to have one)."""
    if simplify:
        return None if not proxies or proxies[0] is None else proxies[0] * (1 + SIMPLIFY_SCREEN_MARGIN)
    scores = [p for p in proxies if p is not None]
    if len(scores) < SCREEN_TOP:
        return math.inf
    return max(scores) * (1 + SCREEN_MARGIN)


class Stepper:
    def __init__(self, archive: Archive, spec: InnerSpec, template: Template,
                 prebuild: Callable[[list[tuple[str, str]]], None] | None = None):
        self.archive, self.spec, self.template = archive, spec, template
        self.prebuild = prebuild  # the domain compiles a new round together before the workers see it
        self.run_id = spec.run_id
        self.generator = make_generator(spec.generator, template, spec.seed, spec.model, archive=archive,
                                        run_id=spec.run_id, rounds=spec.search_rounds,
                                        **(spec.generator_options or {}))
        self.started = time.time()
        self.simplifier = Simplifier(spec.search_rounds, bool(template.extra.get("integer")),
                                     tiebreak=tiebreak_of(template), polish=spec.polish_rounds)

    def settle(self, cid: str) -> None:
        """A candidate whose items are all done: failed rules make it ``failed``, no verdict ``error``."""
        row = self.archive.candidate(self.run_id, cid)
        if row is None or row.status != Status.PENDING:
            return
        checks = self.archive.checks(self.run_id, cid)
        failures = [(rule, fb) for rule, outcome, fb, _ in checks if outcome in REJECTED]
        secs = sum(s or 0.0 for *_, s in checks)
        if failures:
            text = feedback_text(failures)
            self.archive.record_evaluation(self.run_id, cid, Status.FAILED, None, None, text, secs, 0.0)
        else:
            self.archive.record_evaluation(self.run_id, cid, Status.ERROR, None, None,
                                           "no verdict: the inner session ended without evaluating it", secs, 0.0)

    def advance(self, generate: bool = True) -> None:
        """Close every round that is complete and generate what comes next (in order)."""
        finished = {r.round for r in self.archive.rounds(self.run_id)}
        for round_no, _, attempts in self.spec.rounds:
            if round_no in finished:
                continue
            first_gen: tuple[int, float] | None = None
            for attempt in range(attempts):
                gen = self.archive.generated(self.run_id, round_no, attempt)
                if gen is None:
                    if not generate or not self._generate(round_no, attempt):
                        return
                    gen = self.archive.generated(self.run_id, round_no, attempt)
                first_gen = first_gen or gen
                if any(r.status == Status.PENDING for r in self.archive.candidates(self.run_id, round_no)):
                    return
            rows = self.archive.candidates(self.run_id, round_no)
            assert first_gen is not None  # every round has a first level, generated above
            secs = time.time() - max(first_gen[1], self.started)
            self.archive.finish_round(self.run_id, self._stats(round_no, rows, secs))
            if round_no == 0 and rows and not any(r.status in PASSED for r in rows):
                # Nothing to breed from: the context's tests reject every seed. Say so, and stop.
                first = next((r for r in rows if r.feedback), rows[0])
                self.archive.stop_run(self.run_id, Stop(StopKind.NO_SEED, (
                    f"no seed passed the context's checker, so there is nothing to search from; "
                    f"e.g. {first.origin}: {(first.feedback or '')[:600]}")))
                return

    def finish(self) -> None:
        """At the end of the session, close what is complete. Slots a dead worker left unrun stay
        pending: the controller's next session (or --synth-resume) runs them."""
        self.advance(generate=False)

    def _generate(self, round_no: int, attempt: int) -> bool:
        """Store the round (attempt 0) or its repair level; False when the generator has stopped."""
        if self.generator.stop:
            self._stop()
            return False
        if (self.archive.run(self.run_id) or {}).get("status") != "running":
            return False  # stopped (e.g. no seed passed): nothing more is generated
        if round_no > self.simplifier.best_rounds and not self._await_caps():
            return False
        if attempt == 0:
            rows = self._new_round(round_no)
        else:
            rows = self._repairs(round_no, attempt)
        if round_no > 0 and attempt == 0 and not rows and self.generator.stop:
            self._stop()
            return False
        if self.prebuild is not None:
            self.prebuild([(r.id, r.source) for r in rows if r.status == Status.PENDING])
        self.archive.add_round(self.run_id, round_no, rows, attempt, self._screen(round_no) if attempt == 0 else None)
        return True

    def _await_caps(self) -> bool:
        """Simplification may not give a win over a baseline away, so it needs the baselines' scores;
        the controller runs the baselines beside the search and stores them when done. False when the
        run stopped meanwhile (the baselines failed)."""
        while (caps := self.archive.caps(self.run_id)) is None:
            if (self.archive.run(self.run_id) or {}).get("status") != "running":
                return False
            time.sleep(CAPS_POLL)
        self.simplifier.caps = caps
        return True

    def _screen(self, round_no: int) -> Screen | None:
        """The round's cheap first stage (see :func:`screen_bar` and ``domain.Screen``), set when the
        round is made, from settled rounds only, so it is the same however the work is spread over
        workers. Simplification, which needs exact scores for whatever may pass, screens no clones."""
        simplify = round_no > self.spec.search_rounds
        top = self.archive.top(self.run_id, 1 if simplify else SCREEN_TOP, clones=not simplify) if round_no > 0 else []
        bar = screen_bar([mean_proxy(r.metrics) for r in top], simplify)
        if bar is None:
            return None
        return Screen(bar, {} if simplify or round_no == 0 else self.archive.scored_proxies(self.run_id))

    def _stop(self) -> None:
        run = self.archive.run(self.run_id) or {}
        if run.get("status") == "running":
            self.archive.stop_run(self.run_id, self.generator.stop or Stop(StopKind.GENERATOR, "the generator stopped"))

    def _new_round(self, round_no: int) -> list[NewCandidate]:
        if round_no == 0:
            proposals = [Proposal(src, (), f"seed:{name}") for name, src in self.template.seeds().items()]
            gen_name = "seed"
        else:
            simplify = round_no > self.spec.search_rounds
            pool = POOL if simplify else max(self.spec.parents, getattr(self.generator, "pool", 0))
            # a search breeds from clones too (their original's score); simplification from scores measured in full
            parents = [parent_of(r) for r in self.archive.top(self.run_id, pool, clones=not simplify)]
            if simplify:
                proposals = self.simplifier.propose(parents, self.spec.candidates,
                                                    self.archive.hashes(self.run_id, self.spec.search_rounds + 1),
                                                    round_no)
                gen_name = "simplify"
            else:
                proposals = self.generator.propose(round_no, parents, self.spec.candidates,
                                                   self.archive.hashes(self.run_id))
                gen_name = self.generator.name
        return [self._row(round_no, i if p.idx is None else p.idx, 0, p, gen_name) for i, p in enumerate(proposals)]

    def _repairs(self, round_no: int, attempt: int) -> list[NewCandidate]:
        failed = [Failure(r.id, r.idx, r.source, r.feedback or "", r.meta)
                  for r in self.archive.candidates(self.run_id, round_no)
                  if r.attempt == attempt - 1 and r.status == Status.FAILED]
        if not failed:
            return []
        # A repair that repeats a candidate already in the run goes back as feedback, unchecked.
        proposals = mark_repeats(self.generator.repair(round_no, attempt, failed), self.archive.hashes(self.run_id))
        return [self._row(round_no, p.idx, attempt, p, self.generator.name) for p in proposals if p.idx is not None]

    @staticmethod
    def _row(round_no: int, idx: int, attempt: int, p: Proposal, gen_name: str) -> NewCandidate:
        status = Status.FAILED if p.error else Status.PENDING
        return NewCandidate(slot_id(round_no, idx, attempt), idx, normalized_hash(p.source), p.source, p.parent_ids,
                            p.origin, gen_name, status, p.error, p.meta or None)

    def _stats(self, round_no: int, rows: list[CandidateRow], secs: float) -> RoundRow:
        done = [r for r in rows if r.status != Status.PENDING]
        passed = [r for r in done if r.status in PASSED]
        top = self.archive.top(self.run_id, 1)
        return RoundRow(round_no, top[0].score if top else None, len(passed) / len(done) if done else 0.0, secs,
                        len(rows))

