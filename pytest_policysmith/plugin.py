"""pytest hooks and options for pytest-policysmith. Only hooks live here; the work is elsewhere.

Three modes:
- regression (plain ``pytest contexts/X``): the context's tests run over its stored policies;
- controller (``--synthesize``): the search loop runs instead of the test loop;
- inner (``--synth-inner``, started by the controller): every round's rules and evaluations.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from .errors import CompileError, UsageError
from .session import KEY, PolicysmithSession


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("policysmith", "policysmith: synthesize and gate heuristics")
    g.addoption("--synthesize", action="store_true", help="run the search for the given context instead of its tests")
    g.addoption("--synth-rounds", type=int, default=None, help="rounds (default: context's, else 20)")
    g.addoption("--synth-candidates", type=int, default=None, help="candidates per round (default: context's, else 25)")
    g.addoption("--synth-parents", type=int, default=None, help="best candidates so far used as parents (default 2)")
    g.addoption("--synth-generator", default=None, help="candidate generator: evolve (offline, default) or openai")
    g.addoption("--synth-model", default=None, help="model name, for the openai generator (recorded with the run)")
    g.addoption("--synth-base-url", default=None,
                help="OpenAI-compatible server (default $OPENAI_BASE_URL, else api.openai.com); key from $OPENAI_API_KEY")
    g.addoption("--synth-repairs", type=int, default=2, help="repairs per rejected LLM candidate (default 2)")
    g.addoption("--synth-concurrency", type=int, default=None,
                help="concurrent LLM requests (default 1 for a server on this machine, which answers one at a "
                     "time and would make queued requests time out; else 8)")
    g.addoption("--synth-max-cost", type=float, default=None, metavar="USD", help="stop cleanly at this LLM spend")
    g.addoption("--synth-max-tokens", type=int, default=None, help="stop cleanly at this many LLM tokens")
    g.addoption("--synth-max-reply-tokens", type=int, default=1024, metavar="N",
                help="token cap per LLM reply (max_tokens; a cut reply is told so); 0 sends none (default 1024)")
    g.addoption("--synth-context-window", type=int, default=None, metavar="TOKENS",
                help="the model's context window: every prompt is cut to fit it with room for the reply "
                     "(older repair turns first); default: no cut")
    g.addoption("--synth-temperature", type=float, default=0.8, help="LLM sampling temperature (default 0.8)")
    g.addoption("--synth-llm-timeout", type=float, default=60.0, help="seconds per LLM request (default 60)")
    g.addoption("--synth-llm-retries", type=int, default=5,
                help="retries on 429/5xx/timeouts, with backoff and Retry-After (default 5)")
    g.addoption("--synth-prices", default=None, metavar="TOML", help="price table for --synth-max-cost")
    g.addoption("--synth-no-llm-cache", action="store_true",
                help="do not reuse cached LLM replies (by default a rerun with the same seed costs nothing)")
    g.addoption("--synth-simplify-rounds", type=int, default=8, metavar="N",
                help="rounds after the search that drop terms, branches and digits the winner does not need "
                     "(the score may worsen by at most 0.05%%); 0 keeps the raw winner (default 8)")
    g.addoption("--synth-baseline-timeout", type=float, default=120.0, metavar="SECONDS",
                help="seconds per baseline policy shown beside a search; a slower one (libCacheSim's LFUDA on "
                     "some traces) is reported as a timeout and the search goes on (default 120)")
    g.addoption("--synth-seed", type=int, default=0, help="random seed; the same seed gives the same run (default 0)")
    g.addoption("--synth-archive", default=None, help="SQLite archive (default: <rootdir>/.policysmith/archive.sqlite)")
    g.addoption("--synth-resume", nargs="?", const="latest", default=None, metavar="RUN_ID",
                help="resume an interrupted run (default: the context's latest)")
    g.addoption("--synth-accept", action="store_true", help="write the winner into the context's policies/ folder")
    g.addoption("--synth-json", default=None, metavar="PATH", help="write a run summary as JSON")
    g.addoption("--synth-report", default=None, metavar="DIR",
                help="HTML run report folder (default: .policysmith/runs/RUN_ID/report; 'none' for no report)")
    g.addoption("--synth-traces", default=None, help="trace directories (os.pathsep-separated); default $POLICYSMITH_TRACES")
    g.addoption("--transfer", default=None, metavar="DATASET_OR_DIR",
                help="evaluate the stored heuristics and all baselines on every trace of a dataset (win rate, report)")
    g.addoption("--sweep", default=None, metavar="SIZES",
                help="miss ratio against cache size for the stored heuristics and baselines, e.g. 0.01,0.03,0.1,0.2")
    g.addoption("--synth-inner", default=None, help=argparse.SUPPRESS)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "policysmith_gate: a regression gate (stored policies only, not in synthesis)")
    ps = PolicysmithSession(config)
    config.stash[KEY] = ps
    _SESSION.value = ps
    if ps.is_controller and not hasattr(config, "workerinput"):
        # -n belongs to the inner session; the controller itself runs no tests.
        n = getattr(config.option, "numprocesses", None)
        ps.workers = int(n) if isinstance(n, int) else 0
        # --tx gateways (other machines: ssh=..., socket=...) also belong to the inner session.
        ps.inner_args = [a for tx in (getattr(config.option, "tx", None) or []) for a in ("--tx", tx)]
        ps.inner_args += [a for d in (getattr(config.option, "rsyncdir", None) or []) for a in ("--rsyncdir", str(d))]
        if hasattr(config.option, "dist"):
            config.option.dist = "no"
            config.option.numprocesses = None
            config.option.tx = []


def _ps(config: pytest.Config) -> PolicysmithSession:
    return config.stash[KEY]


def pytest_sessionstart(session: pytest.Session) -> None:
    ps = _ps(session.config)
    if ps.inner is not None and not hasattr(session.config, "workerinput"):
        from .search.inner import Recorder
        from .search.stepper import Stepper
        from .storage.archive import Archive

        # The inner session's reporting process (xdist master, or the only process) records
        # reports and moves the run on: it generates the first pending round right away.
        archive = Archive(Path(ps.inner.archive))
        ctx = ps.context_for(Path(session.config.args[0]))
        _RECORDER.value = Recorder(archive, Stepper(archive, ps.inner, ps.template_for(ctx)))
        _RECORDER.value.stepper.advance()
        if ps.inner.inflight:
            from .search.deaths import InFlight

            _INFLIGHT.value = InFlight(ps.inner.inflight)
    if ps.is_controller:
        from .search.controller import prepare

        try:
            ps.validate_options()
            prepare(ps, [Path(a) for a in session.config.args])
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_collection(session: pytest.Session):
    if _ps(session.config).is_controller:
        return True  # the controller collects nothing: rounds run in the inner session
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "candidate" not in metafunc.fixturenames:
        return
    ps = _ps(metafunc.config)
    try:
        ctx = ps.context_for(metafunc.definition.path)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    if ctx is None:
        return
    ids = ps.candidate_ids(ctx)
    metafunc.parametrize("candidate", ids, ids=ids, indirect=True)


@pytest.fixture
def candidate(request: pytest.FixtureRequest):
    """The heuristic under test: a stored policy (regression) or a slot's candidate (synthesis)."""
    return _ps(request.config).candidate(request.param, request.node.path)


@pytest.fixture
def policysmith_evaluation(candidate, request):
    """The candidate's score on the context's traces (cached per session)."""
    return _ps(request.config).unless_no_store(lambda: _ps(request.config).evaluation(candidate))


@pytest.fixture
def policysmith_baselines(candidate, request):
    """trace -> policy -> BaselineResult for the context's gate (and Belady)."""
    return _ps(request.config).unless_no_store(lambda: _ps(request.config).baselines(candidate.context))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    ps = _ps(config)
    if ps.transfer is not None:
        from .transfer.items import make_items

        try:
            ctx = ps.context_for(Path(config.args[0]))
            if ctx is None:
                raise UsageError(f"{config.args[0]}: not a context folder (no policysmith_context in its conftest.py)")
            work = make_items(session, session, ctx, ps, ps.transfer.workloads(ctx, ps.traces_dirs))
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.hook.pytest_deselected(items=list(items))
        items[:] = work
        return
    if ps.inner is None:
        return
    from .search.inner import add_evaluation_items

    kept = [it for it in items if it.get_closest_marker("policysmith_gate") is None]
    config.hook.pytest_deselected(items=[it for it in items if it not in kept])
    items[:] = kept
    add_evaluation_items(session, items, ps.inner.slots(), ps)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    if _ps(item.config).inner is not None:
        from .search.inner import note_failure

        note_failure(item, outcome.get_result())


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Ship the inner spec to each worker in ``workerinput`` (a worker may be on another host)."""
    ps = _ps(node.config)
    if ps.inner is not None:
        from .session import SPEC_KEY

        node.workerinput[SPEC_KEY] = ps.inner.as_dict()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if _ps(config).inner is None:
        return None
    from .search.schedule import make_slot_scheduler

    return make_slot_scheduler(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    recorder = getattr(_RECORDER, "value", None)
    if recorder is not None and error is not None:
        recorder.worker_down(node)


def pytest_runtest_logstart(nodeid: str, location) -> None:
    if _INFLIGHT.value is not None:
        _INFLIGHT.value.start(nodeid)


def pytest_runtest_logfinish(nodeid: str, location) -> None:
    if _INFLIGHT.value is not None:
        _INFLIGHT.value.finish()


def pytest_internalerror(excrepr, excinfo) -> None:
    recorder = getattr(_RECORDER, "value", None)
    if recorder is not None:
        recorder.session_error(excinfo)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    recorder = getattr(_RECORDER, "value", None)
    if recorder is not None:
        recorder(report)
    if _SESSION.value is not None and _SESSION.value.transfer is not None:
        from .transfer.items import result_of

        got = result_of(report)
        if got is not None:
            _SESSION.value.transfer.results.append(got)


class _SESSION:
    value = None  # the PolicysmithSession, for hooks that get no config


class _RECORDER:
    value = None


class _INFLIGHT:
    value = None  # a worker-less inner session's slot in flight (search/deaths.py)


def _is_run_failure(exc: Exception) -> bool:
    """Failures a run reports plainly (no traceback): a stopped search, a broken link or load."""
    from .search.loop import SearchError
    from .tcp.bpf import LoadError
    from .tcp.link import LinkError

    return isinstance(exc, (SearchError, LinkError, LoadError))


def pytest_runtestloop(session: pytest.Session):
    ps = _ps(session.config)
    if not ps.is_controller:
        return None
    from .search.controller import run

    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    say = (lambda line: tr.write_line(line)) if tr else print
    try:
        ps.outcome = run(ps, say)
    except (UsageError, CompileError) as exc:
        raise pytest.UsageError(str(exc)) from None
    except Exception as exc:
        if not _is_run_failure(exc):
            raise
        ps.search_error = str(exc)
        for line in ps.search_error.splitlines():
            say(line)
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ps = _ps(session.config)
    if ps.is_controller and ps.outcome is not None and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK
    if ps.is_controller and ps.search_error:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    stop = ps.outcome.stop_reason if ps.is_controller and ps.outcome is not None else None
    if stop and not stop.startswith("budget reached"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # e.g. the LLM service failed
    recorder = getattr(_RECORDER, "value", None)
    if recorder is not None and exitstatus != pytest.ExitCode.INTERRUPTED:
        recorder.stepper.finish()
    if ps.transfer is not None and not hasattr(session.config, "workerinput"):
        ps.transfer.finish(ps.context_for(Path(session.config.args[0])), session.config.rootpath,
                           session.config.getoption("synth_report"))
    if ps.uses_tcp() and not hasattr(session.config, "workerinput"):
        from .tcp.cleanup import sweep

        sweep()  # what a crashed worker left in the kernel: controllers, namespaces


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    ps = _ps(config)
    if ps.transfer is not None:
        for line in ps.transfer.lines:
            terminalreporter.write_line(line)
    if ps.is_controller and ps.outcome is not None:
        from .reporting.terminal import summary_lines

        for line in summary_lines(ps.outcome, verbosity=config.getoption("verbose")):
            terminalreporter.write_line(line)
        # pytest's closing line counts what ran; a search runs candidates, not tests, and would
        # otherwise end with "no tests ran", which reads like a failure.
        o = ps.outcome
        for key, n in (("evaluated", o.evaluated), ("screened", o.screened), ("rejected", o.failed)):
            if n:
                terminalreporter.stats.setdefault(key, []).extend([_Counted()] * n)


class _Counted:
    """A stand-in report for pytest's closing line (``TerminalReporter.stats``)."""

    count_towards_summary = True
