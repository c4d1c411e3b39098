"""One session object hung on ``config``: mode, options, contexts, candidates, caches."""

from __future__ import annotations

import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from . import domains
from .cache.evaluator import Evaluation
from .cache.traces import search_dirs
from .checking.candidate import Candidate
from .context import DECLARATION, Context, find_context_root, load_context
from .errors import UsageError
from .search.spec import InnerSpec
from .storage.policies import load_policies
from .templates import Template, load_template

KEY = pytest.StashKey["PolicysmithSession"]()
SPEC_KEY = "policysmith_spec"  # workerinput key: the inner spec travels to xdist workers with it


class PolicysmithSession:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.synthesize: bool = bool(config.getoption("synthesize"))
        inner = config.getoption("synth_inner")
        shipped = getattr(config, "workerinput", {}).get(SPEC_KEY)  # xdist worker, maybe on another host
        self.inner: InnerSpec | None = (InnerSpec.from_dict(shipped) if shipped else
                                        InnerSpec.load(inner) if inner else None)
        self.traces_dirs: list[Path] = ([Path(d) for d in self.inner.traces_dirs] if self.inner
                                        else search_dirs(config.getoption("synth_traces")))
        self._contexts: dict[Path, Context] = {}
        self._templates: dict[str, Template] = {}
        self._evaluations: dict[tuple[str, str], Evaluation] = {}
        self._baselines: dict[str, dict[str, dict]] = {}
        self._lock = threading.Lock()
        self.outcome = None  # SearchOutcome after a synthesis run
        self.search_error: str | None = None
        self.workers = 0
        self.inner_args: list[str] = []  # --tx/--rsyncdir for the inner session (controller only)
        self._slots = None  # inner session: SlotSource
        self.transfer = None  # TransferMode for --transfer / --sweep
        if config.getoption("transfer") or config.getoption("sweep"):
            from .transfer.mode import TransferMode

            try:
                self.transfer = TransferMode(config.getoption("transfer"), config.getoption("sweep"))
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
        self.context: Context | None = None  # controller: the context being searched
        self.template: Template | None = None
        self.options = None

    @property
    def is_controller(self) -> bool:
        return self.synthesize and self.inner is None

    # -- contexts ----------------------------------------------------------------------
    def declarations(self) -> dict[Path, Any]:
        found = {}
        for plugin in self.config.pluginmanager.get_plugins():
            if isinstance(plugin, ModuleType) and hasattr(plugin, DECLARATION):
                f = getattr(plugin, "__file__", "") or ""
                if f.endswith("conftest.py"):
                    found[Path(f).resolve().parent] = getattr(plugin, DECLARATION)
        return found

    def context_for(self, path: Path) -> Context | None:
        decls = self.declarations()
        root = find_context_root(Path(path).resolve(), decls)
        if root is None:
            return None
        if root not in self._contexts:
            self._contexts[root] = load_context(root, decls[root])
        return self._contexts[root]

    def uses_tcp(self) -> bool:
        return any(c.domain == "tcp" for c in self._contexts.values())

    def template_for(self, ctx: Context) -> Template:
        if ctx.template not in self._templates:
            search = [ctx.root, ctx.root.parent.parent / "templates", self.config.rootpath / "templates"]
            self._templates[ctx.template] = load_template(ctx.template, search)
        return self._templates[ctx.template]

    # -- candidates ----------------------------------------------------------------------
    def candidate_ids(self, ctx: Context) -> list[str]:
        """What ``candidate`` is parametrized over: the run's slots, or the stored policies."""
        if self.inner is not None:
            return self.inner.slots()
        return [c.id for c in self.stored_candidates(ctx)]

    def stored_candidates(self, ctx: Context) -> list[Candidate]:
        template = self.template_for(ctx)
        return [Candidate(p.name, p.source, template, ctx, "stored", p.path, p.meta)
                for p in load_policies(ctx.policies_dir)]

    def slot_candidate(self, slot: str, path: Path) -> Candidate:
        """Inner session: the candidate in a slot, once its round is generated (skips if none)."""
        if self._slots is None:
            from .search.inner import SlotSource

            ctx = self.context_for(path)
            self._slots = SlotSource(self.inner, self.template_for(ctx), ctx)
        return self._slots.get(slot)

    def slot_screen(self, slot: str) -> float | None:
        """Inner session: the cascade bar of the slot's round (None outside a search)."""
        return self._slots.screen(slot) if self._slots is not None else None

    def candidate(self, cid: str, path: Path) -> Candidate:
        if self.inner is not None:
            return self.slot_candidate(cid, path)
        for cand in self.stored_candidates(self.context_for(path)):
            if cand.id == cid:
                return cand
        raise LookupError(cid)

    def evaluation(self, cand: Candidate, screen: float | None = None) -> Evaluation:
        key = (cand.context.name, cand.id)
        if key not in self._evaluations:
            self._evaluations[key] = domains.evaluate(cand.context, cand.template, cand.source, cand.id,
                                                      self.traces_dirs, screen)
        return self._evaluations[key]

    def baselines(self, ctx: Context) -> dict[str, dict]:
        """workload -> policy -> result for the context's gate (cache: plus Belady), once per session."""
        with self._lock:
            if ctx.name not in self._baselines:
                self._baselines[ctx.name] = domains.baselines(ctx, self.template_for(ctx), self.traces_dirs,
                                                              gate_only=True)
            return self._baselines[ctx.name]

    def unless_no_store(self, work):
        """Run a gate's ``work``; where no trace store is configured at all (a fresh clone, say) and a
        trace can be neither found nor fetched, skip with what is missing and how to supply it. With a
        store configured (as in CI) a missing trace fails, as a gate must."""
        from .cache.traces import TRACES_ENV, TraceError

        try:
            return work()
        except TraceError as exc:
            if self.traces_dirs:
                raise
            first = str(exc).splitlines()[0]
            pytest.skip(f"{first} (no trace store configured: set {TRACES_ENV} or --synth-traces to a folder "
                        "that holds it, e.g. ../shared/traces)")

    def validate_options(self) -> None:
        for opt in ("synth_repairs", "synth_llm_retries", "synth_simplify_rounds"):
            val = self.config.getoption(opt)
            if val is not None and val < 0:
                raise UsageError(f"--{opt.replace('_', '-')} must be 0 or more, got {val}")
        for opt in ("synth_rounds", "synth_candidates", "synth_parents", "synth_concurrency", "synth_max_tokens"):
            val = self.config.getoption(opt)
            if val is not None and val < 1:
                raise UsageError(f"--{opt.replace('_', '-')} must be at least 1, got {val}")
