"""Child process for one libCacheSim baseline: ``POLICY TRACE CAPACITY IGNORE_SIZE HASHPOWER``.

Prints ``[object_miss_ratio, byte_miss_ratio]`` as JSON on its last line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    policy, trace, capacity, ignore_size, hashpower = argv
    # libCacheSim logs INFO lines to stdout/stderr; keep stdout for the answer.
    saved = os.dup(1)
    os.dup2(2, 1)
    import libcachesim as lcs

    from .traces import libcachesim_reader

    cls = getattr(lcs, policy)
    cache = cls(cache_size=int(capacity), hashpower=int(hashpower))
    omr, bmr = cache.process_trace(libcachesim_reader(Path(trace), ignore_size == "1"))
    os.dup2(saved, 1)
    print(json.dumps([omr, bmr]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
