"""The run summary: the ``--synth-json`` contract, built from a finished search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..generators.simplify import body_size
from ..outcomes import Status, screened_as_clones
from ..domain import mean_proxy

if TYPE_CHECKING:
    from ..search.loop import SearchOutcome
from ..storage.files import write_atomic


def candidate_dict(row) -> dict | None:
    """A winner for the summary: its source, score and metrics, and how big it is."""
    if row is None:
        return None
    return {"id": row.id, "source": row.source, "score": row.score, "metrics": row.metrics, "origin": row.origin,
            "parents": list(row.parents), "size": body_size(row.source).as_dict()}


def summary_dict(o: SearchOutcome) -> dict:
    return {
        "context": o.context.name,
        "run_id": o.run_id,
        "generator": o.options.generator,
        "model": o.options.model,
        "seed": o.options.seed,
        "rounds": o.options.rounds,
        "candidates_per_round": o.options.candidates,
        "evaluated": o.evaluated,
        "passed_checks": o.passed,
        "failed_checks": o.failed,
        "wall_seconds": o.wall_seconds,
        "best": candidate_dict(o.winner),  # the simplified winner (what --synth-accept stores)
        "raw_best": candidate_dict(o.raw_best),  # the search's best score before simplification
        "baselines": {trace: {name: r.as_dict() for name, r in res.items()} for trace, res in o.baselines.items()},
        "baseline_timeouts": o.context.plugin.timeouts(o.baselines),
        "rounds_log": [{"round": r.round, "best_score": r.best_score, "pass_rate": r.pass_rate, "seconds": r.seconds,
                        "candidates": r.candidates} for r in o.rounds],
        "settings": o.settings,
        "stop_reason": o.stop.reason if o.stop else None,
        "stop_kind": str(o.stop.kind) if o.stop else None,
        "check_pass_rates": check_pass_rates(o.candidates),
        "cascade": cascade_block(o.candidates, o.context.plugin.cascade),
        "candidates": o.candidates,
        **({"llm": o.llm} if o.llm is not None else {}),
    }


def cascade_block(candidates: list[dict], settings: dict | None = None) -> dict | None:
    """How the cascade went: candidates screened on the sample (as clones of one scored in full, or
    above the bar), scored in full, and how well the sample's score ranks candidates (Spearman, over
    those that have both), overall and in the top 10%."""
    pairs = []
    for c in candidates:
        proxy = mean_proxy(c["metrics"])
        if c["status"] == Status.EVALUATED and proxy is not None:
            pairs.append((proxy, c["score"]))
    screened = sum(c["status"] == Status.SCREENED for c in candidates)
    if not pairs and not screened:
        return None
    pairs.sort(key=lambda p: p[1])
    top = pairs[:max(3, len(pairs) // 10)]
    return {**(settings or {}), "screened": screened, "screened_as_clones": screened_as_clones(candidates),
            "scored_in_full": len(pairs),
            "spearman": spearman(pairs), "spearman_top10pct": spearman(top)}


def spearman(pairs: list[tuple[float, float]]) -> float | None:
    """Rank correlation of (a, b) pairs (ties ranked by order)."""
    n = len(pairs)
    if n < 3:
        return None
    ra = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: pairs[i][0]))}
    rb = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: pairs[i][1]))}
    return 1 - 6 * sum((ra[i] - rb[i]) ** 2 for i in range(n)) / (n * (n * n - 1))


def check_pass_rates(candidates: list[dict]) -> dict[str, float]:
    """Per rule (e.g. test_compiles, test_verifier_accepts): the share of candidates that passed it."""
    seen: dict[str, list[bool]] = {}
    for c in candidates:
        for rule, outcome in c["checks"].items():
            seen.setdefault(rule, []).append(outcome == "passed")
    return {rule: sum(v) / len(v) for rule, v in sorted(seen.items())}


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, default=str))
