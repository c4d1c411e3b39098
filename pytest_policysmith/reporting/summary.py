"""The run summary: the ``--synth-json`` contract, built from a finished search."""

from __future__ import annotations

import json
from pathlib import Path

from ..search.loop import SearchOutcome
from ..storage.files import write_atomic


def summary_dict(o: SearchOutcome) -> dict:
    w = o.winner
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
        "best": None if w is None else {"id": w.id, "source": w.source, "score": w.score, "metrics": w.metrics,
                                        "origin": w.origin, "parents": list(w.parents)},
        "baselines": {trace: {name: r.as_dict() for name, r in res.items()} for trace, res in o.baselines.items()},
        "rounds_log": [{"round": r.round, "best_score": r.best_score, "pass_rate": r.pass_rate, "seconds": r.seconds,
                        "candidates": r.candidates} for r in o.rounds],
        "settings": o.settings,
        "stop_reason": o.stop_reason,
        "check_pass_rates": check_pass_rates(o.candidates),
        "candidates": o.candidates,
        **({"llm": o.llm} if o.llm is not None else {}),
    }


def check_pass_rates(candidates: list[dict]) -> dict[str, float]:
    """Per rule (e.g. test_compiles, test_verifier_accepts): the share of candidates that passed it."""
    seen: dict[str, list[bool]] = {}
    for c in candidates:
        for rule, outcome in c["checks"].items():
            seen.setdefault(rule, []).append(outcome == "passed")
    return {rule: sum(v) / len(v) for rule, v in sorted(seen.items())}


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, default=str))
