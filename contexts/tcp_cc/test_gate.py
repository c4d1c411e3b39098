"""Regression gate for the stored controllers: a real flow on the context's link (skipped during synthesis)."""

import pytest

from pytest_policysmith.checking.gate import assert_beats, assert_reproduces
from pytest_policysmith.tcp.capability import missing

pytestmark = [pytest.mark.policysmith_gate,
              pytest.mark.skipif(missing() is not None, reason=f"tcp gate cannot run here: {missing()}")]


def test_reproduces_recorded_score(candidate, policysmith_evaluation):
    assert_reproduces(candidate, policysmith_evaluation)


def test_beats_gate_baselines(candidate, policysmith_evaluation, policysmith_baselines):
    assert_beats(candidate, policysmith_evaluation, policysmith_baselines)
