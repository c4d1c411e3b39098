"""Contexts: a folder whose ``conftest.py`` declares ``policysmith_context = {...}``.

The declaration is validated here, field by field, so a typo is a usage error that names
the file and the field before any work starts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .cache.simulator import parse_cache_size
from .errors import UsageError

DECLARATION = "policysmith_context"
DOMAINS = ("cache", "tcp")
OBJECTIVES = {"cache": ("object_miss_ratio", "byte_miss_ratio"), "tcp": ("tcp_cost",)}
LINK_FIELDS = {"rate_mbit": (int, float), "delay_ms": (int, float), "queue_bdp": (int, float), "seconds": (int, float)}


@dataclass(frozen=True)
class SearchDefaults:
    rounds: int = 36
    candidates: int = 25
    parents: int = 2
    generator: str = "evolve"


@dataclass(frozen=True)
class Context:
    name: str
    root: Path
    domain: str
    objective: str
    template: str
    traces: tuple[str, ...] = ()  # cache: the traces to score on
    cache_size: float | int = 0
    ignore_size: bool = False
    link: dict[str, float] | None = None  # tcp: the emulated link (see tcp/link.py LinkSpec)
    gate: tuple[str, ...] = ()
    search: SearchDefaults = field(default_factory=SearchDefaults)
    rtol: float = 1e-9
    atol: float = 1e-9

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    def as_dict(self) -> dict[str, Any]:
        """What a run records of its context (no machine paths: results are committed and moved)."""
        d = asdict(self)
        del d["root"]
        return d


def load_context(root: Path, declaration: Any) -> Context:
    """Validate a ``policysmith_context`` dict declared in ``root/conftest.py``."""
    where = root / "conftest.py"
    if not isinstance(declaration, dict):
        raise UsageError(f"{where}: {DECLARATION} must be a dict, not {type(declaration).__name__}")
    d = dict(declaration)

    def need(key: str, kind: type | tuple[type, ...]):
        if key not in d:
            raise UsageError(f"{where}: {DECLARATION} is missing field {key!r}")
        val = d.pop(key)
        if not isinstance(val, kind) or (kind is int and isinstance(val, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise UsageError(f"{where}: field {key!r} must be {names}, got {val!r}")
        return val

    domain = need("domain", str)
    if domain not in DOMAINS:
        raise UsageError(f"{where}: field 'domain' is {domain!r}; known domains: {', '.join(DOMAINS)}")
    fields: dict[str, Any] = {}
    if domain == "cache":
        traces = need("traces", (list, tuple, str))
        traces = (traces,) if isinstance(traces, str) else tuple(traces)
        if not traces or not all(isinstance(t, str) and t for t in traces):
            raise UsageError(f"{where}: field 'traces' must name at least one trace, e.g. ['cloudphysics/w106']")
        fields["traces"] = traces
        fields["cache_size"] = parse_cache_size(need("cache_size", (int, float)), f"{where}: field 'cache_size'")
        fields["ignore_size"] = d.pop("ignore_size", False)
        if not isinstance(fields["ignore_size"], bool):
            raise UsageError(f"{where}: field 'ignore_size' must be true or false")
    else:
        fields["link"] = _link(where, d.pop("link", {}))
    objective = d.pop("objective", OBJECTIVES[domain][0])
    if objective not in OBJECTIVES[domain]:
        raise UsageError(f"{where}: field 'objective' is {objective!r}; choose one of {', '.join(OBJECTIVES[domain])}")
    template = need("template", str)
    gate = tuple(d.pop("gate", ()))
    search = _search(where, d.pop("search", {}))
    rtol, atol = float(d.pop("rtol", 1e-9)), float(d.pop("atol", 1e-9))
    if d:
        raise UsageError(f"{where}: unknown field(s) {', '.join(sorted(d))} in {DECLARATION}")
    return Context(name=root.name, root=root.resolve(), domain=domain, objective=objective, template=template,
                   gate=gate, search=search, rtol=rtol, atol=atol, **fields)


def _link(where: Path, raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: field 'link' must be a dict like {{'rate_mbit': 20, 'delay_ms': 20}}")
    unknown = set(raw) - set(LINK_FIELDS)
    if unknown:
        raise UsageError(f"{where}: unknown field(s) link.{', link.'.join(sorted(unknown))}; "
                         f"known: {', '.join(LINK_FIELDS)}")
    for key, val in raw.items():
        if not isinstance(val, LINK_FIELDS[key]) or isinstance(val, bool) or val <= 0:
            raise UsageError(f"{where}: field 'link.{key}' must be a positive number, got {val!r}")
    return {k: float(v) for k, v in raw.items()}


def _search(where: Path, raw: Any) -> SearchDefaults:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: field 'search' must be a dict")
    unknown = set(raw) - set(SearchDefaults.__dataclass_fields__)
    if unknown:
        raise UsageError(f"{where}: unknown field(s) search.{', search.'.join(sorted(unknown))}")
    out = SearchDefaults(**raw)
    for key in ("rounds", "candidates", "parents"):
        val = getattr(out, key)
        if not isinstance(val, int) or val < 1:
            raise UsageError(f"{where}: field 'search.{key}' must be a positive integer, got {val!r}")
    return out


def find_context_root(path: Path, declarations: dict[Path, Any]) -> Path | None:
    """The nearest folder at or above ``path`` whose conftest declares a context."""
    for folder in [path, *path.parents] if path.is_dir() else path.parents:
        if folder.resolve() in declarations:
            return folder.resolve()
    return None


def context_json(ctx: Context) -> str:
    return json.dumps(ctx.as_dict(), sort_keys=True, default=str)
