"""The cache domain's candidate: what its CHECKER rules call (tiny simulations)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from ..checking.candidate import Candidate
from ..paths import cache_dir
from ..sandbox import Limits
from .simulator import SimResult, simulate
from .traces import Trace, open_trace, synthetic_trace

CHECK_LIMITS = Limits(cpu_seconds=5, wall_seconds=10, address_space=1 << 30)
TINY = {  # name -> (requests, objects, seed): small, deterministic, made on demand
    "zipf": (20_000, 2_000, 11),
    "loop": (1_000, 10, 0),
}


@dataclass
class CacheCandidate(Candidate):
    _tiny: dict = field(default_factory=dict, repr=False)  # (kind, capacity, limits) -> the first run's result

    def run(self, trace: Trace, capacity: int, ignore_size: bool = True, limits: Limits = CHECK_LIMITS) -> SimResult:
        return simulate(self.compile(), trace, capacity, ignore_size, limits=limits)

    def run_tiny(self, kind: str = "zipf", capacity: int = 100, limits: Limits = CHECK_LIMITS,
                 fresh: bool = False) -> SimResult:
        """Simulate on a tiny synthetic trace, with the checker's tight limits. Rules that ask for
        the same run share its result (a slot's rules run on one worker, on one candidate object);
        ``fresh`` runs it again in a new process, as a determinism rule must."""
        key = (kind, capacity, limits)
        if fresh or key not in self._tiny:
            result = self.run(tiny_trace(kind), capacity, True, limits)
            self._tiny.setdefault(key, result)
            return result
        return self._tiny[key]


def tiny_trace(kind: str) -> Trace:
    n_req, n_obj, seed = TINY[kind]
    dest = cache_dir() / "synthetic" / f"tiny_{kind}.oracleGeneral.bin.zst"
    if not dest.exists():
        if kind == "loop":
            _loop_trace(dest, n_req, n_obj)
        else:
            synthetic_trace(dest, n_req, n_obj, seed)
        _opened.cache_clear()
    return _opened(str(dest))


@functools.lru_cache(maxsize=8)
def _opened(dest: str) -> Trace:
    """A tiny trace opened once per process: every rule of every candidate reads one, and opening
    it hashes the file (about 0.3 ms each, a second per worker over a small search)."""
    return open_trace(dest)


def _loop_trace(dest: Path, n_req: int, n_obj: int) -> None:
    import numpy as np
    import zstandard

    from ..storage.files import write_atomic
    from .traces import ORACLE_GENERAL_DTYPE

    recs = np.zeros(n_req, dtype=ORACLE_GENERAL_DTYPE)
    recs["clock_time"] = np.arange(n_req)
    recs["obj_id"] = np.arange(n_req) % n_obj + 1
    recs["obj_size"] = 4096
    recs["next_access_vtime"] = -1
    write_atomic(dest, zstandard.ZstdCompressor().compress(recs.tobytes()))
