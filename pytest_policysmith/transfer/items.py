"""pytest items for transfer and sweep runs, and the reporting side that collects their results."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..context import Context
    from ..session import PolicysmithSession

RESULT = "policysmith_transfer"


class WorkloadItem(pytest.Item):
    """Evaluates the context's stored heuristics and all baselines on one (trace, size)."""

    def __init__(self, *, workload: Any, ps_session: PolicysmithSession, ctx: Context, **kw):
        super().__init__(**kw)
        self.workload, self.ps_session, self.ctx = workload, ps_session, ctx

    def runtest(self) -> None:
        ps = self.ps_session
        heur = {c.id: c.source for c in ps.stored_candidates(self.ctx)}
        if not heur:
            pytest.skip(f"{self.ctx.policies_dir}: no stored heuristics to evaluate")
        out = self.ctx.plugin.run_workload(self.workload, self.ctx, ps.template_for(self.ctx), heur, ps.traces_dirs)
        self.user_properties.append((RESULT, json.dumps(out)))

    def reportinfo(self):
        return self.path, None, f"{self.ctx.name} on {self.workload.id}"


def make_items(session: pytest.Session, parent: pytest.Collector, ctx: Context, ps_session: PolicysmithSession,
               workloads: list[Any]) -> list[pytest.Item]:
    return [WorkloadItem.from_parent(parent, name=f"workload[{w.id}]", workload=w, ps_session=ps_session, ctx=ctx)
            for w in workloads]


def result_of(report: pytest.TestReport) -> dict | None:
    if report.when != "call" or not report.passed:
        return None
    raw = dict(report.user_properties).get(RESULT)
    return json.loads(str(raw)) if raw else None
