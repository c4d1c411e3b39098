"""The tcp domain's CHECKER rules, shipped once: static rules, clang, then the kernel's BPF verifier.

A context pulls them in with ``from pytest_policysmith.tcp.checks import *  # noqa: F403``.
"""

import pytest

from ..checking.basic_checks import test_uses_only_declared_inputs  # noqa: F401
from .capability import compile_missing, missing


def test_compiles(candidate):
    if compile_missing():
        pytest.skip(compile_missing())
    candidate.compile()


def test_verifier_accepts(candidate):
    if missing():
        pytest.skip(missing())
    candidate.load()  # registers (the verifier runs), then unregisters by id
