"""An xdist worker that dies mid-round: which slot it was running, and why it died.

The inner session runs with ``--max-worker-restart 0``, so a death ends it; the
controller then starts a fresh session (``loop.py``) in which the slot runs again. A
slot whose worker dies twice is settled as an ``error`` with the reason, so a candidate
that kills its worker (or a machine that keeps killing workers) cannot stall a run.
"""

from __future__ import annotations

import signal
import subprocess

import pytest

from .schedule import slot_scope
from .spec import parse_slot

DEATHS_ALLOWED = 2  # the first death is retried once; the second settles the candidate


def crashed_slot(report: pytest.TestReport) -> str | None:
    """The slot of xdist's crash report (``when == "???"``), or None for any other report."""
    if report.when != "???":
        return None
    slot = slot_scope(report.nodeid)
    try:
        parse_slot(slot)
    except ValueError:
        return None
    return slot


def death_reason(worker) -> str:
    """How the worker process ended, e.g. "killed by signal 9 (SIGKILL)", as far as it can be known."""
    popen = getattr(getattr(getattr(worker, "gateway", None), "_io", None), "popen", None)
    if popen is None:
        return "the connection to it was lost"  # a remote gateway (--tx socket=/ssh=)
    try:
        rc = popen.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "the connection to it was lost"
    if rc < 0:
        try:
            return f"killed by signal {-rc} ({signal.Signals(-rc).name})"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exited with status {rc}"


def worker_name(worker) -> str | None:
    return getattr(getattr(worker, "gateway", None), "id", None)


def give_up_text(deaths: int, reason: str) -> str:
    return (f"worker died: the pytest worker running this candidate died {deaths} times (last: {reason}); "
            "it is not retried again. A candidate that exhausts memory outside its sandbox, or a host that "
            "kills processes, does this")
