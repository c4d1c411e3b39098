"""What every GENERATOR takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Parent:
    """A scored candidate offered as a parent (lower score is better)."""

    id: str
    source: str
    score: float


@dataclass(frozen=True)
class Proposal:
    source: str
    parent_ids: tuple[str, ...] = ()
    origin: str = ""  # how it was made, e.g. "seed:lru", "mutate:const", "crossover"
    meta: dict = field(default_factory=dict, compare=False, hash=False)


class Generator(Protocol):
    name: str

    def propose(self, round_no: int, parents: list[Parent], n: int, seen: set[str]) -> list[Proposal]:
        """Up to ``n`` new candidates whose normalized hashes are not in ``seen``."""
        ...
