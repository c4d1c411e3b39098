"""Transfer and sweep results: win rates, improvements, tables, figures, JSON."""

from __future__ import annotations

import statistics
from pathlib import Path

from ..reporting import html as H
from ..reporting import plots
from ..reporting.summary import write_json



def transfer_summary(results: list[dict]) -> dict:
    """Per stored heuristic: win rate over traces and improvements over LRU and the best baseline."""
    heuristics = sorted({p for r in results for p in r["results"] if p.startswith("* ")})
    per: dict[str, dict] = {}
    out = {"traces": len(results), "heuristics": per}
    for h in heuristics:
        wins, over_lru, over_best = 0, [], []
        for r in results:
            res = r["results"]
            bases = {p: v for p, v in res.items()
                     if not p.startswith("* ") and p not in r.get("references", ()) and v is not None}
            best = min(bases.values())
            ours = res[h]
            wins += ours < best
            classic = res.get(r.get("classic") or "")
            if classic:
                over_lru.append((classic - ours) / classic)
            if best > 0:
                over_best.append((best - ours) / best)
        per[h[2:]] = {
            "win_rate": wins / len(results) if results else 0.0, "wins": wins,
            "improvement_over_lru_mean": statistics.fmean(over_lru) if over_lru else None,
            "improvement_over_lru_median": statistics.median(over_lru) if over_lru else None,
            "improvement_over_best_baseline_mean": statistics.fmean(over_best) if over_best else None,
            "improvement_over_best_baseline_median": statistics.median(over_best) if over_best else None,
        }
    return out


def terminal_lines(kind: str, summary: dict, path: Path) -> list[str]:
    lines = [f"policysmith {kind}: {summary['traces']} traces; report {path}"]
    for h, s in summary["heuristics"].items():
        fmt = lambda v: f"{v * 100:+.2f}%" if v is not None else "-"
        lines.append(f"  {h}: wins on {s['wins']}/{summary['traces']} traces ({s['win_rate'] * 100:.0f}%), "
                     f"vs LRU mean {fmt(s['improvement_over_lru_mean'])} median {fmt(s['improvement_over_lru_median'])}, "
                     f"vs best baseline mean {fmt(s['improvement_over_best_baseline_mean'])} "
                     f"median {fmt(s['improvement_over_best_baseline_median'])}")
    return lines


def write_transfer(ctx, spec: str, results: list[dict], folder: Path) -> tuple[Path, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    results = sorted(results, key=lambda r: r["trace"])
    summary = transfer_summary(results)
    data = {"context": ctx.name, "objective": ctx.objective, "dataset": spec, "settings": ctx.as_dict(),
            "summary": summary, "per_trace": results}
    write_json(folder / "transfer.json", data)
    policies = sorted({p for r in results for p in r["results"]}, key=lambda p: (not p.startswith("* "), p))
    traces = [r["trace"] for r in results]
    nan = float("nan")
    classic = results[0].get("classic") or "LRU" if results else "LRU"
    rel = [[(r["results"].get(p) or nan) / r["results"][classic] if r["results"].get(classic) else nan
            for r in results] for p in policies]
    fig = plots.heatmap(policies, traces, rel, f"{ctx.objective} / {classic}'s", folder / "heatmap.png")
    rows = [[s, v["wins"], v["win_rate"], v["improvement_over_lru_mean"] or 0.0,
             v["improvement_over_lru_median"] or 0.0, v["improvement_over_best_baseline_mean"] or 0.0,
             v["improvement_over_best_baseline_median"] or 0.0] for s, v in summary["heuristics"].items()]
    per = [[r["trace"], r["capacity"], *[r["results"].get(p) if r["results"].get(p) is not None else "timeout"
                                         for p in policies]] for r in results]
    sections = [
        ("Win rate and improvements", H.table(["heuristic", "wins", "win rate", "vs LRU mean", "vs LRU median",
                                               "vs best mean", "vs best median"], rows, table_id="transfer")),
        (f"Relative to {classic} (lower is better)", H.image(fig, "heat map")),
        (f"{ctx.objective} per trace", H.table(["trace", "capacity", *policies], per, table_id="per-trace")),
    ]
    path = H.write(folder, H.page(f"policysmith transfer: {ctx.name} on {spec}", sections, data))
    return path, summary


def write_sweep(ctx, sizes: list[float], results: list[dict], folder: Path) -> tuple[Path, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    by_trace: dict[str, list[dict]] = {}
    for r in results:
        by_trace.setdefault(r["trace"], []).append(r)
    data = {"context": ctx.name, "objective": ctx.objective, "sizes": sizes, "per_trace": {}}
    sections = []
    for trace, rs in sorted(by_trace.items()):
        rs.sort(key=lambda r: r["size"])
        policies = sorted({p for r in rs for p in r["results"]}, key=lambda p: (not p.startswith("* "), p))
        table = {p: [r["results"].get(p) for r in rs] for p in policies}
        shown_table = {p: [v if v is not None else "timeout" for v in vals] for p, vals in table.items()}
        data["per_trace"][trace] = {"sizes": [r["size"] for r in rs], "capacity": [r["capacity"] for r in rs],
                                    "results": table}
        shown = {p: [x if x is not None else float("nan") for x in v] for p, v in table.items()
                 if p.startswith("* ") or p in rs[0].get("highlight", p)}
        safe = trace.replace("/", "_")
        fig = plots.curves([r["size"] for r in rs], shown, "cache size", ctx.objective, folder / f"sweep_{safe}.png")
        sections.append((f"{trace}: {ctx.objective} against cache size", H.image(fig, f"sweep {trace}") + H.table(
            ["policy", *[f"{r['size']:g}" for r in rs]], [[p, *v] for p, v in shown_table.items()],
            {0} if policies and policies[0].startswith("* ") else set(), table_id=f"sweep-{safe}")))
    write_json(folder / "sweep.json", data)
    return H.write(folder, H.page(f"policysmith size sweep: {ctx.name}", sections, data)), data
