"""Contexts: a folder whose ``conftest.py`` declares ``policysmith_context = {...}``.

The declaration is validated here, field by field, so a typo is a usage error that names
the file and the field before any work starts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from . import registry
from .errors import UsageError, did_you_mean, rename_hint

DECLARATION = "policysmith_context"
# The fields every context may declare, whatever its domain (a domain adds its own).
CORE_FIELDS = ("domain", "objective", "template", "gate", "search", "rtol", "atol")


@dataclass(frozen=True)
class SearchDefaults:
    rounds: int = 36
    candidates: int = 25
    parents: int = 2
    generator: str = "evolve"
    # A cheap search may go on longer: with ``small_rounds``, a search whose workloads are smaller in
    # all than ``small_below`` (in the domain's unit: requests, for cache traces) runs that many rounds.
    # Declared as a dict {below: rounds}, it holds several such tiers (kept as sorted pairs).
    small_rounds: int | tuple[tuple[int, int], ...] | None = None
    small_below: int = 0

    def size_tiers(self) -> tuple[tuple[int, int], ...]:
        """The (below, rounds) tiers, smallest bound first: the first that a search's size is under
        gives its rounds."""
        if self.small_rounds is None:
            return ()
        if isinstance(self.small_rounds, tuple):
            return self.small_rounds
        return ((self.small_below, self.small_rounds),)


@dataclass(frozen=True)
class Context:
    name: str
    root: Path
    domain: str
    objective: str
    template: str
    settings: Any = None  # the domain's own fields (a frozen dataclass: traces, a link, instances ...)
    gate: tuple[str, ...] = ()
    search: SearchDefaults = field(default_factory=SearchDefaults)
    rtol: float = 1e-9
    atol: float = 1e-9

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    @property
    def plugin(self) -> Any:
        """The context's domain (``domain.py``)."""
        return registry.domain(self.domain)

    def as_dict(self) -> dict[str, Any]:
        """What a run records of its context, the domain's fields inline (no machine paths: results
        are committed and moved)."""
        d = {k: v for k, v in asdict(self).items() if k not in ("root", "settings")}
        if is_dataclass(self.settings) and not isinstance(self.settings, type):
            d.update(asdict(self.settings))
        return d


def load_context(root: Path, declaration: Any) -> Context:
    """Validate a ``policysmith_context`` dict declared in ``root/conftest.py``."""
    where = root / "conftest.py"
    if not isinstance(declaration, dict):
        raise UsageError(f"{where}: {DECLARATION} must be a dict, not {type(declaration).__name__}")
    d = dict(declaration)
    domain = registry.domain(need(where, d, "domain", str), f"{where}: ")
    settings = domain.parse(where, d)
    objective = d.pop("objective", domain.objectives[0])
    if objective not in domain.objectives:
        raise UsageError(f"{where}: field 'objective' is {objective!r}; choose one of {', '.join(domain.objectives)}")
    template = need(where, d, "template", str)
    gate = _gate(where, d.pop("gate", ()), domain)
    search = _search(where, d.pop("search", {}))
    rtol, atol = float(d.pop("rtol", 1e-9)), float(d.pop("atol", 1e-9))
    if d:
        known = [*CORE_FIELDS, *(f.name for f in fields(settings))] if is_dataclass(settings) else CORE_FIELDS
        raise UsageError(f"{where}: unknown field(s) {', '.join(sorted(d))} in {DECLARATION}"
                         f"{did_you_mean(d, known)}")
    return Context(name=root.name, root=root.resolve(), domain=domain.name, objective=objective, template=template,
                   settings=settings, gate=gate, search=search, rtol=rtol, atol=atol)


def need(where: Path, d: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """Pop a required field of a declaration, checking its type (domains use it for their fields)."""
    if key not in d:
        raise UsageError(f"{where}: {DECLARATION} is missing field {key!r}{rename_hint(key, d)}")
    val = d.pop(key)
    if not isinstance(val, kind) or (kind is int and isinstance(val, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise UsageError(f"{where}: field {key!r} must be {names}, got {val!r}")
    return val


def _gate(where: Path, raw: Any, domain: Any) -> tuple[str, ...]:
    """The gate's policy names, each one the domain knows (a typo here would fail every gate test)."""
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)) or not all(isinstance(p, str) for p in raw):
        raise UsageError(f"{where}: field 'gate' must be a list of baseline names, e.g. ['LRU'], got {raw!r}")
    known = domain.gate_names()
    if known is not None and (unknown := [p for p in raw if p not in known]):
        raise UsageError(f"{where}: field 'gate' names {', '.join(unknown)}, not a baseline of the {domain.name} "
                         f"domain{did_you_mean(unknown, known)}; its baselines: {', '.join(sorted(known))}")
    return tuple(raw)


def _check_whole(where: Path, key: str, val: Any, least: int) -> None:
    """Search budgets are counts; a float or a bool there is a typo, not a budget."""
    if not isinstance(val, int) or isinstance(val, bool) or val < least:
        kind = "a positive integer" if least == 1 else f"a whole number ({least} or more)"
        raise UsageError(f"{where}: field 'search.{key}' must be {kind}, got {val!r}")


def _search(where: Path, raw: Any) -> SearchDefaults:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: field 'search' must be a dict")
    unknown = set(raw) - set(SearchDefaults.__dataclass_fields__)
    if unknown:
        raise UsageError(f"{where}: unknown field(s) search.{', search.'.join(sorted(unknown))}"
                         f"{did_you_mean(unknown, SearchDefaults.__dataclass_fields__, 'search.')}")
    if isinstance(raw.get("small_rounds"), dict):
        raw = {**raw, "small_rounds": _tiers(where, raw["small_rounds"], raw.get("small_below"))}
    out = SearchDefaults(**raw)
    for key in ("rounds", "candidates", "parents"):
        _check_whole(where, key, getattr(out, key), least=1)
    if out.small_rounds is not None and not isinstance(out.small_rounds, tuple):
        _check_whole(where, "small_rounds", out.small_rounds, least=1)
    _check_whole(where, "small_below", out.small_below, least=0)
    if isinstance(out.small_rounds, int) and not out.small_below:
        raise UsageError(f"{where}: field 'search.small_rounds' needs 'search.small_below', the workload size "
                         f"below which a search is small (e.g. 2000000 requests for cache traces)")
    return out


def _tiers(where: Path, tiers: dict, below: Any) -> tuple[tuple[int, int], ...]:
    """``search.small_rounds`` as a dict {workload size below: rounds}, checked, smallest bound first."""
    if below:
        raise UsageError(f"{where}: field 'search.small_below' goes with a number of 'search.small_rounds'; "
                         f"a dict of small_rounds names its own bounds ({{2000000: 120}}), so drop small_below")
    if not tiers:
        raise UsageError(f"{where}: field 'search.small_rounds' is an empty dict; give {{size below: rounds}}, "
                         f"e.g. {{100000: 240, 2000000: 120}}")
    for size, rounds in tiers.items():
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise UsageError(f"{where}: field 'search.small_rounds' has the bound {size!r}; a bound is a workload "
                             f"size, a positive integer (requests, for cache traces)")
        _check_whole(where, f"small_rounds[{size}]", rounds, least=1)
    return tuple(sorted(tiers.items()))


def find_context_root(path: Path, declarations: dict[Path, Any]) -> Path | None:
    """The nearest folder at or above ``path`` whose conftest declares a context."""
    for folder in [path, *path.parents] if path.is_dir() else path.parents:
        if folder.resolve() in declarations:
            return folder.resolve()
    return None
