"""The one place that turns a failed pytest report into feedback text for a generator."""

from __future__ import annotations

import re

import pytest

LIMIT = 1500


def feedback_from_report(report: pytest.TestReport, limit: int = LIMIT) -> str:
    """The failed assertion as pytest explained it (or the compiler's stderr), trimmed."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and crash.message:
        text = crash.message
    elif isinstance(longrepr, tuple):  # skip reports: (path, lineno, reason)
        text = str(longrepr[2])
    else:
        text = str(longrepr or "")
    return trim(_strip_ansi(text), limit)


def trim(text: str, limit: int = LIMIT) -> str:
    """Keep the head and the tail: the error line and where it ended up."""
    text = text.strip()
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
