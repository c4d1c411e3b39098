"""The bin packing candidate: what its CHECKER rules call (a small packing)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pytest_policysmith import Candidate, Limits

from .instances import Instances, from_sizes, weibull
from .pack import PackResult, pack

CHECK_LIMITS = Limits(cpu_seconds=5, wall_seconds=10, address_space=1 << 30)


@dataclass
class BinPackCandidate(Candidate):
    def pack_tiny(self, items: int = 500, seed: int = 7) -> PackResult:
        """Pack one small Weibull instance with the checker's tight limits."""
        return pack(self.compile(), tiny(items, seed), CHECK_LIMITS)


@functools.lru_cache(maxsize=4)
def tiny(items: int, seed: int) -> Instances:
    """The checker's small instance, made once per process (every rule of every candidate packs it)."""
    return from_sizes(f"tiny-{items}-{seed}", weibull(1, items, seed))
