"""Bin packing instances: generated from a seed as FunSearch does, or a published set (OR-Library's
OR3, FunSearch's own Weibull 5k instances), shipped in data/ with their sources.

FunSearch's Weibull instances: item sizes drawn from Weibull(shape 3, scale 45), rounded and
clipped to [1, 100], bins of capacity 100 ("Weibull 5k": 5 instances of 5,000 items).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pytest_policysmith import UsageError, cache_dir

DATA = Path(__file__).resolve().parent / "data"
SETS = ("weibull", "or3", "funsearch_weibull5k")  # generated; OR-Library's OR3; FunSearch's own Weibull 5k
WEIBULL = {"shape": 3.0, "scale": 45.0, "capacity": 100}


@dataclass(frozen=True)
class Instances:
    """A set of instances written as one input file for the harness."""

    name: str  # e.g. "weibull-5x5000-seed0", "or3"
    path: Path
    sha256: str
    capacities: tuple[int, ...]
    sizes: tuple[tuple[int, ...], ...]

    @property
    def l1(self) -> list[int]:
        """The L1 lower bound per instance: ceil(sum of sizes / capacity)."""
        return [math.ceil(sum(s) / c) for s, c in zip(self.sizes, self.capacities)]


def weibull(count: int, items: int, seed: int) -> list[tuple[int, list[int]]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        raw = rng.weibull(WEIBULL["shape"], items) * WEIBULL["scale"]
        sizes = np.clip(np.round(raw), 1, WEIBULL["capacity"]).astype(int)
        out.append((int(WEIBULL["capacity"]), [int(x) for x in sizes]))
    return out


def packaged(name: str) -> list[tuple[int, list[int]]]:
    """A published set shipped with the package (data/NAME.json says where it comes from)."""
    data = json.loads((DATA / f"{name}.json").read_text())
    return [(v["capacity"], v["items"]) for _, v in sorted(data["instances"].items())]


@functools.lru_cache(maxsize=8)
def load(kind: str, count: int, items: int, seed: int) -> Instances:
    """The instances a context names, written once to the cache (keyed by their bytes), and made once
    per process: every evaluation reads them."""
    if kind == "weibull":
        raw, name = weibull(count, items, seed), f"weibull-{count}x{items}-seed{seed}"
    elif kind in SETS:
        raw, name = packaged(kind), kind
    else:
        raise UsageError(f"instances {kind!r} are not known; choose one of {', '.join(SETS)}")
    return from_sizes(name, raw)


def from_sizes(name: str, raw: list[tuple[int, list[int]]]) -> Instances:
    blob = struct.pack("<i", len(raw)) + b"".join(
        struct.pack(f"<ii{len(s)}i", c, len(s), *s) for c, s in raw)
    digest = hashlib.sha256(blob).hexdigest()
    path = cache_dir() / "binpack" / f"{digest}.bin"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    return Instances(name, path, digest, tuple(c for c, _ in raw), tuple(tuple(s) for _, s in raw))
