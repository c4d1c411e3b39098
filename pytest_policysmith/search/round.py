"""One round's CHECKER and EVALUATOR: an inner pytest session over the round's candidates.

pytest cannot add items mid-session, so the controller starts one inner session per
round (``--synth-inner SPEC``). Every (rule, candidate) pair and every evaluation is an
item; with ``-n`` they run on pytest-xdist workers, grouped per candidate so that its
evaluation runs after its rules on the same worker. The inner session writes each
report to the archive as it arrives; this module then settles each candidate's status.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ..context import Context
from ..storage.archive import Archive, CandidateRow


def run_round(archive: Archive, run_id: str, round_no: int, pending: list[CandidateRow], ctx: Context, opts) -> None:
    spec = {
        "run_id": run_id, "archive": str(archive.path), "round": round_no,
        "candidates": [{"id": r.id, "source": r.source, "origin": r.origin} for r in pending],
        "traces_dirs": [str(d) for d in opts.traces_dirs],
    }
    with tempfile.TemporaryDirectory(prefix=f"ps-round{round_no}-") as tmp:
        spec_path = Path(tmp) / "round.json"
        spec_path.write_text(json.dumps(spec))
        argv = [sys.executable, "-m", "pytest", str(ctx.root), "--synth-inner", str(spec_path), "-q",
                "-p", "no:cacheprovider", "--rootdir", str(ctx.root), "-o", "addopts=", "-W", "ignore"]
        if opts.workers > 1:
            argv += ["-n", str(opts.workers), "--dist", "loadgroup"]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=str(ctx.root))
    settle(archive, run_id, pending, proc.stdout + proc.stderr)


def settle(archive: Archive, run_id: str, pending: list[CandidateRow], inner_output: str) -> None:
    """Failed checks make a candidate ``failed``; no verdict at all makes it ``error``."""
    for row in archive.candidates(run_id, pending[0].round if pending else None):
        if row.id not in {p.id for p in pending}:
            continue
        checks = archive.checks(run_id, row.id)
        failures = [(rule, fb) for rule, outcome, fb, _ in checks if outcome in ("failed", "error")]
        check_secs = sum(s or 0.0 for *_, s in checks)
        if failures:
            text = "\n\n".join(f"{rule}: {fb}" for rule, fb in failures)
            archive.record_evaluation(run_id, row.id, "failed", None, None, text, check_secs, 0.0)
        elif row.status == "pending":
            tail = inner_output.strip()[-1500:]
            archive.record_evaluation(run_id, row.id, "error", None, None,
                                      f"no verdict: the inner session ended without evaluating it\n{tail}",
                                      check_secs, 0.0)
