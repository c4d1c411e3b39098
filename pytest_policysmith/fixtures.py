"""The fixtures a context's tests use. Registered only once a context's conftest is loaded, so a
project that does not use the plugin sees no ``candidate`` fixture."""

from __future__ import annotations

import pytest

from .errors import UsageError
from .session import KEY


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "candidate" not in metafunc.fixturenames:
        return
    ps = metafunc.config.stash[KEY]
    try:  # a bad declaration or stored policy: the message alone, for each test file
        ctx = ps.context_for(metafunc.definition.path)
        if ctx is None:
            return
        ids = ps.source.ids(ctx)
    except UsageError as exc:
        raise pytest.Collector.CollectError(str(exc)) from None
    if not ids:  # one skip that says why and what to do (pytest's own says only "empty parameter set")
        skip = pytest.mark.skip(reason=ps.source.why_none(ctx))
        metafunc.parametrize("candidate", [pytest.param(None, marks=skip)], ids=["none"], indirect=True)
        return
    metafunc.parametrize("candidate", ids, ids=ids, indirect=True)


@pytest.fixture
def candidate(request: pytest.FixtureRequest):
    """The heuristic under test: a stored policy (regression) or a slot's candidate (synthesis)."""
    return request.config.stash[KEY].candidate(request.param, request.node.path)


@pytest.fixture
def policysmith_evaluation(candidate, request: pytest.FixtureRequest):
    """The candidate's score on the context's workloads (cached per session). The score rides on the
    test's report, for the run's summary (reporting/gate.py)."""
    from .reporting.gate import score_property

    ps = request.config.stash[KEY]
    ev = ps.gate_work(candidate.context, lambda: ps.evaluation(candidate))
    request.node.user_properties.append(score_property(candidate.id, candidate.context, ev))
    return ev


@pytest.fixture
def policysmith_remeasure(candidate, request: pytest.FixtureRequest):
    """What measures the candidate again, afresh, where its domain's measurements are noisy
    (``Domain.remeasure``): the regression gate confirms a score off its record before it fails."""
    ps = request.config.stash[KEY]
    return lambda: ps.gate_work(candidate.context, lambda: ps.fresh_evaluation(candidate))


@pytest.fixture
def policysmith_baselines(candidate, request: pytest.FixtureRequest):
    """workload -> policy -> result for the context's gate (and the domain's references); the gate's
    scores ride on the test's report, as the candidate's do."""
    from .reporting.gate import gate_property

    ps = request.config.stash[KEY]
    res = ps.gate_work(candidate.context, lambda: ps.baselines(candidate.context))
    request.node.user_properties.append(gate_property(candidate.context, res))
    return res


@pytest.fixture
def policysmith_rerecord(request: pytest.FixtureRequest):
    """In a regression run with ``--synth-accept``: what records a stored policy's score where its
    recorded one does not apply (``modes/record.py``); otherwise None."""
    from .modes.record import PLUGIN_NAME

    mode = request.config.pluginmanager.get_plugin(PLUGIN_NAME)
    return mode.recorder(request.node) if mode is not None else None
