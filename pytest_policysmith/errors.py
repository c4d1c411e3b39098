"""Errors that should reach the user as a clear message, not a traceback."""


class UsageError(Exception):
    """Bad input from the user: a context, a trace, an option. The message says how to fix it."""


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
