"""pytest hooks and options for pytest-policysmith. Only hooks live here; the work is elsewhere.

Three modes:
- regression (plain ``pytest contexts/X``): the context's tests run over its stored policies;
- controller (``--synthesize``): the search loop runs instead of the test loop;
- inner (``--synth-inner``, started by the controller): one round's rules and evaluations.
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
    g.addoption("--synth-generator", default=None, help="candidate generator: evolve (offline, default)")
    g.addoption("--synth-model", default=None, help="model name, for LLM generators (recorded with the run)")
    g.addoption("--synth-seed", type=int, default=0, help="random seed; the same seed gives the same run (default 0)")
    g.addoption("--synth-archive", default=None, help="SQLite archive (default: <rootdir>/.policysmith/archive.sqlite)")
    g.addoption("--synth-resume", nargs="?", const="latest", default=None, metavar="RUN_ID",
                help="resume an interrupted run (default: the context's latest)")
    g.addoption("--synth-accept", action="store_true", help="write the winner into the context's policies/ folder")
    g.addoption("--synth-json", default=None, metavar="PATH", help="write a run summary as JSON")
    g.addoption("--synth-traces", default=None, help="trace directories (os.pathsep-separated); default $POLICYSMITH_TRACES")
    g.addoption("--synth-inner", default=None, help=argparse.SUPPRESS)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "policysmith_gate: a regression gate (stored policies only, not in synthesis)")
    ps = PolicysmithSession(config)
    config.stash[KEY] = ps
    if ps.is_controller and not hasattr(config, "workerinput"):
        # -n belongs to the inner sessions; the controller itself runs no tests.
        n = getattr(config.option, "numprocesses", None)
        ps.workers = int(n) if isinstance(n, int) else 0
        if hasattr(config.option, "dist"):
            config.option.dist = "no"
            config.option.numprocesses = None


def _ps(config: pytest.Config) -> PolicysmithSession:
    return config.stash[KEY]


def pytest_sessionstart(session: pytest.Session) -> None:
    ps = _ps(session.config)
    if ps.inner is not None and not hasattr(session.config, "workerinput"):
        from .search.inner import Recorder
        from .storage.archive import Archive

        # The inner session's controller (xdist master, or the only process) records reports.
        _RECORDER.value = Recorder(Archive(ps.inner.archive), ps.inner.run_id)
    if ps.is_controller:
        from .search.controller import prepare

        try:
            ps.validate_options()
            prepare(ps, [Path(a) for a in session.config.args])
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None


def pytest_collection(session: pytest.Session):
    if _ps(session.config).is_controller:
        return True  # the controller collects nothing: rounds run in inner sessions
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
    cands = ps.candidates_for(ctx)
    if ps.inner is not None:
        ps.inner_candidates = cands
    ids = [c.id for c in cands]
    metafunc.parametrize("candidate", ids, ids=ids, indirect=True)


@pytest.fixture
def candidate(request: pytest.FixtureRequest):
    """The heuristic under test: a stored policy (regression) or a round's candidate (synthesis)."""
    ps = _ps(request.config)
    ctx = ps.context_for(request.node.path)
    for cand in ps.candidates_for(ctx):
        if cand.id == request.param:
            return cand
    raise LookupError(request.param)


@pytest.fixture
def policysmith_evaluation(candidate, request):
    """The candidate's score on the context's traces (cached per session)."""
    return _ps(request.config).evaluation(candidate)


@pytest.fixture
def policysmith_baselines(candidate, request):
    """trace -> policy -> BaselineResult for the context's gate (and Belady)."""
    return _ps(request.config).baselines(candidate.context)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    ps = _ps(config)
    if ps.inner is None:
        return
    from .search.inner import add_evaluation_items

    kept = [it for it in items if it.get_closest_marker("policysmith_gate") is None]
    config.hook.pytest_deselected(items=[it for it in items if it not in kept])
    items[:] = kept
    if not ps.inner_candidates:
        ctx = ps.context_for(Path(config.args[0]))
        ps.inner_candidates = ps.candidates_for(ctx) if ctx else []
    add_evaluation_items(session, items, ps)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    if _ps(item.config).inner is not None:
        from .search.inner import note_failure

        note_failure(item, outcome.get_result())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    recorder = getattr(_RECORDER, "value", None)
    if recorder is not None:
        recorder(report)


class _RECORDER:
    value = None


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
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ps = _ps(session.config)
    if ps.is_controller and ps.outcome is not None and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    ps = _ps(config)
    if ps.is_controller and ps.outcome is not None:
        from .reporting.terminal import summary_lines

        for line in summary_lines(ps.outcome, verbosity=config.getoption("verbose")):
            terminalreporter.write_line(line)
