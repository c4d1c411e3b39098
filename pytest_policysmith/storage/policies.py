"""Accepted heuristics in a context's ``policies/`` folder: the C body plus its metadata.

Both are written by atomic rename, the metadata (``NAME.json``) before the body, and a policy
is found by its body: an interrupted accept leaves at most a record with no policy, never a
policy without its record. A body with no record is a heuristic written by hand (see
:func:`load_policies`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import UsageError
from .files import write_atomic


@dataclass(frozen=True)
class StoredPolicy:
    name: str
    path: Path
    source: str
    meta: dict[str, Any]


def load_policies(folder: Path) -> list[StoredPolicy]:
    """Every ``*.c`` in ``folder`` with its record (``*.json`` beside it). A heuristic written by hand
    has no record yet: it is gated all the same, and its reproduction check fails, saying how to
    record its scores (``pytest CONTEXT --synth-accept``, which writes the ``.json``)."""
    out = []
    for c_file in sorted(f for f in folder.glob("*.c") if f.is_file()):
        meta_file = c_file.with_suffix(".json")
        try:
            meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        except json.JSONDecodeError as exc:
            raise UsageError(f"{meta_file}: not valid JSON ({exc}); restore it from version control") from exc
        out.append(StoredPolicy(c_file.stem, c_file, c_file.read_text(), meta))
    return out


def policy_name(*parts: str) -> str:
    """A file stem from a context (or context:workload) name and the candidate: ``cache_suite_lirs_ps_r12c03_ab12cd``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(parts))


def better_stored(folder: Path, workload: str, meta: dict[str, Any],
                  rescore: Callable[[StoredPolicy], float | None] | None = None) -> tuple[StoredPolicy, float] | None:
    """A policy stored for ``workload`` that scores lower than ``meta``'s on the same trace bytes and
    context (its search settings aside: the cache size, say, must match), with that score: a rerun with
    another seed or a changed search must not replace it with a worse one. Its recorded score counts
    under the same template; under another one (an input added since, say) ``rescore`` measures it
    now, and a policy it cannot score (None) is not comparable."""
    if not folder.is_dir():
        return None
    wanted = _comparable(meta)
    for old in load_policies(folder):
        m = old.meta
        if m.get("workload") != workload or _comparable(m) != wanted:
            continue
        same_template = m.get("template_sha256") == meta.get("template_sha256")
        score = m.get("score") if same_template else (rescore(old) if rescore is not None else None)
        if isinstance(score, (int, float)) and score < meta["score"]:
            return old, float(score)
    return None


def _comparable(meta: dict[str, Any]) -> str:
    """What decides a stored score besides the policy and the template: the trace bytes, the context
    (as JSON, so a run's tuples equal a stored file's lists)."""
    context = {k: v for k, v in (meta.get("context") or {}).items() if k != "search"}
    return json.dumps([meta.get("objective"), meta.get("traces"), context], sort_keys=True, default=str)


def accept(folder: Path, name: str, source: str, meta: dict[str, Any], replaces: str | None = None) -> Path:
    """Store a policy. With ``replaces`` (a workload), the policies stored before for that workload
    go, once the new one is written: a per-trace context keeps one winner per trace."""
    c_file = folder / f"{name}.c"
    write_atomic(c_file.with_suffix(".json"), json.dumps(meta, indent=2, sort_keys=True) + "\n")
    write_atomic(c_file, source)
    if replaces is not None:
        for old in load_policies(folder):
            if old.name != name and old.meta.get("workload") == replaces:
                old.path.with_suffix(".json").unlink(missing_ok=True)
                old.path.unlink(missing_ok=True)
    return c_file


@dataclass(frozen=True)
class Rerecord:
    """A stored policy's score on a workload its record does not cover (other trace bytes, another
    kernel, a trace added to the context), to be written into its metadata."""

    policy: str  # the policy's .c file
    workload: str
    objective: str
    metrics: dict[str, Any]  # as the gate's evaluation gave them, with the workload's sha256
    previous_sha256: str | None  # what the record was made on; None: no record for this workload

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rerecord(records: list[Rerecord], when: str, version: str) -> list[Path]:
    """Write each policy's new scores into its metadata (one atomic write per policy), keeping its
    source and its search record, and noting what was replaced and when. Returns the files written."""
    by_policy: dict[str, list[Rerecord]] = {}
    for r in records:
        by_policy.setdefault(r.policy, []).append(r)
    written = []
    for policy, recs in by_policy.items():
        meta_file = Path(policy).with_suffix(".json")
        try:
            meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}  # {}: written by hand
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"{meta_file}: cannot re-record its scores ({exc}); restore it from version control") from exc
        for r in recs:
            meta.setdefault("metrics", {})[r.workload] = r.metrics
            meta.setdefault("rerecorded", []).append({
                "workload": r.workload, "previous_sha256": r.previous_sha256,
                "sha256": r.metrics.get("trace_sha256"), "at": when, "package_version": version})
        written.append(write_atomic(meta_file, json.dumps(meta, indent=2, sort_keys=True) + "\n"))
    return written
