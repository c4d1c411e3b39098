"""The one compile step: C source to a cached executable (gcc) or BPF object (clang).

Outputs are cached by the hash of (source, compiler identity, flags), so the same
candidate is never compiled twice, across rounds, workers and runs.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import CompileError, UsageError
from .paths import cache_dir
from .storage.files import scratch_dir, write_atomic

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
        package = {"ld": "binutils"}.get(cc, cc)
        raise UsageError(f"build tool {cc!r} not found on PATH; install it (Debian: apt-get install {package})")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else cc


BPF_FLAGS = ("-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86", "-Wall", "-Wno-unused-function",
             "-Wno-unused-variable", "-Wno-compare-distinct-pointer-types")


def compile_c(source: str, cc: str = "gcc", flags: tuple[str, ...] = CFLAGS) -> Binary:
    """Compile ``source`` to an executable; raise :class:`CompileError` with gcc's stderr."""
    return _compile(source, cc, list(flags), list(LIBS), "bin")


SHARED_LINK = ("ld", "-shared", "-lm")


def compile_shared(source: str, cc: str = "gcc") -> Binary:
    """Compile ``source`` to a shared object (a candidate that a compiled harness loads). The
    object is linked by ``ld`` itself: gcc's link step (collect2 and the C runtime's start files,
    which an object loaded by the harness does not use) took 18 of a candidate's 43 ms."""
    return _compile(source, cc, [*CFLAGS, "-fPIC", "-c"], [], "so", link=SHARED_LINK)


def compile_bpf(source: str, include_dir: Path, cc: str = "clang") -> Binary:
    """Compile BPF C (against ``include_dir/vmlinux.h``) to an object file for libbpf/bpftool."""
    ident = f"{include_dir / 'vmlinux.h'}:{(include_dir / 'vmlinux.h').stat().st_size}"
    return _compile(source, cc, [*BPF_FLAGS, "-I", str(include_dir), "-c"], [], "bpf", salt=ident)


def _compile(source: str, cc: str, flags: list[str], libs: list[str], kind: str, salt: str = "",
             link: tuple[str, ...] = ()) -> Binary:
    """``link``: a linker command run on the compiler's object (``ld -shared``), else none."""
    ident = [compiler_identity(cc), *([compiler_identity(link[0]), *link] if link else [])]
    key = hashlib.sha256("\0".join([*ident, salt, *flags, *libs, source]).encode()).hexdigest()
    out = cache_dir() / kind / key[:2] / key
    if out.exists():
        return Binary(out, key, 0.0, True)
    out.parent.mkdir(parents=True, exist_ok=True)
    with scratch_dir("ps-cc-") as tmp:
        src = Path(tmp) / "candidate_harness.c"
        src.write_text(source)
        obj = Path(tmp) / "out"
        t0 = time.perf_counter()
        proc = subprocess.run([cc, *flags, "-o", str(obj), str(src), *libs], capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            raise CompileError(f"{cc} failed with exit code {proc.returncode}", clean_stderr(proc.stderr, tmp))
        if link:
            linked = Path(tmp) / "linked"
            proc = subprocess.run([link[0], "-o", str(linked), str(obj), *link[1:]], capture_output=True, text=True,
                                  cwd=tmp)
            if proc.returncode != 0:
                raise CompileError(f"{link[0]} failed with exit code {proc.returncode}",
                                   clean_stderr(proc.stderr, tmp))
            obj = linked
        secs = time.perf_counter() - t0
        write_atomic(out, obj.read_bytes(), mode=0o755)
    return Binary(out, key, secs, False)


def clean_stderr(stderr: str, tmpdir: str) -> str:
    """Drop temp paths so feedback reads ``candidate.c:3:5: error: ...``."""
    return stderr.replace(f"{tmpdir}/", "").replace(tmpdir, ".")
