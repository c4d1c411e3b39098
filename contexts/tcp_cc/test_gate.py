"""Regression gate for the stored controllers: a real flow on the context's link (skipped during synthesis,
and where this machine cannot load BPF controllers)."""

from pytest_policysmith.checking.gate_tests import *  # noqa: F403
