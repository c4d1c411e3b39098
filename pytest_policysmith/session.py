"""The workspace every mode shares, hung on ``config``: contexts, templates and cached results.

What differs between modes (where candidates come from, what a session does at its end)
lives on the mode's plugin object (``modes/``); this object only knows how to find a
context, its template and candidates, and caches evaluations and baselines per session.
Nothing heavy is imported until a context is used.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar

import pytest

from .paths import TRACES_ENV, search_dirs

if TYPE_CHECKING:
    from .checking.candidate import Candidate
    from .context import Context
    from .domain import Baselines, Evaluation, Screen
    from .templates import Template

KEY = pytest.StashKey["PolicysmithSession"]()
T = TypeVar("T")


class CandidateSource(Protocol):
    """Where the ``candidate`` fixture's values come from: stored policies, or a run's slots."""

    def ids(self, ctx: Context) -> list[str]: ...

    def get(self, cid: str, ctx: Context) -> Candidate: ...

    def why_none(self, ctx: Context) -> str:
        """Why ``ids`` is empty, and what to do: the reason the context's tests skip with."""
        ...


class StoredPolicies:
    """Regression and transfer: the context's accepted policies (``policies/``)."""

    def __init__(self, ps: PolicysmithSession):
        self.ps = ps

    def ids(self, ctx: Context) -> list[str]:
        return [c.id for c in self.ps.stored_candidates(ctx)]

    def get(self, cid: str, ctx: Context) -> Candidate:
        for cand in self.ps.stored_candidates(ctx):
            if cand.id == cid:
                return cand
        raise LookupError(cid)

    def why_none(self, ctx: Context) -> str:
        return (f"no stored policy in {ctx.policies_dir}: search for one and store it with "
                f"pytest --synthesize {ctx.root} --synth-accept")


class PolicysmithSession:
    def __init__(self, config: pytest.Config, traces_dirs: list[Path] | None = None):
        self.config = config
        self.traces_dirs: list[Path] = traces_dirs if traces_dirs is not None else \
            search_dirs(config.getoption("synth_traces"))
        self.source: CandidateSource = StoredPolicies(self)
        self.workload: str | None = None  # an inner session of a per-workload search: its one workload
        self._contexts: dict[Path, Context] = {}
        self._roots: dict[Path, Path] = {}  # a test's path -> its context's folder
        self._templates: dict[str, Template] = {}
        self._evaluations: dict[tuple[str, str], Evaluation] = {}
        self._baselines: dict[str, Baselines] = {}
        self._lock = threading.Lock()

    # -- contexts ----------------------------------------------------------------------
    def declarations(self) -> dict[Path, Any]:
        from .context import DECLARATION

        found = {}
        for plugin in self.config.pluginmanager.get_plugins():
            if isinstance(plugin, ModuleType) and hasattr(plugin, DECLARATION):
                f = getattr(plugin, "__file__", "") or ""
                if f.endswith("conftest.py"):
                    found[Path(f).resolve().parent] = getattr(plugin, DECLARATION)
        return found

    def context_for(self, path: Path) -> Context | None:
        from .context import find_context_root, load_context

        root = self._roots.get(path)  # asked once per test item: the walk up the folders is not free
        if root is None:
            root = find_context_root(Path(path).resolve(), self.declarations())
            if root is None:
                return None  # not remembered: a conftest collected later may declare it
            self._roots[path] = root
        if root not in self._contexts:
            ctx = load_context(root, self.declarations()[root])
            self._contexts[root] = ctx.plugin.only(ctx, self.workload) if self.workload else ctx
        return self._contexts[root]

    def cleanup(self) -> None:
        """Each used domain's end-of-session cleanup (what crashed workers left in the kernel, say)."""
        for domain in dict.fromkeys(c.plugin for c in self._contexts.values()):
            domain.cleanup()

    def template_for(self, ctx: Context) -> Template:
        from .templates import load_template

        if ctx.template not in self._templates:
            search = [ctx.root, ctx.root.parent.parent / "templates", self.config.rootpath / "templates"]
            self._templates[ctx.template] = load_template(ctx.template, search)
        return self._templates[ctx.template]

    # -- candidates ----------------------------------------------------------------------
    def stored_candidates(self, ctx: Context) -> list[Candidate]:
        from .checking.candidate import make_candidate
        from .storage.policies import load_policies

        template = self.template_for(ctx)
        # A per-workload search's winner is gated on its own workload (recorded when accepted).
        return [make_candidate(ctx.plugin.only(ctx, p.meta["workload"]) if p.meta.get("workload") else ctx,
                               id=p.name, source=p.source, template=template, origin="stored", path=p.path,
                               meta=p.meta) for p in load_policies(ctx.policies_dir)]

    def candidate(self, cid: str, path: Path) -> Candidate:
        ctx = self.context_for(path)
        assert ctx is not None, f"{path} is in no context"
        return self.source.get(cid, ctx)

    def evaluation(self, cand: Candidate, screen: Screen | None = None) -> Evaluation:
        key = (cand.context.name, cand.id)
        if key not in self._evaluations:
            self._evaluations[key] = self.fresh_evaluation(cand, screen)
        return self._evaluations[key]

    def fresh_evaluation(self, cand: Candidate, screen: Screen | None = None) -> Evaluation:
        """The candidate's score measured now, never the cached one: :meth:`evaluation` keeps the first,
        and a noisy domain's gate measures again with this (``Domain.remeasure``)."""
        ctx = cand.context
        return ctx.plugin.evaluate(ctx, cand.template, cand.source, cand.id, self.traces_dirs, screen)

    def baselines(self, ctx: Context) -> Baselines:
        """workload -> policy -> result for the context's gate (and the domain's references), once per session."""
        with self._lock:
            if ctx.name not in self._baselines:
                self._baselines[ctx.name] = ctx.plugin.baselines(ctx, self.template_for(ctx), self.traces_dirs,
                                                                 gate_only=True)
            return self._baselines[ctx.name]

    def gate_work(self, ctx: Context, work: Callable[[], T]) -> T:
        """Run a gate's ``work``. A domain that cannot run here (no root for tcp, say) skips with why.
        Where no trace store is configured at all (a fresh clone, say) and a workload's data can be
        neither found nor fetched, skip with what is missing and how to supply it; with a store
        configured (as in CI) a missing trace fails, as a gate must."""
        from .errors import MissingData

        why = ctx.plugin.unavailable()
        if why:
            pytest.skip(f"the {ctx.domain} gate cannot run here: {why}")
        try:
            return work()
        except MissingData as exc:
            if self.traces_dirs:
                raise
            first = str(exc).splitlines()[0]
            pytest.skip(f"{first} (no trace store configured: set {TRACES_ENV} or --synth-traces to a folder "
                        "that holds it, e.g. ../shared/traces)")
