"""Fill in the transfer of suite rows that were searched again on their own.

    python benchmarks/transfer_rows.py SUMMARY.json [--rows NEW.json ...] [--traces ../shared/traces] [-j 2] [--out OUT.json]

A suite run scores each winner on every other trace of the suite (its ``transfer`` block). Rows put in
from a separate run of a few traces (``per_trace.py --only ...``) have no transfer over the whole suite;
this scores each such winner on every other trace of SUMMARY exactly as the suite does (the
cache_suite context's evaluator, the whole trace, no cascade) and counts its wins against each trace's
best paper baseline (``transfer_block``). Prints one line per row and writes SUMMARY with those rows'
transfer and the median win rate filled in to OUT (default: beside SUMMARY, ``summary_transfer.json``).
With ``--rows NEW.json`` (the summary of a run of a few traces, a suite's or ``per_trace.py``'s), NEW's
rows first replace SUMMARY's rows for the same traces, and the fractions and medians over traces are
counted again. ``--rows`` may be given more than once (runs of different traces; a later one's row wins).
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "contexts" / "cache_suite"
sys.path.insert(0, str(ROOT))

from pytest_policysmith.context import load_context  # noqa: E402
from pytest_policysmith.reporting.suite import suite_summary, transfer_block  # noqa: E402
from pytest_policysmith.templates import load_template  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("summary", type=Path, help="a suite's --synth-json summary")
    ap.add_argument("--traces", default=os.environ.get("POLICYSMITH_TRACES") or str(ROOT.parent / "shared" / "traces"))
    ap.add_argument("-j", type=int, default=2, help="simulations at once (default 2)")
    ap.add_argument("--rows", type=Path, action="append", default=[],
                    help="a summary whose rows replace SUMMARY's for their traces (repeatable)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    summary = json.loads(args.summary.read_text())
    if args.rows:
        replace_rows(summary, rows_of(args.rows))
    rows = summary["per_trace"]
    todo = [r for r in rows if r.get("source") and (summary["transfer"].get(r["trace"]) or {}).get("win_rate") is None]
    if not todo:
        sys.exit(f"{args.summary}: every row with a winner already has its transfer")
    ctx = load_context(SUITE, runpy.run_path(str(SUITE / "conftest.py"))["policysmith_context"])
    template = load_template(ctx.template, [ROOT / "templates"])
    dirs = [Path(args.traces).resolve()]
    jobs = [(r, other["trace"]) for r in todo for other in rows if other["trace"] != r["trace"]]

    def score(job: tuple[dict, str]) -> float | None:
        row, other = job
        return ctx.plugin.evaluate(ctx.plugin.only(ctx, other), template, row["source"], "transfer", dirs).score

    scores: dict[str, dict[str, float | None]] = {r["trace"]: {r["trace"]: r["score"]} for r in todo}
    with ThreadPoolExecutor(max_workers=args.j) as pool:
        for (row, other), got in zip(jobs, pool.map(score, jobs)):
            scores[row["trace"]][other] = got
    filled = transfer_block(scores, rows)
    for trace, t in filled.items():
        print(f"{trace}: wins on {t['wins']} of {t['traces']} other traces ({t['win_rate']:.1%})")
    summary["transfer"].update(filled)
    rates = [t["win_rate"] for t in summary["transfer"].values() if t.get("win_rate") is not None]
    summary["transfer_win_rate_median"] = statistics.median(rates) if rates else None
    print(f"median win rate over {len(rates)} winners: {summary['transfer_win_rate_median']:.1%}")
    out = args.out or args.summary.with_name("summary_transfer.json")
    out.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {out}")


def rows_of(summaries: list[Path]) -> list[dict]:
    """The per-trace rows of several runs' summaries, in order (``replace_rows`` lets a later one win)."""
    return [r for path in summaries for r in json.loads(path.read_text())["per_trace"]]


def replace_rows(summary: dict, new: list[dict], option: str = "--rows") -> None:
    """Put ``new``'s rows in place of ``summary``'s for the same traces (their transfer is measured
    again), and count the fractions and medians over traces again, as the suite's summary does."""
    by_trace = {r["trace"]: r for r in new}
    missing = sorted(set(by_trace) - {r["trace"] for r in summary["per_trace"]})
    if missing:
        sys.exit(f"{option}: {', '.join(missing)} not in the summary's traces")
    rows = [by_trace.get(r["trace"], r) for r in summary["per_trace"]]
    transfer = {t: b for t, b in summary["transfer"].items() if t not in by_trace}
    wall = sum(r["wall_seconds"] for r in rows)  # the rows' searches, added up (as in the README's line)
    fresh = suite_summary(summary["context"], summary["objective"], rows, transfer, {}, wall)
    summary.update({k: v for k, v in fresh.items() if k not in ("runs", "searches")})


if __name__ == "__main__":
    main()
