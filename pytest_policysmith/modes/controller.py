"""Controller mode (``--synthesize``): the search loop runs instead of the test loop.

The controller collects nothing; its inner session (``modes/inner.py``, started by
``search/driver.py``) runs the rounds. ``-n``, ``--tx`` and ``--rsyncdir`` belong to that
inner session, so they are taken from this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..errors import CompileError, SearchError, UsageError
from ..session import PolicysmithSession

if TYPE_CHECKING:
    from ..search.controller import Prepared
    from ..search.loop import SearchOutcome
    from ..search.suite import SuiteOutcome


class ControllerMode:
    def __init__(self, config: pytest.Config, ps: PolicysmithSession):
        self.config, self.ps = config, ps
        n = getattr(config.option, "numprocesses", None)
        self.workers = int(n) if isinstance(n, int) else 0
        # --tx gateways (other machines: ssh=..., socket=...) also belong to the inner session.
        self.inner_args = [a for tx in (getattr(config.option, "tx", None) or []) for a in ("--tx", tx)]
        self.inner_args += [a for d in (getattr(config.option, "rsyncdir", None) or []) for a in ("--rsyncdir", str(d))]
        if hasattr(config.option, "dist"):
            config.option.dist = "no"
            config.option.numprocesses = None
            config.option.tx = []
        self.prepared: Prepared | None = None  # once the inputs are checked
        self.outcome: SearchOutcome | SuiteOutcome | None = None  # after the run (a suite: one search per workload)
        self.error: str | None = None  # a run that failed plainly (a stopped search, a broken link)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from ..search.controller import prepare, validate_options

        try:
            validate_options(self.config)
            self.prepared = prepare(self.ps, self.config, [Path(a) for a in self.config.args], self.workers,
                                    self.inner_args)
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None

    def pytest_collection(self, session: pytest.Session) -> bool:
        return True  # the controller collects nothing: rounds run in the inner session

    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        from ..search.controller import run

        assert self.prepared is not None, "pytest_sessionstart prepares the run"
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        say = (lambda line: tr.write_line(line)) if tr else print
        try:
            self.outcome = run(self.prepared, self.config, say)
        except (UsageError, CompileError) as exc:
            raise pytest.UsageError(str(exc)) from None
        except Exception as exc:
            if not isinstance(exc, (SearchError, *self.prepared.context.plugin.expected_errors())):
                raise
            self.error = str(exc)
            for line in self.error.splitlines():
                say(line)
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.outcome is not None and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.OK
        if self.error:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        stop = self.outcome.stop if self.outcome is not None else None
        if stop is not None and stop.kind.is_failure:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # e.g. the LLM service failed

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.outcome is None:
            return
        from ..reporting.suite import terminal_lines
        from ..reporting.terminal import summary_lines
        from ..search.suite import SuiteOutcome

        lines = terminal_lines(self.outcome.summary) if isinstance(self.outcome, SuiteOutcome) else \
            summary_lines(self.outcome, verbosity=self.config.getoption("verbose"))
        for line in lines:
            terminalreporter.write_line(line)
        # pytest's closing line counts what ran; a search runs candidates, not tests, and would
        # otherwise end with "no tests ran", which reads like a failure.
        o = self.outcome
        for key, n in (("evaluated", o.evaluated), ("screened", o.screened), ("rejected", o.failed)):
            if n:
                terminalreporter.stats.setdefault(key, []).extend([_Counted()] * n)


class _Counted:
    """A stand-in report for pytest's closing line (``TerminalReporter.stats``)."""

    count_towards_summary = True
