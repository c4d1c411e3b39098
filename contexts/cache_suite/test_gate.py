"""Regression gate for the stored heuristics in policies/ (skipped during synthesis)."""

from pytest_policysmith.checking.gate_tests import *  # noqa: F403
