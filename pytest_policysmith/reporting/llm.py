"""The summary's ``llm`` block: requests, tokens, cost, and how often the checker said yes."""

from __future__ import annotations

from ..outcomes import PASSED
from ..storage.archive import CandidateRow


def pass_rates(rows: list[CandidateRow], repairs: int) -> dict:
    """First-try and after-repair pass rates over generated conversations (seeds excluded).

    A conversation is a slot (round, index); it passes after k repairs if one of its
    first k+1 attempts passed the checker (was evaluated).
    """
    convs: dict[tuple[int, int], dict[int, str]] = {}
    for r in rows:
        if r.round > 0:
            convs.setdefault((r.round, r.idx), {})[r.attempt] = r.status
    n = len(convs)
    cumulative = []
    for k in range(repairs + 1):
        ok = sum(any(st in PASSED for a, st in c.items() if a <= k) for c in convs.values())
        cumulative.append(ok / n if n else 0.0)
    return {"conversations": n, "first_try_pass_rate": cumulative[0],
            "after_repair_pass_rate": cumulative[-1], "pass_rate_by_repairs": cumulative}


def llm_block(totals: dict, rows: list[CandidateRow], repairs: int) -> dict:
    dups = sum(bool(r.meta.get("duplicate")) for r in rows)
    return {**totals, **pass_rates(rows, repairs), "duplicate_replies": dups}
