"""The inner (per-round) session's items and recording.

Rule items come from the context's own tests, parametrized over the round's candidates.
One :class:`EvaluationItem` per candidate is added, grouped with that candidate's rules
(``xdist_group``) and sorted after them; it scores the candidate only if no rule failed
on this worker. The controller side of the inner session (the xdist master, or the only
process) writes every report to the archive as it arrives.
"""

from __future__ import annotations

import json
import time

import pytest

from ..cache.simulator import SimulationError
from ..checking.feedback import feedback_from_report, trim
from ..storage.archive import Archive

CID = "policysmith_cid"
RULE = "policysmith_rule"
EVAL = "policysmith_evaluation"
FAILED_HERE: set[str] = set()  # candidates that failed a rule in this process


class EvaluationItem(pytest.Item):
    def __init__(self, *, cid: str, ps_session, **kw):
        super().__init__(**kw)
        self.cid = cid
        self.ps_session = ps_session
        self.user_properties += [(CID, cid), (RULE, "evaluate")]

    def runtest(self) -> None:
        if self.cid in FAILED_HERE:
            pytest.skip("the checker rejected this candidate")
        ps = self.ps_session
        cand = next(c for c in ps.inner_candidates if c.id == self.cid)
        t0 = time.perf_counter()
        try:
            ev = ps.evaluation(cand)
        except SimulationError as exc:
            raise AssertionError(f"evaluation failed: {exc.reason}") from None
        self.user_properties.append((EVAL, json.dumps({**ev.as_dict(), "seconds": time.perf_counter() - t0})))

    def reportinfo(self):
        return self.path, None, f"evaluate {self.cid}"

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)


def add_evaluation_items(session: pytest.Session, items: list[pytest.Item], ps_session) -> None:
    """Tag rule items, add one evaluation per candidate, group and order them per candidate."""
    order = {c.id: k for k, c in enumerate(ps_session.inner_candidates)}
    for item in items:
        cid = getattr(getattr(item, "callspec", None), "params", {}).get("candidate")
        if cid is not None:
            item.user_properties += [(CID, cid), (RULE, item.originalname if hasattr(item, "originalname") else item.name)]
    parent = items[0].parent if items else session
    for cid in order:
        items.append(EvaluationItem.from_parent(parent, name=f"policysmith_evaluate[{cid}]", cid=cid,
                                                ps_session=ps_session))
    for item in items:
        cid = dict(item.user_properties).get(CID)
        if cid is not None:
            item.add_marker(pytest.mark.xdist_group(cid))
    items.sort(key=lambda it: (order.get(dict(it.user_properties).get(CID), -1),
                               isinstance(it, EvaluationItem)))


def note_failure(item: pytest.Item, report: pytest.TestReport) -> None:
    """Remember, in this process, that a candidate failed a rule (so its evaluation is skipped)."""
    cid = dict(item.user_properties).get(CID)
    if cid and report.failed and not isinstance(item, EvaluationItem):
        FAILED_HERE.add(cid)


class Recorder:
    """Writes each report into the archive: checks, then the evaluation."""

    def __init__(self, archive: Archive, run_id: str):
        self.archive, self.run_id = archive, run_id

    def __call__(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        cid, rule = props.get(CID), props.get(RULE)
        if cid is None:
            return
        if rule == "evaluate":
            self._evaluation(report, cid, props)
        elif report.when == "call" or report.failed:
            outcome = "error" if report.failed and report.when != "call" else report.outcome
            fb = feedback_from_report(report) if report.failed else None
            self.archive.record_check(self.run_id, cid, rule, outcome, fb, report.duration)

    def _evaluation(self, report: pytest.TestReport, cid: str, props: dict) -> None:
        if report.when != "call":
            if report.failed:
                self.archive.record_evaluation(self.run_id, cid, "error", None, None,
                                               trim(feedback_from_report(report)), 0.0, report.duration)
            return
        if report.passed and EVAL in props:
            ev = json.loads(props[EVAL])
            self.archive.record_evaluation(self.run_id, cid, "evaluated", ev["score"], ev["per_trace"], None,
                                           0.0, ev["seconds"])
        elif report.failed:
            self.archive.record_evaluation(self.run_id, cid, "error", None, None,
                                           feedback_from_report(report), 0.0, report.duration)
