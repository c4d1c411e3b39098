"""The one compile step: C source to a cached executable.

Binaries are cached by the hash of (source, compiler identity, flags), so the same
candidate is never compiled twice, across rounds, workers and runs.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import CompileError, UsageError
from .paths import cache_dir

CFLAGS = ("-O2", "-std=gnu11", "-Wall", "-Wno-unused-parameter", "-Wno-unused-variable", "-Wno-unused-function")
LIBS = ("-lm",)


@dataclass(frozen=True)
class Binary:
    path: Path
    source_sha256: str
    compile_seconds: float  # 0.0 when it came from the cache
    cached: bool


@functools.lru_cache(maxsize=None)
def compiler_identity(cc: str = "gcc") -> str:
    exe = shutil.which(cc)
    if exe is None:
        raise UsageError(f"C compiler {cc!r} not found on PATH; install it (Debian: apt-get install gcc)")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else cc


def compile_c(source: str, cc: str = "gcc", flags: tuple[str, ...] = CFLAGS) -> Binary:
    """Compile ``source`` to an executable; raise :class:`CompileError` with gcc's stderr."""
    key = hashlib.sha256("\0".join([compiler_identity(cc), *flags, *LIBS, source]).encode()).hexdigest()
    out = cache_dir() / "bin" / key[:2] / key
    if out.exists():
        return Binary(out, key, 0.0, True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ps-cc-") as tmp:
        src = Path(tmp) / "candidate_harness.c"
        src.write_text(source)
        exe = Path(tmp) / "sim"
        t0 = time.perf_counter()
        proc = subprocess.run([cc, *flags, "-o", str(exe), str(src), *LIBS], capture_output=True, text=True, cwd=tmp)
        secs = time.perf_counter() - t0
        if proc.returncode != 0:
            raise CompileError(f"{cc} failed with exit code {proc.returncode}", clean_stderr(proc.stderr, tmp))
        staged = out.with_name(f".{key}.{os.getpid()}.tmp")
        shutil.copy2(exe, staged)
        os.replace(staged, out)
    return Binary(out, key, secs, False)


def clean_stderr(stderr: str, tmpdir: str) -> str:
    """Drop temp paths so feedback reads ``candidate.c:3:5: error: ...``."""
    return stderr.replace(f"{tmpdir}/", "").replace(tmpdir, ".")
