"""Transfer mode (``--transfer``/``--sweep``): the stored heuristics and every baseline, one item per workload."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..errors import UsageError
from ..session import PolicysmithSession


class TransferPlugin:
    def __init__(self, config: pytest.Config, ps: PolicysmithSession):
        from ..transfer.mode import TransferMode

        self.config, self.ps = config, ps
        if config.getoption("synth_accept"):
            raise pytest.UsageError("--synth-accept does nothing with --transfer or --sweep: it stores a search's winner "
                                    "(with --synthesize) or records the stored policies' scores (in a regression run)")
        try:
            self.transfer = TransferMode(config.getoption("transfer"), config.getoption("sweep"))
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        from ..transfer.items import make_items

        try:
            ctx = self.ps.context_for(Path(config.args[0]))
            if ctx is None:
                raise UsageError(f"{config.args[0]}: not a context folder (no policysmith_context in its conftest.py)")
            work = make_items(session, session, ctx, self.ps, self.transfer.workloads(ctx, self.ps.traces_dirs))
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.hook.pytest_deselected(items=list(items))
        items[:] = work

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from ..transfer.items import result_of

        got = result_of(report)
        if got is not None:
            self.transfer.results.append(got)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):
            return
        self.transfer.finish(self.ps.context_for(Path(session.config.args[0])), session.config.rootpath,
                             session.config.getoption("synth_report"))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for line in self.transfer.lines:
            terminalreporter.write_line(line)
