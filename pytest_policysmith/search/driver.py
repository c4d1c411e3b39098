"""The controller's side of the inner session: start it once per run, relay its progress.

The inner session (``pytest CONTEXT --synth-inner SPEC [-n N]``) runs every remaining
round; its xdist workers start once and stay for the whole run. The controller watches
the archive and prints a line per finished round. The inner session dies with the
controller (``PR_SET_PDEATHSIG``), so a killed run leaves no orphan writing to the archive.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ArchiveWriteError
from ..procs import die_with_parent
from ..storage.archive import Archive, RoundRow
from .spec import InnerSpec

@dataclass(frozen=True)
class InnerResult:
    returncode: int
    output_tail: str


def inner_argv(ctx_root: Path, spec_path: Path, workers: int, extra: list[str]) -> list[str]:
    # One "--opt=value" argument: xdist rewrites existing paths among the arguments for --tx gateways.
    argv = [sys.executable, "-m", "pytest", str(ctx_root), f"--synth-inner={spec_path}", "-v",
            "-p", "no:cacheprovider", "--rootdir", str(ctx_root), "-o", "addopts=", "-W", "ignore"]
    if workers > 1:
        # Scheduled slot by slot (schedule.py). A dead worker ends the session rather than being
        # replaced (replacing it left re-queued slots unscheduled and the run hung); the controller
        # then starts a fresh session that retries the dead worker's slot (deaths.py).
        argv += ["-n", str(workers), "--max-worker-restart", "0"]
    if "--tx" in extra:
        argv += ["--dist", "load"]  # gateways given with --tx (scheduled slot by slot too)
        if "--rsyncdir" not in extra:
            argv += ["--rsyncdir", str(ctx_root)]  # the context's tests travel to every gateway
    return argv + extra


def run_inner(archive: Archive, spec: InnerSpec, ctx_root: Path, workers: int, log_path: Path,
              on_round: Callable[[RoundRow], None], extra: list[str] | None = None) -> InnerResult:
    """Run the inner session to its end; its verbose pytest output goes to ``log_path``."""
    seen = {r.round for r in archive.rounds(spec.run_id)}
    spec_path = log_path.with_name("inner-spec.json")  # beside the log: a kill leaves nothing in /tmp
    try:
        spec.dump(spec_path)
        log = open(log_path, "a")
    except OSError as exc:
        raise ArchiveWriteError(f"run folder {log_path.parent}: cannot write the inner session's files "
                                f"({exc.strerror or exc}); everything committed before is intact") from exc
    with log:
        proc = subprocess.Popen(inner_argv(ctx_root, spec_path, workers, extra or []), stdout=log,
                                stderr=subprocess.STDOUT, cwd=str(ctx_root), preexec_fn=die_with_parent)
        try:
            while True:
                done = proc.poll() is not None
                for row in archive.rounds(spec.run_id):
                    if row.round not in seen:
                        seen.add(row.round)
                        on_round(row)
                if done:
                    break
                time.sleep(0.1)
        except BaseException:
            _stop(proc)
            raise
    tail = log_path.read_text(errors="replace")[-3000:]
    return InnerResult(proc.returncode, tail)


def _stop(proc: subprocess.Popen) -> None:
    """Ctrl-C: let the inner session stop cleanly, then make sure it is gone."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
