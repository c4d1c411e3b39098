"""The ``policysmith`` console script: evaluate a policy, run baselines, outside pytest."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cache.baselines import default_policies, run_baselines
from .cache.simulator import SimulationError, build, parse_cache_size, resolve_capacity, simulate
from .cache.traces import open_trace
from .paths import search_dirs
from .errors import CompileError, UsageError
from .templates import load_template


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trace", required=True, help="dataset/name (e.g. cloudphysics/w106) or a trace file path")
    p.add_argument("--cache-size", required=True, help="fraction of the footprint in (0,1], or an absolute integer")
    p.add_argument("--ignore-size", action="store_true", help="treat every object as size 1 (libCacheSim ignore_obj_size)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--traces", default=None, help="trace directories (os.pathsep-separated); default $POLICYSMITH_TRACES")
    p.add_argument("--template", default="cache_priority", help="template folder or name (default cache_priority)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policysmith", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="simulate one priority function (a .c body) on a trace")
    ev.add_argument("policy_file", type=Path)
    _common(ev)
    bl = sub.add_parser("baselines", help="run libCacheSim's policies and Belady on a trace")
    _common(bl)
    bl.add_argument("--policies", default=None, help="comma-separated subset (default: all that run)")
    bl.add_argument("--slow", action="store_true", help="also run slow policies (LRB, ~1 min per 5M requests)")
    bl.add_argument("--jobs", type=int, default=None, help="parallel policies (default: CPU count)")
    return parser


def cmd_evaluate(args: argparse.Namespace) -> int:
    if not args.policy_file.is_file():
        raise UsageError(f"{args.policy_file}: no such policy file")
    template = load_template(args.template)
    trace = open_trace(args.trace, search_dirs(args.traces))
    capacity = resolve_capacity(parse_cache_size(args.cache_size, "--cache-size"), trace, args.ignore_size)
    binary = build(template, args.policy_file.read_text(), args.policy_file.stem)
    result = simulate(binary, trace, capacity, args.ignore_size)
    out = {"policy": str(args.policy_file), "trace": trace.name, "trace_sha256": trace.sha256,
           **result.as_dict(), "compile_seconds": binary.compile_seconds}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{args.policy_file.name} on {trace.name} (capacity {capacity}{' objects' if args.ignore_size else ' bytes'})")
        print(f"  object miss ratio  {result.object_miss_ratio:.6f}")
        print(f"  byte miss ratio    {result.byte_miss_ratio:.6f}")
        print(f"  requests           {result.requests}")
        print(f"  seconds            {result.seconds:.3f}  ({result.requests_per_second / 1e6:.1f} M requests/s)")
    return 0


def cmd_baselines(args: argparse.Namespace) -> int:
    template = load_template(args.template)
    trace = open_trace(args.trace, search_dirs(args.traces))
    capacity = resolve_capacity(parse_cache_size(args.cache_size, "--cache-size"), trace, args.ignore_size)
    policies = args.policies.split(",") if args.policies else default_policies(args.slow)
    results = run_baselines(trace, capacity, args.ignore_size, template, policies, jobs=args.jobs)
    if args.json:
        print(json.dumps({name: r.as_dict() for name, r in results.items()}, indent=2))
        return 0
    print(f"{trace.name}: capacity {capacity}{' objects' if args.ignore_size else ' bytes'}, {trace.n_requests} requests")
    print(f"{'policy':<12} {'obj miss':>9} {'byte miss':>9} {'secs':>7}  source")
    for r in sorted(results.values(), key=lambda r: r.object_miss_ratio):
        mark = "*" if r.paper else " "
        print(f"{r.policy:<11}{mark} {r.object_miss_ratio:9.6f} {r.byte_miss_ratio:9.6f} {r.seconds:7.2f}  {r.source}")
    print("* one of the PolicySmith paper's 14 baselines")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"evaluate": cmd_evaluate, "baselines": cmd_baselines}[args.command](args)
    except (UsageError, CompileError, SimulationError) as exc:
        print(f"policysmith: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
