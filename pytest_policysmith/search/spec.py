"""What the controller hands the inner session: the run, its archive and the slots to fill.

A slot is a (round, index, attempt) place for one candidate, named ``r05c13`` (first try)
or ``r05c13a1`` (first repair, for generators that repair). The inner session collects
every remaining slot up front (pytest cannot add items later); a slot's candidate is
read from the archive once its round (or repair level) has been generated.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..storage.files import write_atomic

SLOT = re.compile(r"r(\d+)c(\d+)(?:a(\d+))?")


def slot_id(round_no: int, idx: int, attempt: int = 0) -> str:
    return f"r{round_no:02d}c{idx:02d}" + (f"a{attempt}" if attempt else "")


def parse_slot(slot: str) -> tuple[int, int, int]:
    """(round, index, attempt)."""
    m = SLOT.fullmatch(slot)
    if m is None:
        raise ValueError(f"not a slot id: {slot!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


@dataclass(frozen=True)
class InnerSpec:
    run_id: str
    archive: str
    traces_dirs: list[str]
    rounds: list[tuple[int, int, int]]  # (round, slots, attempts) for every round still to run, in order
    generator: str
    seed: int
    model: str | None
    candidates: int
    parents: int
    generator_options: dict | None = None
    search_rounds: int = 0  # the last search round; later rounds polish (see polish_rounds) and simplify the winner
    polish_rounds: int = 0  # rounds right after the search that count towards its best (simplify.polish_rounds)
    deaths_before: int = 0  # worker deaths recorded in the run before this session started
    inflight: str | None = None  # without xdist workers: the file naming the slot being run (deaths.InFlight)
    workload: str | None = None  # a per-workload search (Domain.split): the one workload this run searches

    def slots(self) -> list[str]:
        return [slot_id(r, i, a) for r, n, attempts in self.rounds for a in range(attempts) for i in range(n)]

    def dump(self, path: Path) -> None:
        write_atomic(path, json.dumps(asdict(self)))

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "InnerSpec":
        return cls(**{**d, "rounds": [tuple(r) for r in d["rounds"]]})

    @classmethod
    def load(cls, path: str) -> "InnerSpec":
        return cls.from_dict(json.loads(Path(path).read_text()))
