"""The one compile step: C source to a cached executable (gcc) or BPF object (clang).

Outputs are cached by the hash of (source, compiler identity, flags), so the same
candidate is never compiled twice, across rounds, workers and runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from .errors import CompileError, UsageError
from .paths import cache_dir
from .storage.files import scratch_dir, write_atomic

# -pipe: gcc hands its assembly to as through a pipe, not a temporary file (3 of a 30 ms compile).
CFLAGS = ("-O2", "-pipe", "-std=gnu11", "-Wall", "-Wno-unused-parameter", "-Wno-unused-variable", "-Wno-unused-function")
LIBS = ("-lm",)


@dataclass(frozen=True)
class Binary:
    path: Path
    source_sha256: str
    compile_seconds: float  # 0.0 when it came from the cache
    cached: bool
    symbol: str | None = None  # a shared object's entry point (its own name in an object built for many)


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


SHARED_LINK = ("ld", "-shared")


def compile_shared(source: str, symbol: str, cc: str = "gcc") -> Binary:
    """Compile ``source`` to a shared object (a candidate that a compiled harness loads). The
    object is linked by ``ld`` itself: gcc's link step (collect2 and the C runtime's start files,
    which an object loaded by the harness does not use) took 18 of a candidate's 43 ms. ``symbol``
    is the entry point the source defines. A source
    that :func:`compile_shared_many` already compiled comes from that object, under its own name."""
    key = _key(source, cc, *_shared(cc))
    member = None if _path("so", key).exists() else _member(key)
    return member or replace(_compile(source, cc, *_shared(cc)), symbol=symbol)


def compile_shared_many(members: Sequence[tuple[str, str, str]], cc: str = "gcc", parts: int | None = None) -> int:
    """Compile many candidates with few compiler starts (gcc's start-up is most of a small compile:
    25 candidates take about 80 ms together, 30 ms each alone). ``members``: per candidate, the
    source :func:`compile_shared` would get, the same candidate rendered with names of its own, and
    its entry point's name there. They are split over ``parts`` compilers at once (default: one per
    core, at least two candidates each): a search's workers wait for a new round's compile with
    their cores idle. Only a speed-up: if the compiler rejects a part, nothing of it is recorded and
    each of its candidates later compiles alone, with its own errors. Returns how many it built."""
    todo = [(key, text, symbol) for source, text, symbol in members
            if not _path("so", key := _key(source, cc, *_shared(cc))).exists() and _member(key) is None]
    if len(todo) < 2:
        return 0
    n = max(1, min(parts or os.cpu_count() or 1, len(todo) // 2))
    chunks = [todo[i::n] for i in range(n)]
    with ThreadPoolExecutor(max_workers=n) as pool:
        return sum(pool.map(lambda chunk: _compile_part(chunk, cc), chunks))


def _compile_part(todo: Sequence[tuple[str, str, str]], cc: str) -> int:
    """One compiler start for these (key, text, symbol): one object, and a pointer per candidate into it."""
    try:
        built = _compile("\n".join(text for _, text, _ in todo), cc, *_shared(cc))
    except CompileError:
        return 0
    for key, _, symbol in todo:
        pointer = {"object": str(built.path.relative_to(cache_dir())), "symbol": symbol}
        write_atomic(_path("so", key).with_suffix(".member"), json.dumps(pointer).encode())
    return len(todo)


def _member(key: str) -> Binary | None:
    """The candidate with this key inside an object compiled for many, if there is one."""
    pointer = _path("so", key).with_suffix(".member")
    try:
        data = json.loads(pointer.read_text())
        obj = cache_dir() / data["object"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Binary(obj, key, 0.0, True, data["symbol"]) if obj.exists() else None


def _shared(cc: str) -> tuple[list[str], list[str], str, str, tuple[str, ...]]:
    """How a candidate's shared object is compiled: flags, libraries, cache kind, salt, link step."""
    return [*CFLAGS, "-fPIC", "-c"], [], "so", "", (*SHARED_LINK, _libm(cc))


@functools.lru_cache(maxsize=None)
def _libm(cc: str) -> str:
    """libm by its path, as ``-lm`` resolves it (its linker script names this file): ld skips
    searching and parsing the script, 4 ms of its 6 per candidate instead."""
    try:
        path = subprocess.run([cc, "-print-file-name=libm.so.6"], capture_output=True, text=True).stdout.strip()
    except OSError:  # no such compiler: compiler_identity says so, with how to fix it
        return "-lm"
    return path if os.path.isabs(path) else "-lm"


def compile_bpf(source: str, include_dir: Path, cc: str = "clang") -> Binary:
    """Compile BPF C (against ``include_dir/vmlinux.h``) to an object file for libbpf/bpftool."""
    ident = f"{include_dir / 'vmlinux.h'}:{(include_dir / 'vmlinux.h').stat().st_size}"
    return _compile(source, cc, [*BPF_FLAGS, "-I", str(include_dir), "-c"], [], "bpf", salt=ident)


def _key(source: str, cc: str, flags: list[str], libs: list[str], kind: str, salt: str = "",
         link: tuple[str, ...] = ()) -> str:
    """What a compiled file is cached under: the source, the tools' identities and every flag."""
    ident = [compiler_identity(cc), *([compiler_identity(link[0]), *link] if link else [])]
    return hashlib.sha256("\0".join([*ident, salt, *flags, *libs, source]).encode()).hexdigest()


def _path(kind: str, key: str) -> Path:
    return cache_dir() / kind / key[:2] / key


def _compile(source: str, cc: str, flags: list[str], libs: list[str], kind: str, salt: str = "",
             link: tuple[str, ...] = ()) -> Binary:
    """``link``: a linker command run on the compiler's object (``ld -shared``), else none."""
    key = _key(source, cc, flags, libs, kind, salt, link)
    out = _path(kind, key)
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
