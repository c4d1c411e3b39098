"""Accepted heuristics in a context's ``policies/`` folder: the C body plus its metadata.

The metadata (``NAME.json``) is written after the body and both by atomic rename, and
only pairs with metadata are loaded, so an interrupted accept leaves no half policy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .files import write_atomic


@dataclass(frozen=True)
class StoredPolicy:
    name: str
    path: Path
    source: str
    meta: dict[str, Any]


def load_policies(folder: Path) -> list[StoredPolicy]:
    out = []
    for c_file in sorted(folder.glob("*.c")):
        meta_file = c_file.with_suffix(".json")
        if not meta_file.is_file():
            continue
        try:
            meta = json.loads(meta_file.read_text())
        except json.JSONDecodeError as exc:
            raise UsageError(f"{meta_file}: not valid JSON ({exc}); restore it from version control") from exc
        out.append(StoredPolicy(c_file.stem, c_file, c_file.read_text(), meta))
    return out


def policy_name(*parts: str) -> str:
    """A file stem from a context (or context:workload) name and the candidate: ``cache_suite_lirs_ps_r12c03_ab12cd``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(parts))


def accept(folder: Path, name: str, source: str, meta: dict[str, Any]) -> Path:
    c_file = folder / f"{name}.c"
    write_atomic(c_file, source)
    write_atomic(c_file.with_suffix(".json"), json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return c_file
