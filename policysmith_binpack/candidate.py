"""The bin packing candidate: what its CHECKER rules call (a small packing)."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_policysmith import Candidate, Limits

from .instances import from_sizes, weibull
from .pack import PackResult, pack

CHECK_LIMITS = Limits(cpu_seconds=5, wall_seconds=10, address_space=1 << 30)


@dataclass
class BinPackCandidate(Candidate):
    def pack_tiny(self, items: int = 500, seed: int = 7) -> PackResult:
        """Pack one small Weibull instance with the checker's tight limits."""
        inst = from_sizes(f"tiny-{items}-{seed}", weibull(1, items, seed))
        return pack(self.compile(), inst, CHECK_LIMITS)
