"""Candidate statuses and stop reasons as types: decisions are made on these, never on message text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """A candidate's state in the archive (stored as its text)."""

    PENDING = "pending"  # generated, not settled yet
    EVALUATED = "evaluated"  # passed the checker and was scored in full
    SCREENED = "screened"  # passed the checker; the cheap first stage ruled it out
    FAILED = "failed"  # the checker rejected it (its feedback says why)
    ERROR = "error"  # no verdict: it crashed or was never run


PASSED = (Status.EVALUATED, Status.SCREENED)  # the CHECKER accepted these
REJECTED = (Status.FAILED, Status.ERROR)


def screened_as_clones(candidates: list[dict]) -> int:
    """Candidates (archive rows as dicts) the cascade screened as clones of one scored in full:
    the terminal line and the summary's cascade block both count them, so one place does."""
    return sum(c["status"] == Status.SCREENED and bool(c.get("clone_of")) for c in candidates)


class StopKind(StrEnum):
    """Why a run stopped before its last round."""

    BUDGET = "budget"  # a spending limit the user set (--synth-max-cost/--synth-max-tokens): a clean stop
    SERVICE = "service"  # the LLM service failed
    NO_SEED = "no_seed"  # no seed passed the checker: nothing to search from
    GENERATOR = "generator"  # the generator could give no more
    BASELINES = "baselines"  # the baselines shown beside the search failed (the controller raises why)

    @property
    def is_failure(self) -> bool:
        return self is not StopKind.BUDGET


@dataclass(frozen=True)
class Stop:
    kind: StopKind
    reason: str  # for people: what happened and what is kept
