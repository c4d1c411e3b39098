"""What every GENERATOR takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from ..outcomes import Stop
from .expr import normalized_hash


DUPLICATE = ("Your code is the same as a heuristic already checked in this run (up to comments and spaces). "
             "Write a different one.")


@dataclass(frozen=True)
class Parent:
    """A scored candidate offered as a parent (lower score is better)."""

    id: str
    source: str
    score: float
    round: int = 0  # the round it was made in (generators that track stagnation or phases use it)
    idx: int = 0  # its slot index in that round (evolve's islands)


@dataclass(frozen=True)
class Failure:
    """A candidate the CHECKER rejected, offered back for repair with its feedback."""

    id: str
    idx: int
    source: str
    feedback: str
    meta: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Proposal:
    source: str
    parent_ids: tuple[str, ...] = ()
    origin: str = ""  # how it was made, e.g. "seed:lru", "mutate:const", "llm:improve", "llm:repair"
    meta: dict = field(default_factory=dict, compare=False, hash=False)  # e.g. the conversation
    error: str | None = None  # the reply held no usable code; this is its feedback
    idx: int | None = None  # its slot in the round (a repair: the slot it repairs); None: its place in the list


class Generator(Protocol):
    name: str
    repairs: int  # how many times a rejected candidate goes back for repair (0: never)
    stop: Stop | None  # set when the generator can give no more (budget spent, service down)
    pool: int  # how many of the best scored candidates it is shown as parents (at least --synth-parents)

    def propose(self, round_no: int, parents: list[Parent], n: int, seen: set[str]) -> list[Proposal]:
        """Up to ``n`` new candidates whose normalized hashes are not in ``seen``."""
        ...

    def repair(self, round_no: int, attempt: int, failures: list[Failure]) -> list[Proposal]:
        """One repaired candidate per failure it could repair (``Proposal.idx`` names the slot)."""
        ...


def mark_repeats(proposals: list[Proposal], seen: set[str]) -> list[Proposal]:
    """Proposals that repeat a candidate already in the run (or an earlier one in the list), up to
    comments and spaces, become rejected replies with ``DUPLICATE`` as feedback: nothing new is
    learned from checking them again."""
    taken, out = set(seen), []
    for p in proposals:
        if p.error is None:
            h = normalized_hash(p.source)
            if h in taken:
                p = replace(p, error=DUPLICATE, meta={**(p.meta or {}), "duplicate": True})
            taken.add(h)
        out.append(p)
    return out
