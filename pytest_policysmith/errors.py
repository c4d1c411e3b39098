"""Errors that should reach the user as a clear message, not a traceback."""

from __future__ import annotations

import difflib
from typing import Iterable


class UsageError(Exception):
    """Bad input from the user: a context, a trace, an option. The message says how to fix it."""


def close_match(word: str, choices: Iterable[object]) -> str | None:
    """The choice that ``word`` is probably a misspelling of, or None: what a usage error names as
    the likely fix for a field that is unknown, or missing while a near spelling is there."""
    found = difflib.get_close_matches(word, [c for c in choices if isinstance(c, str)], n=1, cutoff=0.7)
    return found[0] if found else None


def rename_hint(key: str, present: Iterable[object]) -> str:
    """"; it has 'X': rename that to 'KEY'" for a required ``key`` that is missing while a near spelling
    of it is ``present``, else ''."""
    typo = close_match(key, present)
    return f"; it has {typo!r}: rename that to {key!r}" if typo else ""


def did_you_mean(unknown: Iterable[object], known: Iterable[object], prefix: str = "") -> str:
    """'; did you mean X instead of Y' for each unknown name close to a known one, else ''."""
    choices = list(known)
    pairs = [(u, m) for u in sorted(k for k in unknown if isinstance(k, str)) if (m := close_match(u, choices))]
    return "; did you mean " + ", ".join(f"{prefix}{m} instead of {prefix}{u}" for u, m in pairs) if pairs else ""


class MissingData(UsageError):
    """A workload's data (a trace, say) that is neither in the store nor fetchable."""


class ArchiveWriteError(UsageError):
    """The archive could not be written (full disk, read-only path). Committed results are intact."""


class CompileError(Exception):
    """A candidate that the compiler rejected; ``stderr`` is the compiler's own text."""

    def __init__(self, message: str, stderr: str = ""):
        super().__init__(f"{message}\n{stderr}".rstrip())
        self.stderr = stderr


class EvaluationError(Exception):
    """A candidate that crashed or breached a limit while being scored; ``reason`` is its feedback."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SearchError(Exception):
    """The search could not finish; the message says what is kept and how to resume."""
