"""Regression gate for the stored heuristics in policies/ (skipped during synthesis)."""

import pytest

from pytest_policysmith.checking.gate import assert_beats, assert_reproduces

pytestmark = pytest.mark.policysmith_gate


def test_reproduces_recorded_score(candidate, policysmith_evaluation):
    assert_reproduces(candidate, policysmith_evaluation)


def test_beats_gate_baselines(candidate, policysmith_evaluation, policysmith_baselines):
    assert_beats(candidate, policysmith_evaluation, policysmith_baselines)
