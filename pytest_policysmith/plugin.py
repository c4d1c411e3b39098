"""pytest hooks and options for pytest-policysmith. Only hooks live here; the work is elsewhere."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("policysmith", "policysmith: synthesize and gate heuristics")
    group.addoption("--synth-traces", default=None, help="trace directories (os.pathsep-separated); default $POLICYSMITH_TRACES")
