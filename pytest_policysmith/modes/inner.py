"""Inner-session mode (``--synth-inner``, started by the controller): every round's rules and evaluations.

:class:`InnerMode` is registered in every process of the inner session (the xdist workers
too): the context's tests are parametrized over the run's slots, and one evaluation item
per slot scores a candidate that passed them. :class:`InnerReporting` is registered only
in the process that receives every report (the xdist controller, or the only process):
it records reports in the archive and moves the run on (``search/inner.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..search.spec import InnerSpec
from ..session import PolicysmithSession
from . import SPEC_KEY

if TYPE_CHECKING:
    from ..search.deaths import InFlight
    from ..search.inner import Recorder


class InnerMode:
    def __init__(self, config: pytest.Config, ps: PolicysmithSession, spec: InnerSpec):
        from ..search.inner import SlotSource

        self.config, self.ps, self.spec = config, ps, spec
        ps.traces_dirs = [Path(d) for d in spec.traces_dirs]
        ps.workload = spec.workload
        self.slots = SlotSource(spec, ps.template_for)
        ps.source = self.slots

    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        from ..search.inner import add_evaluation_items

        gates = [it for it in items if it.get_closest_marker("policysmith_gate") is not None]
        config.hook.pytest_deselected(items=gates)
        items[:] = [it for it in items if it.get_closest_marker("policysmith_gate") is None]
        add_evaluation_items(session, items, self.slots, self.ps)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        from ..search.inner import note_failure, stop_when_over

        note_failure(self.slots, item, report)
        stop_when_over(self.slots, item, report)
        return report


class InnerReporting:
    def __init__(self, config: pytest.Config, ps: PolicysmithSession, spec: InnerSpec):
        self.config, self.ps, self.spec = config, ps, spec
        self.recorder: Recorder | None = None  # from the session's start
        self.inflight: InFlight | None = None  # without workers: the slot being run

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from ..search.deaths import InFlight
        from ..search.inner import Recorder
        from ..search.stepper import Stepper
        from ..storage.archive import Archive

        # Records reports and moves the run on: it generates the first pending round right away.
        archive = Archive(Path(self.spec.archive))
        ctx = self.ps.context_for(Path(self.config.args[0]))
        assert ctx is not None, "the controller starts the inner session on a context folder"
        template = self.ps.template_for(ctx)
        stepper = Stepper(archive, self.spec, template,
                          prebuild=lambda candidates: ctx.plugin.prebuild(ctx, template, candidates))
        recorder = self.recorder = Recorder(archive, stepper)
        recorder.stepper.advance()
        if self.spec.inflight:
            self.inflight = InFlight(self.spec.inflight)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.recorder is not None:
            self.recorder(report)

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        if self.inflight is not None:
            self.inflight.start(nodeid)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        if self.inflight is not None:
            self.inflight.finish()

    def pytest_internalerror(self, excinfo: pytest.ExceptionInfo) -> None:
        if self.recorder is not None:
            self.recorder.session_error(excinfo)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.recorder is not None and exitstatus != pytest.ExitCode.INTERRUPTED:
            self.recorder.stepper.finish()

    # -- xdist (optional hooks: this process is xdist's controller when -n is given) ------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        """Ship the inner spec to each worker in ``workerinput`` (a worker may be on another host)."""
        node.workerinput[SPEC_KEY] = self.spec.as_dict()

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log):
        from ..search.schedule import make_slot_scheduler

        return make_slot_scheduler(config, log)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched) -> None:
        if self.recorder is not None:
            self.recorder.crashed(crashitem, getattr(report, "node", None))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        if self.recorder is not None and error is not None:
            self.recorder.worker_down(node)
