"""The end of a regression run: each stored policy's score beside the context's gate baselines.

A gate test passes or fails on one comparison; the numbers behind it are what a reviewer asks
for next. The gate fixtures put them on each test's report (``user_properties``), so the
process that prints them has them whether the tests ran there or on xdist workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..context import Context
    from ..domain import Baselines, Evaluation

SCORE = "policysmith_score"  # user_properties key: {"policy", "objective", "per_trace": {workload: value}}
GATE = "policysmith_gate_scores"  # user_properties key: {"per_trace": {workload: {baseline: value}}}


def score_property(policy: str, ctx: Context, ev: Evaluation) -> tuple[str, dict[str, Any]]:
    """What the evaluation fixture puts on its test's report: the policy's objective per workload."""
    obj = ctx.objective
    return SCORE, {"policy": policy, "objective": obj,
                   "per_trace": {w: m[obj] for w, m in ev.per_trace.items() if isinstance(m.get(obj), (int, float))}}


def gate_property(ctx: Context, baselines: Baselines) -> tuple[str, dict[str, Any]]:
    """What the baselines fixture puts on its test's report: the gate's baselines' objective per workload."""
    return GATE, {"per_trace": {w: {name: getattr(named[name], ctx.objective) for name in ctx.gate if name in named}
                                for w, named in baselines.items()}}


@dataclass(eq=False)  # a pytest plugin: registered by identity (hashable)
class GateSummary:
    """Collects what the gate fixtures report and prints one line per stored policy and workload."""

    config: pytest.Config
    # (policy, workload) -> (objective, value)
    scores: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    gates: dict[str, dict[str, float]] = field(default_factory=dict)  # workload -> baseline -> value

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for key, value in report.user_properties:
            if key == SCORE and isinstance(value, dict):
                for workload, v in value["per_trace"].items():
                    self.scores[(value["policy"], workload)] = (value["objective"], v)
            elif key == GATE and isinstance(value, dict):
                for workload, named in value["per_trace"].items():
                    self.gates.setdefault(workload, {}).update(named)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if hasattr(self.config, "workerinput"):
            return
        for line in gate_lines(self.scores, self.gates):
            terminalreporter.write_line(line)


def gate_lines(scores: dict[tuple[str, str], tuple[str, float]], gates: dict[str, dict[str, float]]) -> list[str]:
    """``policysmith: POLICY on WORKLOAD: OBJECTIVE v; BASELINE v (+x.x%), ...`` (lower is better)."""
    lines = []
    for (policy, workload), (objective, ours) in sorted(scores.items()):
        theirs = gates.get(workload, {})
        versus = ", ".join(f"{name} {v:.6f} ({_relative(ours, v)})" for name, v in theirs.items())
        lines.append(f"policysmith: {policy} on {workload}: {objective} {ours:.6f}" + (f"; {versus}" if versus else ""))
    return lines


def _relative(ours: float, theirs: float) -> str:
    return f"{(ours / theirs - 1) * 100:+.1f}%" if theirs else "n/a"
