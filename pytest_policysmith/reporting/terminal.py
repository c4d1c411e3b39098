"""Terminal output at the end of a synthesis run: the winner against every baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..generators.simplify import body_size

if TYPE_CHECKING:
    from ..search.loop import SearchOutcome


def summary_lines(o: SearchOutcome, verbosity: int = 0) -> list[str]:
    screened = f"{o.screened} screened" + (f" ({o.clones} as clones)" if o.clones else "") + ", "
    lines = [f"policysmith run {o.run_id}: {o.evaluated} evaluated, " + (screened if o.screened else "")
             + f"{o.failed} rejected, {o.wall_seconds:.1f} s"]
    if o.stop:
        lines.append(f"stopped early: {o.stop.reason}")
    if o.llm is not None:
        x = o.llm
        lines.append(f"llm: {x['requests']} requests ({x['cached']} cached, {x['failed_requests']} failed, "
                     f"{x.get('retries', 0)} retries, {x.get('timeouts', 0)} timeouts, "
                     f"{x.get('duplicate_replies', 0)} duplicate replies, longest "
                     f"{x.get('longest_request_seconds', 0):.1f} s), "
                     f"{x['prompt_tokens']}+{x['completion_tokens']} tokens, ${x['cost_usd']:.4f}; "
                     f"checker pass rate {x['first_try_pass_rate'] * 100:.0f}% first try, "
                     f"{x['after_repair_pass_rate'] * 100:.0f}% after repairs")
    w = o.winner
    if w is None:
        return lines + ["no candidate passed the checker"]
    metric = o.context.objective
    for trace, missing in o.context.plugin.timeouts(o.baselines).items():
        lines.append(f"{trace}: baseline{'s' if len(missing) > 1 else ''} {', '.join(missing)} did not finish within "
                     f"{o.options.baseline_timeout or 0:g} CPU-seconds: shown as a timeout (--synth-baseline-timeout)")
    for trace, res in o.baselines.items():
        ours = (w.metrics or {})[trace][metric]
        refs = [r for r in res.values() if r.reference]
        lines.append(f"{trace}: winner {w.id} {metric} {ours:.6f}"
                     + "".join(f", {r.policy} {getattr(r, metric):.6f} (gap {ours - getattr(r, metric):+.6f})"
                               for r in refs))
        if verbosity < 0:
            continue
        rows = sorted(res.values(), key=lambda r: getattr(r, metric))
        shown = rows if verbosity > 0 else [r for r in rows if r.paper or r.reference or getattr(r, metric) < ours * 1.05]
        lines.append(f"  {'policy':<12} {metric:>18}  vs winner")
        for r in shown:
            v = getattr(r, metric)
            mark = "*" if r.paper else " "
            lines.append(f"  {r.policy:<11}{mark} {v:18.6f}  {'winner better' if ours < v else 'baseline better'}")
    raw = o.raw_best
    if raw is not None and raw.id != w.id:
        a, b = body_size(raw.source), body_size(w.source)
        lines.append(f"simplified from {raw.id} ({metric} {raw.score:.6f}, {a.nodes} nodes, {a.chars} characters) "
                     f"to {w.id} ({w.score:.6f}, {b.nodes} nodes, {b.chars} characters)")
        lines.append(f"raw winner source:\n{raw.source.rstrip()}")
    lines.append(f"winner source:\n{w.source.rstrip()}")
    return lines
