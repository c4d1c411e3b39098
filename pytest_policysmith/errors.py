"""Errors that should reach the user as a clear message, not a traceback."""


class UsageError(Exception):
    """Bad input from the user: a context, a trace, an option. The message says how to fix it."""


class ArchiveWriteError(UsageError):
    """The archive could not be written (full disk, read-only path). Committed results are intact."""


class CompileError(Exception):
    """A candidate that the compiler rejected; ``stderr`` is the compiler's own text."""

    def __init__(self, message: str, stderr: str = ""):
        super().__init__(f"{message}\n{stderr}".rstrip())
        self.stderr = stderr
