"""The inner session's items, slots and recording.

Rule items come from the context's own tests, parametrized over the run's slots. One
:class:`EvaluationItem` per slot is added, grouped with that slot's rules
(``xdist_group``) and sorted after them; it scores the candidate only if no rule failed
in this process. The reporting process writes every report to the archive as it arrives
and, through the :class:`~.stepper.Stepper`, settles candidates and moves rounds on.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest

from ..checking.candidate import Candidate, make_candidate
from ..checking.feedback import feedback_from_report, trim
from ..context import Context
from ..domain import Screen
from ..errors import EvaluationError
from ..outcomes import Status
from ..storage.archive import Archive
from .deaths import blame, death_reason, worker_name
from .schedule import slot_scope
from .spec import InnerSpec, parse_slot
from .stepper import Stepper

if TYPE_CHECKING:
    from ..session import PolicysmithSession
    from ..templates import Template

CID = "policysmith_cid"
RULE = "policysmith_rule"
EVAL = "policysmith_evaluation"
DEFERRED = "policysmith_deferred"  # an evaluation left for the controller's next session
# First and longest wait between looks at the archive. Workers wait so for every new round; at 50 ms
# they found it 25 ms late on average, both cores idle, every round.
POLL = (0.002, 0.01)


@dataclass(frozen=True)
class Unready:
    """Why a slot has no candidate to test here (the test skips with ``reason``)."""

    reason: str
    deferred: bool = False  # a worker died: the slot must stay pending for the next session
    over: bool = False  # the run has nothing left to test: every round is done, or it stopped


NEXT_SESSION = Unready("a worker died in this session; this slot runs in the controller's next one", deferred=True)


class SlotSource:
    """A process's view of the slots: waits until a slot's round exists, then builds its Candidate."""

    def __init__(self, spec: InnerSpec, template_for: Callable[[Context], Template]):
        self.spec, self.template_for = spec, template_for
        self._archive: Archive | None = None
        self._cache: dict[str, Candidate | Unready] = {}
        self._ppid = os.getppid()
        self.failed_here: set[str] = set()  # candidates that failed a rule in this process

    def ids(self, ctx: Context) -> list[str]:
        return self.spec.slots()

    def why_none(self, ctx: Context) -> str:
        return f"run {self.spec.run_id} has no round left to run"

    def get(self, slot: str, ctx: Context) -> Candidate:
        """The slot's candidate; skips the test when the slot is empty or already settled."""
        got = self.lookup(slot, ctx)
        if isinstance(got, Unready):
            pytest.skip(got.reason)
        return got

    def lookup(self, slot: str, ctx: Context) -> Candidate | Unready:
        if slot not in self._cache:
            self._cache[slot] = self._load(slot, ctx)
        return self._cache[slot]

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = Archive(Path(self.spec.archive))
        return self._archive

    def over(self, slot: str) -> bool:
        """Whether this process found, at ``slot``, that the run has nothing left to test."""
        got = self._cache.get(slot)
        return isinstance(got, Unready) and got.over

    def _all_done(self) -> bool:
        """Every round of the session is done: simplification found nothing simpler, say, so the
        rounds after it were stored empty, and their slots would only skip one by one."""
        done = {r.round for r in self.archive.rounds(self.spec.run_id)}
        return all(r in done for r, *_ in self.spec.rounds)

    def screen(self, slot: str) -> Screen | None:
        """The cheap first stage of the slot's round (set when the round was made)."""
        return self.archive.screen(self.spec.run_id, parse_slot(slot)[0])

    def _load(self, slot: str, ctx: Context) -> Candidate | Unready:
        round_no, idx, attempt = parse_slot(slot)
        wait = POLL[0]
        while self.archive.generated(self.spec.run_id, round_no, attempt) is None:
            if os.getppid() != self._ppid:
                os._exit(3)  # the session that fed us is gone
            status = (self.archive.run(self.spec.run_id) or {}).get("status")
            if status not in ("running", None):
                return Unready(f"the run is {status}", over=True)
            if len(self.archive.crashes(self.spec.run_id)) > self.spec.deaths_before:
                # This session is ending, and the round may wait on the dead worker's slot.
                return NEXT_SESSION
            time.sleep(wait)
            wait = min(wait * 2, POLL[1])
        row = self.archive.candidate_at(self.spec.run_id, round_no, idx, attempt)
        if row is None:
            return Unready("no repair needed in this slot" if attempt else
                           "empty slot: the generator proposed fewer candidates this round", over=self._all_done())
        if row.status != Status.PENDING:
            return Unready(f"already {row.status}")
        return make_candidate(ctx, id=row.id, source=row.source, template=self.template_for(ctx), origin=row.origin)


class EvaluationItem(pytest.Item):
    def __init__(self, *, cid: str, ps_session: PolicysmithSession, slots: SlotSource, **kw):
        super().__init__(**kw)
        self.cid = cid
        self.ps_session, self.slots = ps_session, slots
        self.user_properties += [(CID, cid), (RULE, "evaluate")]

    def runtest(self) -> None:
        ps = self.ps_session
        ctx = ps.context_for(self.path)
        assert ctx is not None, f"{self.path} is in no context"
        cand = self.slots.lookup(self.cid, ctx)
        if isinstance(cand, Unready):
            if cand.deferred:
                self.user_properties.append((DEFERRED, True))
            pytest.skip(cand.reason)
        if self.cid in self.slots.failed_here:
            pytest.skip("the checker rejected this candidate")
        t0 = time.perf_counter()
        try:
            ev = ps.evaluation(cand, self.slots.screen(self.cid))
        except EvaluationError as exc:
            raise AssertionError(f"evaluation failed: {exc.reason}") from None
        self.user_properties.append((EVAL, json.dumps({**ev.as_dict(), "seconds": time.perf_counter() - t0})))

    def reportinfo(self):
        return self.path, None, f"evaluate {self.cid}"

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)


def add_evaluation_items(session: pytest.Session, items: list[pytest.Item], source: SlotSource,
                         ps_session: PolicysmithSession) -> None:
    """Tag rule items, add one evaluation per slot, and order the items slot by slot."""
    slots = source.spec.slots()
    order = {s: k for k, s in enumerate(slots)}
    for item in items:
        cid = getattr(getattr(item, "callspec", None), "params", {}).get("candidate")
        if cid is not None:
            item.user_properties += [(CID, cid), (RULE, getattr(item, "originalname", item.name))]
    parent = items[0].parent if items and items[0].parent is not None else session
    for cid in slots:
        items.append(EvaluationItem.from_parent(parent, name=f"policysmith_evaluate[{cid}]", cid=cid,
                                                ps_session=ps_session, slots=source))
    items.sort(key=lambda it: (order.get(str(dict(it.user_properties).get(CID)), -1), isinstance(it, EvaluationItem)))


def note_failure(source: SlotSource, item: pytest.Item, report: pytest.TestReport) -> None:
    """Remember, in this process, that a candidate failed a rule (so its evaluation is skipped)."""
    cid = dict(item.user_properties).get(CID)
    if cid and report.failed and not isinstance(item, EvaluationItem):
        source.failed_here.add(str(cid))


def stop_when_over(source: SlotSource, item: pytest.Item, report: pytest.TestReport) -> None:
    """End this process's session once a slot shows the run has nothing left: the items of the
    rounds simplification did not need would each only skip (about 600 at the end of a 20-round
    w106 run). pytest reports such a session as interrupted; the controller reads the archive, where
    every round is recorded, not the exit status."""
    cid = dict(item.user_properties).get(CID)
    if cid and report.skipped and source.over(str(cid)):
        item.session.shouldstop = "the run has nothing left to test"


class Recorder:
    """Writes each report into the archive; a slot's last report settles it and may advance the run."""

    def __init__(self, archive: Archive, stepper: Stepper):
        self.archive, self.stepper, self.run_id = archive, stepper, stepper.run_id
        self.deferred: set[str] = set()  # slots left for the next session (see NEXT_SESSION)

    def __call__(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if props.get(CID) is None:
            return
        cid, rule = str(props[CID]), str(props.get(RULE))
        if rule == "evaluate":
            if report.skipped and props.get(DEFERRED):
                self.deferred.add(cid)  # its round may appear before teardown: it must stay pending
            self._evaluation(report, cid, props)
            if report.when == "teardown" and cid not in self.deferred:
                self.stepper.settle(cid)
                self.stepper.advance()
        elif report.when == "call" or report.failed:
            if report.skipped:
                return
            outcome = Status.ERROR if report.failed and report.when != "call" else report.outcome
            fb = feedback_from_report(report) if report.failed else None
            self.archive.record_check(self.run_id, cid, rule, outcome, fb, report.duration)

    def worker_down(self, worker) -> None:
        """xdist lost a worker (before its crash report, if it was running a slot): record the death."""
        self.archive.record_crash(self.run_id, worker_name(worker), death_reason(worker))

    def session_error(self, excinfo: pytest.ExceptionInfo) -> None:
        """xdist gave up on its workers' gateways (a worker killed while starting, a host gone): that is
        a worker death with nothing to blame, so the controller's next session tries again."""
        if excinfo.errisinstance(gateway_errors()):
            self.archive.record_crash(self.run_id, None, f"a worker could not start or was cut off "
                                                         f"({excinfo.typename}: {excinfo.value})")

    def crashed(self, nodeid: str, worker) -> None:
        """xdist's ``pytest_handlecrashitem``: a worker died while running ``nodeid``."""
        slot = slot_scope(nodeid)
        try:
            parse_slot(slot)
        except ValueError:
            return
        self._blame(slot, worker)

    def _blame(self, cid: str, worker) -> None:
        """The dead worker was running this slot: it stays pending (retried in the controller's next
        session) until its last allowed death, which settles it as an error with the reason."""
        if blame(self.archive, self.run_id, worker_name(worker), cid):
            self.stepper.advance()

    def _evaluation(self, report: pytest.TestReport, cid: str, props: dict) -> None:
        if report.when != "call":
            if report.failed:
                self.archive.record_evaluation(self.run_id, cid, Status.ERROR, None, None,
                                               trim(feedback_from_report(report)), 0.0, report.duration)
            return
        if report.passed and EVAL in props:
            ev = json.loads(props[EVAL])
            if ev.get("screened"):
                self.archive.record_evaluation(self.run_id, cid, Status.SCREENED, None, ev["per_trace"],
                                               _screened_why(ev), 0.0, ev["seconds"], clone_of=ev.get("clone_of"))
            else:
                self.archive.record_evaluation(self.run_id, cid, Status.EVALUATED, ev["score"], ev["per_trace"], None,
                                               0.0, ev["seconds"])
        elif report.failed:
            self.archive.record_evaluation(self.run_id, cid, Status.ERROR, None, None,
                                           feedback_from_report(report), 0.0, report.duration)


def _screened_why(ev: dict) -> str:
    """Why the cascade did not score a candidate in full (the archive's feedback for it)."""
    if ev.get("clone_of"):
        return (f"screened: its score on the sampled trace, {ev['proxy']!r}, is exactly that of {ev['clone_of']}, "
                "already scored in full, so it is most likely a clone of it")
    return f"screened: its score on the sampled trace, {ev['proxy']:.6f}, is above this round's bar"


def gateway_errors() -> tuple[type[BaseException], ...]:
    """What execnet raises when a worker's gateway dies or cannot start: EOF on its channel, or
    ``OSError("cannot send (already closed?)")`` when the worker's end is gone."""
    import execnet

    return (EOFError, OSError, execnet.HostNotFound, execnet.RemoteError, execnet.DataFormatError)
