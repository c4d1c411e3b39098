"""Child process for one libCacheSim baseline: ``POLICY TRACE CAPACITY IGNORE_SIZE HASHPOWER CPU_SECONDS NICENESS``.

It limits itself (CPU time: SIGXCPU, then SIGKILL; a lower priority, so that beside a search it
uses the cores the search leaves idle; death with its parent), rather than through a
``preexec_fn``, which would run Python in a forked copy of a threaded controller.

Prints ``[object_miss_ratio, byte_miss_ratio, cpu_seconds]`` as JSON on its last line: the caller
judges timeouts by CPU time, which a busy machine does not change.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import time
from pathlib import Path

from ..procs import die_with_parent


def _limit_self(cpu_seconds: float, niceness: int) -> None:
    soft = max(1, math.ceil(cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 5))
    os.nice(niceness)
    die_with_parent()


def main(argv: list[str]) -> int:
    policy, trace, capacity, ignore_size, hashpower, cpu_seconds, niceness = argv
    _limit_self(float(cpu_seconds), int(niceness))
    # libCacheSim logs INFO lines to stdout/stderr; keep stdout for the answer.
    saved = os.dup(1)
    os.dup2(2, 1)
    import libcachesim as lcs

    from .traces import libcachesim_reader

    cls = getattr(lcs, policy)
    cache = cls(cache_size=int(capacity), hashpower=int(hashpower))
    omr, bmr = cache.process_trace(libcachesim_reader(Path(trace), ignore_size == "1"))
    os.dup2(saved, 1)
    print(json.dumps([omr, bmr, time.process_time()]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
