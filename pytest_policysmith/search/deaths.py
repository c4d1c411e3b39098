"""A process that dies mid-round: which slot it was running, and why it died.

With xdist, the inner session runs with ``--max-worker-restart 0``, so a worker's death
ends it and xdist's ``pytest_handlecrashitem`` names the slot. Without workers the inner session runs
the slots itself; it keeps the slot in flight in a file (:class:`InFlight`), which the
controller reads when the session dies by a signal. Either way the controller starts a
fresh session (``loop.py``) in which the slot runs again. A slot whose process dies twice
is settled as an ``error`` with the reason, so a candidate that kills its process (or a
machine that keeps killing processes) cannot stall a run.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from ..outcomes import Status
from ..storage.archive import Archive
from .schedule import slot_scope
from .spec import parse_slot

DEATHS_ALLOWED = 2  # the first death is retried once; the second settles the candidate
INNER = "inner"  # the crashes table's name for a worker-less inner session


def death_reason(worker) -> str:
    """How the worker process ended, e.g. "killed by signal 9 (SIGKILL)", as far as it can be known.

    xdist has no public way to a worker's exit status, so this reads execnet's popen gateway
    (``gateway._io.popen``); tests/test_contracts.py pins it for the xdist/execnet versions allowed."""
    popen = getattr(getattr(getattr(worker, "gateway", None), "_io", None), "popen", None)
    if popen is None:
        return "the connection to it was lost"  # a remote gateway (--tx socket=/ssh=)
    try:
        rc = popen.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "the connection to it was lost"
    return signal_text(rc)


def worker_name(worker) -> str | None:
    return getattr(getattr(worker, "gateway", None), "id", None)


def give_up_text(deaths: int, reason: str) -> str:
    return (f"process died: the pytest process running this candidate (an xdist worker, or the inner session) "
            f"died {deaths} times (last: {reason}); it is not retried again. A candidate that exhausts memory "
            "outside its sandbox, or a host that kills processes, does this")


def signal_text(returncode: int) -> str:
    """"killed by signal 9 (SIGKILL)" for a negative return code, else "exited with status N"."""
    if returncode >= 0:
        return f"exited with status {returncode}"
    try:
        return f"killed by signal {-returncode} ({signal.Signals(-returncode).name})"
    except ValueError:
        return f"killed by signal {-returncode}"


def blame(archive: Archive, run_id: str, worker: str | None, cid: str) -> bool:
    """Pin the process's latest death on ``cid``; at its last allowed death settle it as an error.

    True when it was settled (the caller may then move the run on)."""
    deaths, reason = archive.blame_crash(run_id, worker, cid)
    row = archive.candidate(run_id, cid)
    if deaths >= DEATHS_ALLOWED and row is not None and row.status == Status.PENDING:
        archive.record_evaluation(run_id, cid, Status.ERROR, None, None, give_up_text(deaths, reason), 0.0, 0.0)
        return True
    return False


class InFlight:
    """The slot a worker-less inner session is running, in a file the controller can read after it died.

    Cleared when each item finishes, so a death between items (while generating a round, say)
    blames nothing."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def reset(self) -> None:
        """Before a session: nothing in flight (a stale slot must not be blamed for a later death)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")

    def start(self, nodeid: str) -> None:
        self.path.write_text(slot_scope(nodeid))

    def finish(self) -> None:
        self.path.write_text("")

    def slot(self) -> str | None:
        try:
            text = self.path.read_text().strip()
            parse_slot(text)
        except (OSError, ValueError):
            return None
        return text
