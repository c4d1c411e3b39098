"""A per-workload suite's results: the paper-style table (one row per trace), its win fractions,
and the transfer of each winner to the other workloads. Built from each search's summary."""

from __future__ import annotations

import statistics
from pathlib import Path

from . import html as H

EPS = 1e-12  # "matches or beats": scores equal to this precision count as a match


def entry(summary: dict, workload: str, objective: str) -> dict:
    """One row of the table, from a search's ``--synth-json`` summary: the winner, the best of the
    published baselines, the best of all (references such as Belady excluded) and the share of the
    best baseline's distance to the reference that the winner removes (``gap_closed``; against the best
    published baseline: ``gap_closed_paper``, the paper's own yardstick)."""
    bases = summary["baselines"][workload]
    contenders = {p: r[objective] for p, r in bases.items() if not r.get("reference")}
    paper = {p: v for p, v in contenders.items() if bases[p].get("paper")}
    refs = {p: r[objective] for p, r in bases.items() if r.get("reference")}
    best = summary.get("best")
    score = best["score"] if best else None
    bp = min(paper, key=paper.__getitem__) if paper else None
    ba = min(contenders, key=contenders.__getitem__)
    ref = min(refs.values()) if refs else None
    return {
        "trace": workload, "score": score, "source": best["source"] if best else None,
        "candidate": best["id"] if best else None, "run_id": summary["run_id"],
        "best_paper_baseline": {"policy": bp, "score": paper[bp]} if bp else None,
        "best_baseline": {"policy": ba, "score": contenders[ba]},
        "belady": ref,
        "gap_closed": gap_closed(contenders[ba], score, ref),
        "gap_closed_paper": gap_closed(paper[bp], score, ref) if bp else None,
        "matches_or_beats_paper": score is not None and all(score <= v + EPS for v in paper.values()),
        "matches_or_beats_all": score is not None and all(score <= v + EPS for v in contenders.values()),
        "baseline_timeouts": summary.get("baseline_timeouts", {}).get(workload, []),
        "evaluated": summary["evaluated"], "wall_seconds": summary["wall_seconds"],
    }


def gap_closed(base: float, score: float | None, ref: float | None) -> float | None:
    """The share of ``base``'s distance to the reference ``ref`` that ``score`` removes (negative:
    worse than ``base``); None without a reference, or where ``base`` already equals it."""
    if ref is None or score is None or base - ref <= EPS:
        return None
    return (base - score) / (base - ref)


def transfer_block(scores: dict[str, dict[str, float | None]], rows: list[dict]) -> dict:
    """For each workload's winner: on how many of the other workloads it matches or beats the best
    published baseline there (the paper's "wins on 48% of CloudPhysics traces")."""
    best_paper = {r["trace"]: (r["best_paper_baseline"] or r["best_baseline"])["score"] for r in rows}
    out = {}
    for own, on in scores.items():
        others = {w: s for w, s in on.items() if w != own}
        wins = [w for w, s in others.items() if s is not None and s <= best_paper[w] + EPS]
        out[own] = {"wins": len(wins), "traces": len(others),
                    "win_rate": len(wins) / len(others) if others else None, "scores": on}
    return out


def suite_summary(context: str, objective: str, rows: list[dict], transfer: dict, searches: dict[str, dict],
                  wall_seconds: float) -> dict:
    """The suite's ``--synth-json`` summary: one entry per trace, fractions over traces, transfer."""
    n = len(rows)
    gaps = [r["gap_closed"] for r in rows if r["gap_closed"] is not None]
    paper_gaps = [r["gap_closed_paper"] for r in rows if r["gap_closed_paper"] is not None]
    rates = [t["win_rate"] for t in transfer.values() if t["win_rate"] is not None]
    return {
        "context": context, "objective": objective, "traces": n, "wall_seconds": wall_seconds,
        "per_trace": rows,
        "matches_or_beats_paper": sum(r["matches_or_beats_paper"] for r in rows) / n if n else 0.0,
        "matches_or_beats_all": sum(r["matches_or_beats_all"] for r in rows) / n if n else 0.0,
        "gap_closed_median": statistics.median(gaps) if gaps else None,
        "gap_closed_paper_median": statistics.median(paper_gaps) if paper_gaps else None,
        "transfer": transfer,
        "transfer_win_rate_median": statistics.median(rates) if rates else None,
        "runs": {w: s["run_id"] for w, s in searches.items()},
        "searches": {w: {k: v for k, v in s.items() if k != "candidates"} for w, s in searches.items()},
    }


def progress_line(i: int, n: int, row: dict, resumed: bool) -> str:
    """The one line a trace's search prints when it ends."""
    base = row["best_baseline"]
    score = f"{row['score']:.6f}" if row["score"] is not None else "no winner"
    delta = f" ({(row['score'] - base['score']) / base['score'] * 100:+.2f}%)" if row["score"] and base["score"] else ""
    gap = f", gap to Belady closed {row['gap_closed'] * 100:.1f}%" if row["gap_closed"] is not None else ""
    late = f", timeouts: {', '.join(row['baseline_timeouts'])}" if row["baseline_timeouts"] else ""
    return (f"[{i}/{n}] {row['trace']}: {score} vs {base['policy']} {base['score']:.6f}{delta}{gap}{late}; "
            f"{row['evaluated']} evaluated, {row['wall_seconds']:.0f} s" + (" (resumed)" if resumed else ""))


def terminal_lines(s: dict) -> list[str]:
    fmt = lambda v: f"{v * 100:.0f}%" if v is not None else "-"
    return [f"policysmith suite {s['context']}: {s['traces']} traces in {s['wall_seconds']:.0f} s; the winner "
            f"matches or beats the paper's baselines on {fmt(s['matches_or_beats_paper'])} of them, every baseline "
            f"on {fmt(s['matches_or_beats_all'])}; median gap to Belady closed {fmt(s['gap_closed_median'])} "
            f"({fmt(s.get('gap_closed_paper_median'))} from the best paper baseline); "
            f"a winner wins on a median {fmt(s['transfer_win_rate_median'])} of the other traces"]


def markdown_table(s: dict) -> list[str]:
    """The paper-style table as Markdown (the README's and the per-trace benchmark's), with the
    fractions over traces and the transfer median beneath it."""
    pct = lambda v: f"{v * 100:.1f}%" if v is not None else "n/a"
    yes = lambda v: "yes" if v else "no"
    lines = ["| trace | winner | best paper baseline | best baseline | Belady | gap closed | gap closed (paper) | "
             "all 14 | all | wins elsewhere | s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in s["per_trace"]:
        bp, ba = r["best_paper_baseline"] or r["best_baseline"], r["best_baseline"]
        win = (s["transfer"].get(r["trace"]) or {}).get("win_rate")
        score = f"{r['score']:.6f}" if r["score"] is not None else "none"
        belady = f"{r['belady']:.6f}" if r["belady"] is not None else "-"
        late = f" (timeout: {', '.join(r['baseline_timeouts'])})" if r["baseline_timeouts"] else ""
        lines.append(f"| {r['trace']} | {score} | {bp['policy']} {bp['score']:.6f} | {ba['policy']} {ba['score']:.6f}"
                     f"{late} | {belady} | {pct(r['gap_closed'])} | {pct(r.get('gap_closed_paper'))} | "
                     f"{yes(r['matches_or_beats_paper'])} | "
                     f"{yes(r['matches_or_beats_all'])} | {pct(win)} | {r['wall_seconds']:.0f} |")
    return [*lines, "", *terminal_lines(s)]


def write_suite_report(s: dict, folder: Path) -> Path:
    """index.html: the sortable table (best value per row in bold), the transfer heat map, the sources."""
    from . import plots

    folder.mkdir(parents=True, exist_ok=True)
    rows = s["per_trace"]
    cells, bold = [], set()
    for i, r in enumerate(rows):
        bp, ba = r["best_paper_baseline"] or r["best_baseline"], r["best_baseline"]
        vals = [r["score"], bp["score"], ba["score"]]
        cells.append([r["trace"], *vals, f"{bp['policy']}", f"{ba['policy']}", r["belady"] or "-",
                      r["gap_closed"] if r["gap_closed"] is not None else "-",
                      r["gap_closed_paper"] if r.get("gap_closed_paper") is not None else "-",
                      ", ".join(r["baseline_timeouts"]) or "-"])
        low = min(v for v in vals if v is not None)
        bold |= {(i, j + 1) for j, v in enumerate(vals) if v is not None and v <= low + EPS}
    table = H.table(["trace", "winner", "best paper baseline", "best baseline", "paper policy", "policy",
                     "Belady", "gap closed", "gap closed (paper)", "timeouts"], cells, table_id="per-trace", bold=bold,
                    sortable=True)
    traces = [r["trace"] for r in rows]
    best_paper = {r["trace"]: (r["best_paper_baseline"] or r["best_baseline"])["score"] for r in rows}
    nan = float("nan")
    rel = [[(s["transfer"][w]["scores"].get(u) or nan) / best_paper[u] if best_paper[u] else nan for u in traces]
           for w in traces]
    heat = plots.heatmap([f"winner of {w}" for w in traces], traces, rel,
                         f"{s['objective']} / best paper baseline's", folder / "transfer.png")
    sources = "".join(f"<h3>{H.escape(r['trace'])}</h3>" + H.highlight_c(r["source"] or "") for r in rows)
    sections = [
        (f"{s['objective']} per trace (lower is better)", table),
        ("Transfer: each winner on every trace, relative to that trace's best paper baseline", H.image(heat, "heat map")),
        ("Winners", sources),
    ]
    return H.write(folder, H.page(f"policysmith suite: {s['context']}", sections, s))
