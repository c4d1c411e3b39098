"""One default search per trace of a trace store, and the paper-style table of the winners.

    python benchmarks/per_trace.py [--traces ../shared/traces] [--only lirs/ps,arc/P6] [-n 2] [--out DIR]
                                   [--features-add EXPR ...] [--island-add EXPR ...] [--scales-add EXPR ...]
                                   [--anchors-add EXPR ...] [--compare SUMMARY]

A throwaway per-trace context (every trace, or the ``--only`` ones; 10% of the objects, sizes
ignored, the cache_priority template, the shipped CHECKER rules, the search budget of
contexts/cache_suite, so the table is the suite's) is
run through ``pytest --synthesize CTX -n N``, as a user runs a suite (see contexts/cache_suite).
The suite's summary gives the table: per trace the winner, the best of the paper's 14
baselines, the best of all, Belady, ``gap_closed`` (the share of the best baseline's distance to
Belady that the winner removes) and the winner's win rate on the other traces. The archive is
kept in DIR, so a stopped benchmark resumes where it was (``--synth-resume latest``).

``--features-add EXPR`` (repeatable) measures a building block before it joins the default search:
the searches then use a copy of templates/cache_priority, written into DIR, whose ``[evolve]``
features end with those expressions (``ps_div(obj.irr, cache.capacity)``, say); ``--island-add EXPR``
adds to the ``island_features`` of the same copy instead, blocks only one island builds with;
``--scales-add`` and ``--anchors-add`` to its ``scales`` (what a new term's credit is measured in) and
``anchors`` (what a priority is measured from).
``--compare SUMMARY`` reads such a run against a whole suite's table: each trace's gap closed there and
here, and the table's fractions and median counted again with this run's rows (and ``--rows-also``
SUMMARY's, the same variant's run on other traces) in place of its own.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "contexts" / "cache_suite" / "conftest.py"
sys.path.insert(0, str(ROOT))

from pytest_policysmith.reporting.suite import markdown_table  # noqa: E402
from throwaway import cache_context  # noqa: E402
from transfer_rows import replace_rows, rows_of  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", default=os.environ.get("POLICYSMITH_TRACES") or str(ROOT.parent / "shared" / "traces"))
    ap.add_argument("--only", default=None, help="comma-separated dataset/name subset (patterns allowed)")
    ap.add_argument("-n", type=int, default=2, help="xdist workers (default 2)")
    ap.add_argument("--out", default=str(ROOT / ".policysmith" / "per_trace"))
    ap.add_argument("--features-add", action="append", default=[], metavar="EXPR",
                    help="an [evolve] feature to add, in a copy of the template (repeatable)")
    ap.add_argument("--island-add", action="append", default=[], metavar="EXPR",
                    help="an [evolve] island_features entry to add (one island only), in the same copy")
    ap.add_argument("--scales-add", action="append", default=[], metavar="EXPR",
                    help="an [evolve] scales entry to add, in the same copy")
    ap.add_argument("--anchors-add", action="append", default=[], metavar="EXPR",
                    help="an [evolve] anchors entry to add, in the same copy")
    ap.add_argument("--compare", type=Path, default=None, metavar="SUMMARY",
                    help="a whole suite's summary (the README table's): print each trace's gap closed there and "
                         "here, and the fractions and median with this run's rows in place of its rows")
    ap.add_argument("--rows-also", type=Path, action="append", default=[], metavar="SUMMARY",
                    help="with --compare: another run's summary of the same variant on other traces, counted too")
    ap.add_argument("extra", nargs="*", help="more pytest arguments, after --")
    args = ap.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    search = runpy.run_path(str(SUITE))["policysmith_context"]["search"]
    added = {"features": args.features_add, "island_features": args.island_add, "scales": args.scales_add,
             "anchors": args.anchors_add}
    ctx = cache_context(out / "per_trace_ctx", args.only.split(",") if args.only else ["*/*"], per_trace=True,
                        search=search, **({"template": str(variant(out, added))} if any(added.values()) else {}))
    archive = out / "a.sqlite"
    argv = [sys.executable, "-m", "pytest", "--synthesize", str(ctx), "--synth-archive", str(archive),
            "--synth-json", str(out / "summary.json"), "--synth-report", str(out / "report"),
            "-p", "no:cacheprovider", "-q", *(["--synth-resume", "latest"] if archive.exists() else []),
            *(["-n", str(args.n)] if args.n else []), *args.extra]
    env = {**os.environ, "POLICYSMITH_TRACES": str(Path(args.traces).resolve())}
    proc = subprocess.run(argv, cwd=out, env=env)
    if proc.returncode != 0:
        sys.exit(f"the suite search exited with {proc.returncode}; run this again to resume it")
    summary = json.loads((out / "summary.json").read_text())
    text = "\n".join(markdown_table(summary))
    (out / "per_trace.md").write_text(text + "\n")
    print(text)
    if args.compare:
        rows = [*summary["per_trace"], *rows_of(args.rows_also)]
        print("\n".join(["", *compare(json.loads(args.compare.read_text()), rows, args.compare)]))


def compare(ref: dict, new: list[dict], where: Path) -> list[str]:
    """Each of the ``new`` rows' gap closed in ``ref`` and here, and ``ref``'s fractions and median
    gap closed counted again with those rows in place of its own (transfer_rows.replace_rows): a
    variant measured on some traces, read against the whole table."""
    pct = lambda v: f"{v * 100:.1f}%" if v is not None else "n/a"
    mixed = copy.deepcopy(ref)
    replace_rows(mixed, new, f"--compare {where}")
    before = {r["trace"]: r for r in ref["per_trace"]}
    lines = [f"{r['trace']}: {pct(before[r['trace']]['gap_closed'])} -> {pct(r['gap_closed'])}"
             + ("" if r["matches_or_beats_paper"] else " (behind a paper baseline)")
             + ("" if r["matches_or_beats_all"] else f" (behind {r['best_baseline']['policy']})") for r in new]
    n = mixed["traces"]
    lines.append(f"with these {len(new)} rows in place of {where}'s: all 14 paper baselines matched on "
                 f"{round(mixed['matches_or_beats_paper'] * n)} of {n} traces, every baseline on "
                 f"{round(mixed['matches_or_beats_all'] * n)}; median gap to Belady closed "
                 f"{pct(mixed['gap_closed_median'])} (there: {pct(ref['gap_closed_median'])})")
    return lines


def variant(out: Path, added: dict[str, list[str]]) -> Path:
    """A copy of templates/cache_priority in ``out`` whose [evolve] lists (``features``,
    ``island_features``, ``scales``, ``anchors``) end with the expressions ``added`` names for them."""
    dest = out / "template" / "cache_priority"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "templates" / "cache_priority", dest)
    manifest = dest / "template.toml"
    text = manifest.read_text()
    for key, exprs in added.items():
        if not exprs:
            continue
        current = tomllib.loads(text)["evolve"].get(key, [])
        listed = f"{key} = [" + ", ".join(json.dumps(f) for f in current + exprs) + "]"
        text, found = re.subn(rf"^{key} = \[.*?\]", lambda _: listed, text, count=1, flags=re.S | re.M)
        if not found:  # a list written another way: the copy would silently search without them
            sys.exit(f"{manifest}: no `{key} = [...]` line under [evolve] to add {exprs} to")
    manifest.write_text(text)
    return dest


if __name__ == "__main__":
    main()
