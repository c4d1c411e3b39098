"""A fork server for libCacheSim baselines: it imports libcachesim once, then runs each policy in a
child forked for it.

Python's start-up and libcachesim's import cost about 0.3 CPU-seconds, which on a small trace is
most of a baseline's cost (31 of them per trace). Forking a child per policy keeps what a fresh
process gave: a crash stays in the child; the C library's ``rand()`` starts from the same state
(the server never calls it), so LeCaR, Cacheus and LHD give the same numbers; and the CPU time the
child reports is its own, since a forked child's clock starts at zero.

Protocol, one JSON line each way on stdin/stdout:
request ``[policy, trace, capacity, ignore_size, hashpower, cpu_seconds, wall_seconds, niceness]``;
reply ``{"ok": [object_miss_ratio, byte_miss_ratio, cpu_seconds]}``, ``{"signal": n}``,
``{"exit": code, "stderr": text}`` or ``{"wall": true}`` (the child hung without using CPU).
The child limits itself (RLIMIT_CPU: SIGXCPU, then SIGKILL) rather than through a ``preexec_fn``,
which would run Python in a forked copy of the threaded controller.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

from ..procs import die_with_parent

POLL = 0.005  # seconds between checks on a running child


def _limit_self(cpu_seconds: float, niceness: int) -> None:
    soft = max(1, math.ceil(cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 5))
    os.nice(niceness)
    die_with_parent()


def _child(request: list, result_fd: int, err_fd: int) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        policy, trace, capacity, ignore_size, hashpower, cpu_seconds, _wall, niceness = request
        _limit_self(float(cpu_seconds), int(niceness))
        os.dup2(err_fd, 2)
        os.dup2(err_fd, 1)  # libCacheSim logs INFO lines to stdout: the answer goes through result_fd
        import libcachesim as lcs

        from .traces import libcachesim_reader

        cache = getattr(lcs, policy)(cache_size=int(capacity), hashpower=int(hashpower))
        omr, bmr = cache.process_trace(libcachesim_reader(Path(trace), bool(ignore_size)))
        os.write(result_fd, json.dumps([omr, bmr, time.process_time()]).encode())
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os._exit(code)


def _wait(pid: int, wall_seconds: float) -> int | None:
    """The child's wait status, or None after killing a child that outlived ``wall_seconds``."""
    deadline = time.monotonic() + wall_seconds
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(POLL)


def serve_one(request: list) -> dict:
    """Fork a child for one policy and describe how it ended."""
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(request, write_fd, err.fileno())
        os.close(write_fd)
        status = _wait(pid, float(request[6]))
        with os.fdopen(read_fd, "rb") as r:
            answer = r.read()
        if status is None:
            return {"wall": True}
        if os.WIFSIGNALED(status):
            return {"signal": os.WTERMSIG(status)}
        if os.WEXITSTATUS(status) != 0 or not answer:
            err.seek(0)
            return {"exit": os.WEXITSTATUS(status), "stderr": err.read().decode(errors="replace")[-800:]}
        return {"ok": json.loads(answer)}


def main() -> int:
    die_with_parent()
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever else writes to stdout (libCacheSim's log) must not mix with the replies
    import libcachesim  # noqa: F401  (imported once, before any fork)

    from . import traces  # noqa: F401

    for line in sys.stdin:
        if line.strip():
            replies.write(json.dumps(serve_one(json.loads(line))) + "\n")
            replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
