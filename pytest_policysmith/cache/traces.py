"""The trace store: find a trace, fetch it if missing, convert it once to dense arrays.

This is the project's one trace reader. Every consumer (simulator, checker, baselines,
benchmarks) goes through :func:`open_trace`, which returns a :class:`Trace` whose
``arrays_path`` is a compact binary file that the C simulator memory-maps.

Layout of the array file (little-endian): a 64-byte header
``b"PSTRACE1", n_req:u64, n_obj:u64, footprint_bytes:u64, flags:u64`` followed by
``obj[n_req]:u32`` (dense object ids, first-seen order) and ``size[n_req]:u32``.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import MissingData, close_match
from ..paths import TRACES_ENV, cache_dir
from ..storage.files import write_atomic

ARRAY_MAGIC = b"PSTRACE1"
ARRAY_FORMAT_VERSION = 1
HEADER = struct.Struct("<8sQQQQ24x")  # 64 bytes
ORACLE_GENERAL_DTYPE = np.dtype(
    [("clock_time", "<u4"), ("obj_id", "<u8"), ("obj_size", "<u4"), ("next_access_vtime", "<i8")]
)
S3_BUCKET = "cache-datasets"
# dataset folder name -> key prefix in libCacheSim's public S3 hub.
PUBLIC_DATASETS = {
    "cloudphysics": "cache_dataset_oracleGeneral/2015_cloudphysics",
    "msr": "cache_dataset_oracleGeneral/2007_msr",
    "fiu": "cache_dataset_oracleGeneral/2010_fiu",
    "systor": "cache_dataset_oracleGeneral/2017_systor",
    "tencent_block": "cache_dataset_oracleGeneral/2020_tencentBlock",
    "alibaba_block": "cache_dataset_oracleGeneral/2020_alibabaBlock",
    "twitter": "cache_dataset_oracleGeneral/2020_twitter",
    "wiki": "cache_dataset_oracleGeneral/2019_wiki",
}
SYNTHETIC_NAME = "synthetic/zipf_scan"  # generated on the fly: the offline default
NOT_TRACES = ("LICENSE", "README", "MANIFEST", "NOTICE", "COPYING")  # documentation beside traces
SUFFIXES = (".oracleGeneral.bin.zst", ".oracleGeneral.zst", ".oracleGeneral.bin", ".oracleGeneral", ".csv", ".txt")


class TraceError(MissingData):
    """A trace that cannot be found, fetched or read."""


@dataclass(frozen=True)
class Trace:
    """A converted trace: what the simulator and the archive need to know about it."""

    name: str
    source: Path
    sha256: str
    arrays_path: Path
    n_requests: int
    n_objects: int
    footprint_bytes: int

    def footprint(self, ignore_size: bool) -> int:
        """Unique objects when sizes are ignored, else the bytes of first-seen sizes."""
        return self.n_objects if ignore_size else self.footprint_bytes

    def load_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense object ids and sizes, memory-mapped."""
        mm = np.memmap(self.arrays_path, dtype="<u4", mode="r", offset=HEADER.size)
        return mm[: self.n_requests], mm[self.n_requests : 2 * self.n_requests]


def dataset_traces(spec: str, dirs: Iterable[Path] = ()) -> list[str]:
    """Every trace in a dataset: a folder path, or a dataset name under the trace directories.

    Returns trace references ``open_trace`` accepts (file paths), sorted by name.
    """
    roots = [Path(spec).expanduser()] if Path(spec).expanduser().is_dir() else \
        [Path(d) / spec for d in dirs if (Path(d) / spec).is_dir()]
    if not roots and spec in ("all", "*"):
        roots = [Path(d) for d in dirs if Path(d).is_dir()]
    files = sorted({str(f) for f in trace_files(roots)})
    if not files:
        where = searched(dirs)
        raise TraceError(f"--transfer {spec!r}: no traces found; give a folder of traces (*.oracleGeneral.bin.zst, "
                         f"*.csv, ...) or a dataset folder name under the trace directories: {where}")
    return files


def searched(dirs: Iterable[Path]) -> str:
    """The trace folders an error names, each one that does not exist marked so (a mistyped path)."""
    shown = [f"{d}{'' if Path(d).is_dir() else ' (no such folder)'}" for d in dirs]
    return ", ".join(shown) or f"(none: set --synth-traces or ${TRACES_ENV})"


def trace_label(path: str) -> str:
    """``dataset/name`` for a file in a trace directory tree (its folder and stem)."""
    p = Path(path)
    stem = p.name
    for suffix in SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return f"{p.parent.name}/{stem}"


PATTERN_CHARS = "*?["


def expand(names: Iterable[str], dirs: Iterable[Path] = ()) -> list[str]:
    """Trace names with patterns (``lirs/*``, ``*/*``) resolved in the trace store: every
    ``dataset/name`` whose file matches, in name order; plain names pass through unchanged.
    A pattern that matches nothing is an error naming it and the folders searched."""
    dirs = [Path(d) for d in dirs]
    out: list[str] = []
    for name in names:
        if not any(c in name for c in PATTERN_CHARS):
            out.append(name)
            continue
        found = sorted(label for label in store_labels(dirs) if fnmatch.fnmatchcase(label, name))
        if not found:
            where = searched(dirs)
            raise TraceError(f"trace pattern {name!r} matches no trace in the trace store: {where}; "
                             f"point --synth-traces (or ${TRACES_ENV}) at the folder that holds the "
                             "<dataset>/<name>.oracleGeneral.bin.zst files, or list the traces by name")
        out.extend(found)
    return list(dict.fromkeys(out))


def trace_files(dirs: Iterable[Path]) -> Iterator[Path]:
    """Every trace file below these folders (not the manifest or baseline tables beside them)."""
    return (f for d in dirs for f in Path(d).rglob("*")
            if f.is_file() and f.name.endswith(SUFFIXES) and not f.name.upper().startswith(NOT_TRACES))


def store_labels(dirs: Iterable[Path]) -> set[str]:
    """The ``dataset/name`` of every trace file in the trace store's folders."""
    return {trace_label(str(f)) for f in trace_files(dirs)}


def public_url(name: str) -> str | None:
    """The S3 URI of a ``dataset/name`` trace in libCacheSim's public hub, if it has one."""
    dataset, _, base = name.partition("/")
    prefix = PUBLIC_DATASETS.get(dataset)
    if not prefix or not base:
        return None
    return f"s3://{S3_BUCKET}/{prefix}/{base}.oracleGeneral.bin.zst"


def resolve(name: str, dirs: Iterable[Path] = (), download: bool = True) -> Path:
    """Turn a trace name (``dataset/name``) or a file path into an existing file.

    Looks in ``dirs``, then in the download cache, then downloads from the public
    hub. Raises :class:`TraceError` naming everything it tried.
    """
    dirs = [Path(d) for d in dirs]
    direct = Path(name).expanduser()
    if direct.is_file():
        return direct
    if name == SYNTHETIC_NAME:
        dest = cache_dir() / "synthetic" / "zipf_scan.oracleGeneral.bin.zst"
        return dest if dest.is_file() else synthetic_trace(dest)
    for root in [*dirs, cache_dir() / "downloads"]:
        for suffix in ("", *SUFFIXES):
            cand = root / f"{name}{suffix}"
            if cand.is_file():
                return cand
    url = public_url(name)
    if url and download:
        try:
            return _download(name, url)
        except Exception as exc:  # network errors come in many types
            reason = f"download from {url} failed: {exc}"
    else:
        reason = "no public dataset is known for this name" if not url else "download disabled"
    where = searched(dirs)
    near = close_match(name, store_labels(dirs))
    raise TraceError(
        f"trace {name!r} not found.\n  searched directories: {where}\n  {reason}\n"
        + (f"  did you mean {near!r}? It is in the store.\n" if near else "")
        + f"  fix: put the file at <dir>/{name}.oracleGeneral.bin.zst under one of the searched "
        f"directories, pass --synth-traces DIR (or set {TRACES_ENV}), or give a file path"
        + (f"; the public copy is {url}" if url else "")
    )


def _download(name: str, url: str) -> Path:
    """Fetch through libcachesim's S3 hub loader (boto3, unsigned), into our cache."""
    from libcachesim._s3_cache import _DataLoader

    key = url.split(f"s3://{S3_BUCKET}/", 1)[1]
    loader = _DataLoader(S3_BUCKET, cache_dir=cache_dir() / "hub")
    fetched = Path(loader.get_cached_path(key))
    dest = cache_dir() / "downloads" / f"{name}.oracleGeneral.bin.zst"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        if fetched.stat().st_dev == dest.parent.stat().st_dev:
            os.link(fetched, dest)
        else:
            dest.write_bytes(fetched.read_bytes())
    return dest


def sha256_file(path: Path) -> str:
    """The file's checksum, computed once per file version (device, inode, size, mtime) in a process:
    every evaluation opens its context's traces, and hashing w106's 27 MB each time cost a worker
    several CPU-seconds per run."""
    st = path.stat()
    return _sha256_of_version(str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=1024)
def _sha256_of_version(path: str, dev: int, ino: int, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def open_trace(name: str, dirs: Iterable[Path] = (), download: bool = True) -> Trace:
    """Resolve, checksum and (once per checksum) convert a trace to the array form."""
    source = resolve(name, dirs, download)
    digest = sha256_file(source)
    arrays = cache_dir() / "arrays" / f"{digest}.v{ARRAY_FORMAT_VERSION}.pstrace"
    meta_path = arrays.with_suffix(".json")
    if not (arrays.exists() and meta_path.exists()):
        # Decompressed once: the conversion reads it, and so do libCacheSim's baselines after it.
        obj_ids, sizes = read_requests(_plain_copy(source, digest))
        meta = _write_arrays(arrays, obj_ids, sizes)
        write_atomic(meta_path, json.dumps(meta).encode())
    meta = json.loads(meta_path.read_text())
    return Trace(name, source, digest, arrays, meta["n_requests"], meta["n_objects"], meta["footprint_bytes"])


def libcachesim_input(trace: Trace) -> Path:
    """The file libCacheSim's baselines read: the decompressed copy for a zstd-compressed oracleGeneral
    trace (see :func:`_plain_copy`), so that the thirty-odd baseline processes do not each run zstd
    (0.1 s apiece on w106); the requests are the same bytes."""
    return _plain_copy(trace.source, trace.sha256)


def _plain_copy(source: Path, digest: str) -> Path:
    """A .zst oracleGeneral trace decompressed once per checksum into the cache, checked whole (a cut or
    corrupt stream is refused here, naming ``source``); any other trace is read where it is."""
    if trace_format(source) != "oracleGeneral" or not source.name.endswith(".zst"):
        return source
    dest = cache_dir() / "arrays" / f"{digest}.oracleGeneral.bin"
    if not dest.exists():
        raw = _oracle_general_bytes(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, raw)
    return dest


SAMPLE_HASH = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing of the dense object ids


def sampled_trace(trace: Trace, rate: float) -> Trace:
    """A spatially hashed sample of ``trace``'s objects (as SHARDS does for miss-ratio curves): every
    request of about ``rate`` of the objects, in order. Cached beside the trace's own arrays."""
    buckets = 1 << 16
    keep = max(1, round(rate * buckets))
    dest = trace.arrays_path.with_name(f"{trace.sha256}.v{ARRAY_FORMAT_VERSION}.shards{keep}.pstrace")
    meta_path = dest.with_suffix(".json")
    if not (dest.exists() and meta_path.exists()):
        ids, sizes = trace.load_arrays()
        mask = ((ids.astype(np.uint64) * SAMPLE_HASH) >> np.uint64(48)) < np.uint64(keep)
        meta = _write_arrays(dest, ids[mask].astype(np.uint64), np.asarray(sizes[mask]))
        write_atomic(meta_path, json.dumps(meta).encode())
    meta = json.loads(meta_path.read_text())
    return Trace(f"{trace.name}#sample{rate:g}", trace.source, trace.sha256, dest, meta["n_requests"],
                 meta["n_objects"], meta["footprint_bytes"])


def trace_format(path: Path) -> str:
    """oracleGeneral, csv or txt, from the file name (as libCacheSim's cachesim does)."""
    n = path.name
    if ".oracleGeneral" in n:
        return "oracleGeneral"
    if n.endswith((".csv", ".csv.zst")):
        return "csv"
    if n.endswith((".txt", ".txt.zst")):
        return "txt"
    raise TraceError(
        f"{path}: cannot tell the trace format from its name; name it *.oracleGeneral.bin[.zst], *.csv or *.txt"
    )


def read_requests(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(obj_id uint64, obj_size uint32) for every request libCacheSim would count."""
    fmt = trace_format(path)
    if fmt == "oracleGeneral":
        recs = _read_oracle_general(path)
        keep = recs["obj_size"] != 0  # libCacheSim's ignore_size_zero_req default
        return recs["obj_id"][keep], recs["obj_size"][keep]
    _check_text_trace(path, fmt)
    return _read_with_libcachesim(path, fmt)


def _check_text_trace(path: Path, fmt: str, lines: int = 200) -> None:
    """Refuse text that is not a trace before libCacheSim's reader sees it (it can crash on garbage)."""
    with open(path, "r", errors="replace") as f:
        head = [ln.strip() for _, ln in zip(range(lines), f) if ln.strip()]
    rows = head[1:] if fmt == "csv" and _csv_has_header(path) else head
    for k, ln in enumerate(rows):
        fields = ln.split(",") if fmt == "csv" else [ln]
        if not all(x.strip().lstrip("-").isdigit() for x in fields if x.strip()):
            raise TraceError(f"{path}: line {k + 1 + (len(head) - len(rows))} is not a {fmt} trace record "
                             f"({ln[:60]!r}); {fmt} traces hold numbers only (txt: one object id per line; "
                             "csv: time,obj_id,obj_size)")
    if not rows:
        raise TraceError(f"{path}: empty {fmt} trace")


def _read_oracle_general(path: Path) -> np.ndarray:
    """Decode oracleGeneral records, refusing truncated or corrupt files.

    libCacheSim itself reads a truncated .zst silently short and hangs on garbage,
    so the frame and record size are checked here before any number is trusted.
    """
    return np.frombuffer(_oracle_general_bytes(path), dtype=ORACLE_GENERAL_DTYPE)


def _oracle_general_bytes(path: Path) -> bytes:
    """The file's records, decompressed if it is .zst, refused unless they are whole 24-byte records."""
    raw = path.read_bytes()
    if path.name.endswith(".zst"):
        raw = _decompress_zstd(path, raw)
    if len(raw) == 0 or len(raw) % ORACLE_GENERAL_DTYPE.itemsize:
        raise TraceError(
            f"{path}: {len(raw)} bytes is not a whole number of 24-byte oracleGeneral records; "
            "the file is truncated or not in oracleGeneral format"
        )
    return raw


def _decompress_zstd(path: Path, raw: bytes) -> bytes:
    """Decompress every frame, failing loudly on a cut or corrupt stream."""
    import zstandard

    out: list[bytes] = []
    while raw:
        dobj = zstandard.ZstdDecompressor().decompressobj()
        try:
            out.append(dobj.decompress(raw))
        except zstandard.ZstdError as exc:
            raise TraceError(f"{path}: corrupt zstd data ({exc}); re-download or re-compress the trace") from exc
        if not dobj.eof:
            raise TraceError(f"{path}: truncated zstd stream (the last frame is incomplete); re-download the trace")
        raw = dobj.unused_data
    return b"".join(out)


def libcachesim_reader(path: Path, ignore_size: bool = False):
    """A libcachesim TraceReader for ``path``, with the field layout this store assumes.

    csv traces are read as ``time,obj_id,obj_size`` (header detected), as cachesim's
    default csv layout; txt traces as one object id per line.
    """
    import libcachesim as lcs

    fmt = trace_format(path)
    ttype = {
        "oracleGeneral": lcs.TraceType.ORACLE_GENERAL_TRACE,
        "csv": lcs.TraceType.CSV_TRACE,
        "txt": lcs.TraceType.PLAIN_TXT_TRACE,
    }[fmt]
    params = lcs.ReaderInitParam(ignore_obj_size=ignore_size)
    if fmt == "csv":
        params.time_field, params.obj_id_field, params.obj_size_field = 1, 2, 3
        params.has_header, params.has_header_set = _csv_has_header(path), True
    return lcs.TraceReader(str(path), ttype, params)


def _read_with_libcachesim(path: Path, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    ids, sizes = [], []
    for req in libcachesim_reader(path):
        ids.append(req.obj_id)
        sizes.append(req.obj_size)
    if not ids:
        raise TraceError(f"{path}: libCacheSim read no requests from this {fmt} trace")
    return np.asarray(ids, dtype=np.uint64), np.asarray(sizes, dtype=np.uint32)


def _csv_has_header(path: Path) -> bool:
    with open(path, "r", errors="replace") as f:
        first = f.readline().split(",")
    return not all(tok.strip().lstrip("-").isdigit() for tok in first if tok.strip())


def _write_arrays(dest: Path, obj_ids: np.ndarray, sizes: np.ndarray) -> dict:
    uniq, first_idx, dense = np.unique(obj_ids, return_index=True, return_inverse=True)
    # Renumber in first-seen order so ids are stable and locality-friendly.
    order = np.argsort(first_idx, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    dense = rank[dense].astype("<u4")
    footprint = int(sizes[first_idx].astype(np.uint64).sum())
    meta = {"n_requests": int(len(dense)), "n_objects": int(len(uniq)), "footprint_bytes": footprint}
    header = HEADER.pack(ARRAY_MAGIC, meta["n_requests"], meta["n_objects"], footprint, 0)
    write_atomic(dest, [header, dense.tobytes(), sizes.astype("<u4").tobytes()])
    return meta


def synthetic_trace(dest: Path, n_requests: int = 200_000, n_objects: int = 20_000, seed: int = 1) -> Path:
    """A small Zipf-plus-scan oracleGeneral trace, for machines that have no trace at all."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, n_objects + 1, dtype=np.float64)
    p = ranks**-0.9
    p /= p.sum()
    ids = rng.choice(n_objects, size=n_requests, p=p).astype(np.uint64)
    # Sprinkle sequential scans, which punish pure recency.
    for start in rng.integers(0, n_requests - 2000, size=max(1, n_requests // 20_000)):
        ids[start : start + 1000] = n_objects + np.arange(start, start + 1000, dtype=np.uint64)
    recs = np.zeros(n_requests, dtype=ORACLE_GENERAL_DTYPE)
    recs["clock_time"] = np.arange(n_requests)
    recs["obj_id"] = ids
    recs["obj_size"] = 4096
    recs["next_access_vtime"] = _next_access(ids)
    import zstandard

    write_atomic(dest, zstandard.ZstdCompressor(level=3).compress(recs.tobytes()))
    return dest


def _next_access(ids: np.ndarray) -> np.ndarray:
    """libCacheSim's 1-based next-access positions, -1 for a last access."""
    nxt = np.full(len(ids), -1, dtype=np.int64)
    last: dict[int, int] = {}
    for i in range(len(ids) - 1, -1, -1):
        k = int(ids[i])
        if k in last:
            nxt[i] = last[k] + 1
        last[k] = i
    return nxt
