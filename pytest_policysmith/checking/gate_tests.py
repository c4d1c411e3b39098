"""The regression gate, shipped once for every domain. A context pulls it in with

    from pytest_policysmith.checking.gate_tests import *  # noqa: F403

in its ``test_gate.py``. It runs on the stored policies only (never during synthesis) and
skips with the reason where the domain cannot run (no root for tcp, no trace store).
"""

import pytest

from .gate import assert_beats, assert_reproduces

pytestmark = pytest.mark.policysmith_gate


def test_reproduces_recorded_score(candidate, policysmith_evaluation, policysmith_rerecord, policysmith_remeasure):
    assert_reproduces(candidate, policysmith_evaluation, rerecord=policysmith_rerecord, again=policysmith_remeasure)


def test_beats_gate_baselines(candidate, policysmith_evaluation, policysmith_baselines):
    assert_beats(candidate, policysmith_evaluation, policysmith_baselines)
