"""Regression mode (plain ``pytest contexts/X``): the context's tests over its stored policies."""

from __future__ import annotations

import pytest

from ..session import PolicysmithSession


class RegressionMode:
    def __init__(self, config: pytest.Config, ps: PolicysmithSession):
        self.config, self.ps = config, ps

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not hasattr(session.config, "workerinput"):
            self.ps.cleanup()
