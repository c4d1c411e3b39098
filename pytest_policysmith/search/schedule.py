"""xdist scheduling for the inner session: all items of one slot go to one worker, in order.

A slot's evaluation must run after its rules, in the same process, so that a candidate
the CHECKER rejected is never scored. xdist's ``loadgroup`` would do this through
``xdist_group`` marks, but it works by rewriting ``item._nodeid``, which pytest 9.2 no
longer reads, so the marks are silently ignored there. Grouping by the slot id in the
node id works on every pytest and xdist version that has ``LoadScopeScheduling``.
"""

from __future__ import annotations

import re

SLOT_IN_ID = re.compile(r"[\[-](r\d+c\d+(?:a\d+)?)(?=[\]-])")


def slot_scope(nodeid: str) -> str:
    """The slot a node id belongs to (its parametrization id), else the node id itself."""
    m = SLOT_IN_ID.search(nodeid)
    return m.group(1) if m else nodeid


def make_slot_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SlotScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return slot_scope(nodeid)

    return SlotScheduling(config, log)
