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

import pytest

from ..cache.simulator import SimulationError
from ..checking.candidate import Candidate
from ..checking.feedback import feedback_from_report, trim
from ..storage.archive import Archive
from .deaths import blame, crashed_slot, death_reason, worker_name
from .spec import InnerSpec, parse_slot
from .stepper import Stepper

CID = "policysmith_cid"
RULE = "policysmith_rule"
EVAL = "policysmith_evaluation"
FAILED_HERE: set[str] = set()  # candidates that failed a rule in this process
POLL = (0.002, 0.05)  # first and longest wait between looks at the archive
NEXT_SESSION = "a worker died in this session; this slot runs in the controller's next one"


class SlotSource:
    """A worker's view of the slots: waits until a slot's round exists, then builds its Candidate."""

    def __init__(self, spec: InnerSpec, template, ctx):
        self.spec, self.template, self.ctx = spec, template, ctx
        self._archive: Archive | None = None
        self._cache: dict[str, Candidate | str] = {}
        self._ppid = os.getppid()

    def get(self, slot: str) -> Candidate:
        """The slot's candidate; skips the test when the slot is empty or already settled."""
        if slot not in self._cache:
            self._cache[slot] = self._load(slot)
        got = self._cache[slot]
        if isinstance(got, str):
            pytest.skip(got)
        return got

    @property
    def archive(self) -> Archive:
        if self._archive is None:
            self._archive = Archive(self.spec.archive)
        return self._archive

    def screen(self, slot: str) -> float | None:
        """The cascade bar of the slot's round (set when the round was made)."""
        return self.archive.screen(self.spec.run_id, parse_slot(slot)[0])

    def _load(self, slot: str) -> Candidate | str:
        round_no, idx, attempt = parse_slot(slot)
        wait = POLL[0]
        while self.archive.generated(self.spec.run_id, round_no, attempt) is None:
            if os.getppid() != self._ppid:
                os._exit(3)  # the session that fed us is gone
            status = (self.archive.run(self.spec.run_id) or {}).get("status")
            if status not in ("running", None):
                return f"the run is {status}"
            if len(self.archive.crashes(self.spec.run_id)) > self.spec.deaths_before:
                # This session is ending, and the round may wait on the dead worker's slot.
                return NEXT_SESSION
            time.sleep(wait)
            wait = min(wait * 2, POLL[1])
        row = self.archive.candidate_at(self.spec.run_id, round_no, idx, attempt)
        if row is None:
            return ("no repair needed in this slot" if attempt else
                    "empty slot: the generator proposed fewer candidates this round")
        if row.status != "pending":
            return f"already {row.status}"
        return Candidate(row.id, row.source, self.template, self.ctx, row.origin)


class EvaluationItem(pytest.Item):
    def __init__(self, *, cid: str, ps_session, **kw):
        super().__init__(**kw)
        self.cid = cid
        self.ps_session = ps_session
        self.user_properties += [(CID, cid), (RULE, "evaluate")]

    def runtest(self) -> None:
        ps = self.ps_session
        cand = ps.slot_candidate(self.cid, self.path)
        if self.cid in FAILED_HERE:
            pytest.skip("the checker rejected this candidate")
        t0 = time.perf_counter()
        try:
            ev = ps.evaluation(cand, ps.slot_screen(self.cid))
        except SimulationError as exc:
            raise AssertionError(f"evaluation failed: {exc.reason}") from None
        self.user_properties.append((EVAL, json.dumps({**ev.as_dict(), "seconds": time.perf_counter() - t0})))

    def reportinfo(self):
        return self.path, None, f"evaluate {self.cid}"

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)


def add_evaluation_items(session: pytest.Session, items: list[pytest.Item], slots: list[str], ps_session) -> None:
    """Tag rule items, add one evaluation per slot, and order the items slot by slot."""
    order = {s: k for k, s in enumerate(slots)}
    for item in items:
        cid = getattr(getattr(item, "callspec", None), "params", {}).get("candidate")
        if cid is not None:
            item.user_properties += [(CID, cid), (RULE, getattr(item, "originalname", item.name))]
    parent = items[0].parent if items else session
    for cid in slots:
        items.append(EvaluationItem.from_parent(parent, name=f"policysmith_evaluate[{cid}]", cid=cid,
                                                ps_session=ps_session))
    items.sort(key=lambda it: (order.get(dict(it.user_properties).get(CID), -1), isinstance(it, EvaluationItem)))


def note_failure(item: pytest.Item, report: pytest.TestReport) -> None:
    """Remember, in this process, that a candidate failed a rule (so its evaluation is skipped)."""
    cid = dict(item.user_properties).get(CID)
    if cid and report.failed and not isinstance(item, EvaluationItem):
        FAILED_HERE.add(cid)


class Recorder:
    """Writes each report into the archive; a slot's last report settles it and may advance the run."""

    def __init__(self, archive: Archive, stepper: Stepper):
        self.archive, self.stepper, self.run_id = archive, stepper, stepper.run_id
        self.deferred: set[str] = set()  # slots left for the next session (see NEXT_SESSION)

    def __call__(self, report: pytest.TestReport) -> None:
        slot = crashed_slot(report)
        if slot is not None:
            self._blame(slot, getattr(report, "node", None))
            return
        props = dict(report.user_properties)
        cid, rule = props.get(CID), props.get(RULE)
        if cid is None:
            return
        if rule == "evaluate":
            if report.skipped and NEXT_SESSION in str(report.longrepr):
                self.deferred.add(cid)  # its round may appear before teardown: it must stay pending
            self._evaluation(report, cid, props)
            if report.when == "teardown" and cid not in self.deferred:
                self.stepper.settle(cid)
                self.stepper.advance()
        elif report.when == "call" or report.failed:
            if report.skipped:
                return
            outcome = "error" if report.failed and report.when != "call" else report.outcome
            fb = feedback_from_report(report) if report.failed else None
            self.archive.record_check(self.run_id, cid, rule, outcome, fb, report.duration)

    def worker_down(self, worker) -> None:
        """xdist lost a worker (before its crash report, if it was running a slot): record the death."""
        self.archive.record_crash(self.run_id, worker_name(worker), death_reason(worker))

    def session_error(self, excinfo: pytest.ExceptionInfo) -> None:
        """xdist gave up on its workers' gateways (a worker killed while starting, a host gone): that is
        a worker death with nothing to blame, so the controller's next session tries again."""
        if any("execnet" in str(entry.path) for entry in excinfo.traceback):
            self.archive.record_crash(self.run_id, None, f"a worker could not start or was cut off "
                                                         f"({excinfo.typename}: {excinfo.value})")

    def _blame(self, cid: str, worker) -> None:
        """The dead worker was running this slot: it stays pending (retried in the controller's next
        session) until its last allowed death, which settles it as an error with the reason."""
        if blame(self.archive, self.run_id, worker_name(worker), cid):
            self.stepper.advance()

    def _evaluation(self, report: pytest.TestReport, cid: str, props: dict) -> None:
        if report.when != "call":
            if report.failed:
                self.archive.record_evaluation(self.run_id, cid, "error", None, None,
                                               trim(feedback_from_report(report)), 0.0, report.duration)
            return
        if report.passed and EVAL in props:
            ev = json.loads(props[EVAL])
            if ev.get("screened"):
                self.archive.record_evaluation(self.run_id, cid, "screened", None, ev["per_trace"],
                                               f"screened: its score on the sampled trace, {ev['proxy']:.6f}, is above "
                                               "this round's bar", 0.0, ev["seconds"])
            else:
                self.archive.record_evaluation(self.run_id, cid, "evaluated", ev["score"], ev["per_trace"], None,
                                               0.0, ev["seconds"])
        elif report.failed:
            self.archive.record_evaluation(self.run_id, cid, "error", None, None,
                                           feedback_from_report(report), 0.0, report.duration)
