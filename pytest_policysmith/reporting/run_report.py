"""The run report: progress against baselines, score spread, pass rate, winner, lineage, settings."""

from __future__ import annotations

import json
from pathlib import Path

from . import html as H
from . import plots


def lineage(summary: dict) -> list[dict]:
    """The winner, then its first parent, and so on back to a seed."""
    by_id = {c["id"]: c for c in summary["candidates"]}
    out: list[dict] = []
    cur = summary["best"]["id"] if summary.get("best") else None
    while cur in by_id and len(out) < 200:
        out.append(by_id[cur])
        parents = by_id[cur]["parents"]
        cur = parents[0] if parents else None
    return out


def baseline_rows(summary: dict, metric: str) -> tuple[list[list], set[int]]:
    """One row per policy: its objective on each workload, the winner first."""
    workloads = list(summary["baselines"])
    best = summary.get("best")
    rows = []
    if best:
        rows.append([f"winner {best['id']}", *[best["metrics"][w][metric] for w in workloads]])
    names = list(next(iter(summary["baselines"].values())))
    policy_rows = [[n, *[summary["baselines"][w][n][metric] for w in workloads]] for n in names]
    rows += sorted(policy_rows, key=lambda r: sum(r[1:]))
    timeouts = summary.get("baseline_timeouts", {})
    rows += [[f"{p} (timeout)", *["timeout" if p in timeouts.get(w, []) else "-" for w in workloads]]
             for p in sorted({p for ps in timeouts.values() for p in ps})]
    return rows, {0} if best else set()


def _winner_html(summary: dict) -> str:
    """The stored (simplified) winner, and the search's raw best beside it when they differ."""
    best, raw = summary.get("best"), summary.get("raw_best")
    if not best:
        return "<p>No candidate passed the checker.</p>"

    def one(c: dict, what: str) -> str:
        size = c.get("size") or {}
        return (f"<p>{what} <b>{H.html.escape(c['id'])}</b>: score {c['score']:.6f}, {size.get('nodes')} nodes, "
                f"{size.get('chars')} characters</p>" + H.highlight_c(c["source"]))

    out = one(best, "Winner (simplified; stored by --synth-accept)")
    if raw and raw["id"] != best["id"]:
        out += one(raw, "Raw best of the search, before simplification")
    return out


def write_run_report(summary: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    metric = summary["settings"]["context"]["objective"]
    base = {n: v for n, v in next(iter(summary["baselines"].values())).items()}
    best_base = min((n for n in base if not base[n].get("reference")), key=lambda n: base[n][metric])
    refs = {f"best baseline ({best_base})": base[best_base][metric]}
    refs.update({n: v[metric] for n, v in base.items() if v.get("reference")})
    by_round: dict[int, list[float]] = {}
    for c in summary["candidates"]:
        if c["score"] is not None:
            by_round.setdefault(c["round"], []).append(c["score"])
    figs = [plots.progress(summary["rounds_log"], refs, metric, folder / "progress.png"),
            plots.distribution(by_round, metric, folder / "scores.png"),
            plots.pass_rate(summary["rounds_log"], folder / "pass_rate.png")]
    rows, mark = baseline_rows(summary, metric)
    best = summary.get("best")
    line = lineage(summary)
    sections = [
        ("Summary", H.table(["context", "run", "generator", "seed", "evaluated", "rejected", "wall (s)", "winner"],
                            [[summary["context"], summary["run_id"], summary["generator"], summary["seed"],
                              summary["evaluated"], summary["failed_checks"], round(summary["wall_seconds"], 1),
                              best["score"] if best else "-"]], table_id="summary")),
        ("Best score per round", H.image(figs[0], "best score per round")),
        ("Scores per round", H.image(figs[1], "score distribution per round")),
        ("Checker pass rate per round", H.image(figs[2], "pass rate per round")),
        ("Winner", _winner_html(summary)),
        ("Lineage (winner back to its seed)", H.table(
            ["candidate", "round", "origin", metric],
            [[c["id"], c["round"], c["origin"], c["score"] if c["score"] is not None else "-"] for c in line],
            table_id="lineage")),
        ("Against the baselines", H.table(["policy", *summary["baselines"]], rows, mark, table_id="baselines")),
        ("Settings (everything needed to reproduce the run)",
         f"<pre>{H.html.escape(json.dumps(summary['settings'], indent=2, default=str))}</pre>"),
    ]
    data = {"metric": metric, "best": best, "baselines": summary["baselines"], "rounds_log": summary["rounds_log"]}
    return H.write(folder, H.page(f"policysmith run {summary['run_id']}", sections, data))
