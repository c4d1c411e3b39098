"""The benchmarks' throwaway cache context: traces at 10% of their objects, sizes ignored, the
cache_priority template and the shipped CHECKER rules, the plugin's default search."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cache_context(folder: Path, traces: list[str], **fields) -> Path:
    """Write the context into ``folder`` (made if missing) and return it; ``fields`` add to the
    declaration (``per_trace=True``, say)."""
    folder.mkdir(parents=True, exist_ok=True)
    decl = {"domain": "cache", "traces": traces, "cache_size": 0.1, "ignore_size": True,
            "objective": "object_miss_ratio", "template": "cache_priority", **fields}
    (folder / "conftest.py").write_text(f"policysmith_context = {decl!r}\n")
    (folder / "test_rules.py").write_text((ROOT / "contexts" / "cache_suite" / "test_rules.py").read_text())
    return folder
