"""Re-recording (``pytest CONTEXT --synth-accept``, no ``--synthesize``): syrupy's ``--snapshot-update``
for stored heuristics.

Where a stored policy's recorded score does not apply here (other trace bytes, another kernel, a
trace added to the context since it was accepted), its gate records the score it gets instead of
skipping or failing, and this object writes those scores into the policies' metadata when the session
ends. A recorded score that applies and differs still fails: a regression is never accepted this way.
The scores travel to the process that writes them with each test's report (``user_properties``),
so one code path serves a plain run and xdist workers alike.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import pytest

from ..storage.policies import Rerecord, rerecord

PLUGIN_NAME = "policysmith-record"
PROPERTY = "policysmith_rerecord"  # the user_properties key of a gate's new score


class RecordMode:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.records: list[Rerecord] = []
        self.written: list[Rerecord] = []

    @staticmethod
    def recorder(item: pytest.Item) -> Callable[[Rerecord], None]:
        """What a gate calls with a new score: it rides on the test's report."""
        return lambda r: item.user_properties.append((PROPERTY, r.as_dict()))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.passed:
            self.records += [Rerecord(**value) for key, value in report.user_properties
                             if key == PROPERTY and isinstance(value, dict)]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The process that saw every report writes (a worker's reports reach the controller)."""
        from .. import __version__

        if hasattr(self.config, "workerinput") or not self.records:
            return
        rerecord(self.records, datetime.now(timezone.utc).isoformat(timespec="seconds"), __version__)
        self.written, self.records = self.records, []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if hasattr(self.config, "workerinput"):
            return
        if not self.written:
            terminalreporter.write_line("policysmith: --synth-accept: every stored score applies here; nothing re-recorded")
            return
        for r in self.written:
            was = f"recorded on sha256 {r.previous_sha256[:16]}..." if r.previous_sha256 else "no record for it"
            terminalreporter.write_line(
                f"policysmith: re-recorded {r.policy} on {r.workload}: {r.objective} {r.metrics[r.objective]:.6f} "
                f"({was}, now {str(r.metrics.get('trace_sha256', '?'))[:16]}...)")
