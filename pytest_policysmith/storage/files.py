"""Atomic file writes, the one way files are written: a reader sees the old file or the new
one, never half of one, and a write that fails (a full disk) leaves no temporary file behind.

Scratch folders are named after the process that made them, so the ones a killed process
(a SIGKILLed worker or controller) could not remove are swept by the next process.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable


def write_atomic(dest: Path, data: str | bytes | Iterable[bytes], mode: int = 0o644) -> Path:
    """Write ``data`` (text, bytes, or byte chunks) to ``dest`` through a temporary file beside it."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        with os.fdopen(fd, "wb") as f:
            chunks = [data.encode()] if isinstance(data, str) else [data] if isinstance(data, bytes) else data
            for chunk in chunks:
                f.write(chunk)
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(dest)) from exc  # name the file meant, not the temporary
        raise
    return dest


def scratch_dir(prefix: str) -> tempfile.TemporaryDirectory:
    """A temporary folder named ``{prefix}{pid}-…``; first sweeps those of processes that are gone."""
    _sweep_dead(prefix)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")


@functools.lru_cache(maxsize=None)
def _sweep_dead(prefix: str) -> None:
    """Once per process and prefix: remove scratch folders whose owner no longer runs."""
    for d in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        owner = d.name[len(prefix):].split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
