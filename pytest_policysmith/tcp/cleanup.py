"""Remove what dead processes left in the (shared) kernel: controllers and namespaces.

Names carry the owner's pid, so only leftovers of processes that no longer exist are
touched; a concurrent run's live objects are never removed.
"""

from __future__ import annotations

from .capability import missing


def sweep() -> dict[str, list]:
    if missing():
        return {"controllers": [], "namespaces": []}
    from .evaluator import sweep_stale_controllers
    from .link import sweep_stale

    return {"namespaces": sweep_stale(), "controllers": sweep_stale_controllers()}
