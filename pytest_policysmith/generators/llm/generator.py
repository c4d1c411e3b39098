"""``openai``: candidates written by an LLM, repaired from the CHECKER's feedback.

Each candidate is one conversation: system prompt (the template's declaration), then the
``first`` or ``improve`` request. A rejected candidate goes back into its own
conversation with the feedback (``repair``), up to ``repairs`` times. Requests run
concurrently; every request and its token usage goes to the archive.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from ...errors import UsageError
from ...outcomes import Stop, StopKind
from ...storage.archive import Archive
from ...templates import Template
from ..base import Failure, Parent, Proposal, mark_repeats
from . import prompts
from .grammar import body_grammar, slot_grammars, wanted
from .client import Budget, BudgetExhausted, ChatClient, LLMError, LLMSettings, Reply

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KEY_ENV = "OPENAI_API_KEY"


def resolve_endpoint(base_url: str | None) -> tuple[str, str]:
    """(base URL, API key): options first, then OPENAI_BASE_URL / OPENAI_API_KEY."""
    url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    key = os.environ.get(KEY_ENV, "")
    if not key:
        if url.rstrip("/") == DEFAULT_BASE_URL:
            raise UsageError(f"--synth-generator openai talks to {DEFAULT_BASE_URL}: set {KEY_ENV}, or point "
                             "--synth-base-url at a local server (vLLM, Ollama, llama.cpp)")
        key = "not-needed"  # local servers ignore it, but the client wants one
    return url, key


@dataclass
class LLMGenerator:
    template: Template
    seed: int
    settings: LLMSettings
    client: ChatClient | None
    archive: Archive | None = None
    run_id: str | None = None
    name: str = "openai"
    stop: Stop | None = None
    _last_error: str | None = None
    lead_grammars: list[str] = field(default_factory=list)  # one per slot (grammar.slot_grammars)

    @property
    def repairs(self) -> int:
        return self.settings.repairs

    @classmethod
    def create(cls, template: Template, seed: int, model: str | None, archive=None, run_id: str | None = None,
               rounds: int = 0, **options) -> "LLMGenerator":  # rounds: the search's length, unused here
        if not model:
            raise UsageError("--synth-generator openai needs --synth-model (e.g. gpt-4o-mini, or your server's model)")
        try:
            import openai  # noqa: F401  (checked here, before any work, not first in the inner session)
        except ImportError as exc:
            raise UsageError(f"--synth-generator openai needs the openai package ({exc}); install it: "
                             "pip install openai") from None
        prompts.check_prompts(template)
        url, key = resolve_endpoint(options.pop("base_url", None))
        if options.get("concurrency") is None:
            options["concurrency"] = 1 if _local(url) else 8
        options["grammar"] = body_grammar(template) if options.get("grammar") else None
        settings = LLMSettings(model=model, base_url=url, **options)
        if settings.max_cost is not None and model not in _prices(settings):
            raise UsageError(f"--synth-max-cost needs a price for model {model!r}; add it to the price table "
                             f"(--synth-prices FILE, see {__package__}/prices.toml)")
        spent = archive.llm_totals(run_id) if archive is not None and run_id else {}
        budget = Budget(settings.max_cost, settings.max_tokens, spent.get("cost_usd", 0.0),
                        spent.get("prompt_tokens", 0) + spent.get("completion_tokens", 0))
        client = ChatClient(settings, key, budget) if archive is not None else None
        lead_grammars = slot_grammars(template) if settings.grammar else []
        return cls(template, seed, settings, client, archive, run_id, lead_grammars=lead_grammars)

    # -- Generator protocol ---------------------------------------------------------------
    def propose(self, round_no: int, parents: list[Parent], n: int, seen: set[str]) -> list[Proposal]:
        purpose = "first" if round_no <= 1 else "improve"
        system = prompts.render(self.template, "system")
        shown_parents = [{"id": p.id, "score": p.score, "code": prompts.clean(p.source)} for p in parents]
        # Each request's prompt knows its slot, so a template can give each slot its own angle: with one
        # prompt for all, a small model answers the same first example again and again.
        users = [prompts.render(self.template, purpose, parents=shown_parents, slot=k) for k in range(n)]
        convs = [prompts.fit([{"role": "system", "content": system}, {"role": "user", "content": user}],
                             self.settings.context_window, self.settings.max_reply_tokens) for user in users]
        slots = [(round_no, i, 0) for i in range(n)]
        results = self._ask_all(convs, slots, purpose)
        shown = tuple(p.id for p in parents) if purpose == "improve" else ()  # the first prompt shows no parents
        # A failed request leaves its slot empty (llm_requests says why); a reply keeps its request's slot.
        out = mark_repeats([replace(self._proposal(msgs, res, shown, f"llm:{purpose}"), idx=k)
                            for k, (msgs, res) in enumerate(zip(convs, results)) if res is not None], seen)
        self._give_up_if_nothing(out, results)
        return out

    def repair(self, round_no: int, attempt: int, failures: list[Failure]) -> list[Proposal]:
        convs = []
        for f in failures:
            msgs = list(f.meta.get("messages") or [
                {"role": "system", "content": prompts.render(self.template, "system")},
                {"role": "assistant", "content": f"```c\n{f.source}```"}])
            msgs.append({"role": "user", "content": prompts.render(self.template, "repair", feedback=f.feedback)})
            convs.append(prompts.fit(msgs, self.settings.context_window, self.settings.max_reply_tokens))
        results = self._ask_all(convs, [(round_no, f.idx, attempt) for f in failures], "repair")
        out = []
        for f, msgs, res in zip(failures, convs, results):
            if res is not None:
                prop = self._proposal(msgs, res, (f.id,), "llm:repair")
                out.append(Proposal(prop.source, prop.parent_ids, prop.origin, prop.meta, prop.error, f.idx))
        return out

    # -- internals ---------------------------------------------------------------------------
    def _proposal(self, msgs: list[dict], reply: Reply, parent_ids: tuple[str, ...], origin: str) -> Proposal:
        content = reply.content
        code, error = prompts.extract_code(content, self.template.function, cut=reply.cut)
        meta = {"messages": [*msgs, {"role": "assistant", "content": content}], "model": self.settings.model,
                **({"cut": True} if reply.cut else {})}
        return Proposal(code if code is not None else "", parent_ids, origin, meta, error)

    def _ask_all(self, convs: list[list[dict]], slots: list[tuple[int, int, int]], purpose: str) -> list[Reply | None]:
        """Every conversation's next reply (None where it failed or the budget stopped it)."""
        from ...search.spec import slot_id

        client = self.client
        assert client is not None, "a generator made without an archive only validates its settings"

        def ask(k: int) -> Reply | None:
            r, i, a = slots[k]
            try:
                return client.chat(convs[k], self._request_seed(r, i, a), slot_id(r, i, a), purpose,
                                   self._grammar(i, a))
            except BudgetExhausted as exc:
                self.stop = Stop(StopKind.BUDGET, str(exc))
            except LLMError as exc:
                self._last_error = str(exc)
            return None

        self._last_error = None
        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency)) as pool:
            results = list(pool.map(ask, range(len(convs))))
        self._flush()
        return results

    def _give_up_if_nothing(self, out: list[Proposal], results: list[Reply | None]) -> None:
        if results and all(r is None for r in results) and not self.stop:
            self.stop = Stop(StopKind.SERVICE, f"the LLM service failed every request this round: {self._last_error}")

    def _flush(self) -> None:
        assert self.client is not None and self.archive is not None and self.run_id is not None
        for rec in self.client.take_records():
            self.archive.record_request(self.run_id, rec.slot, rec.purpose, self.settings.model, rec.prompt_tokens,
                                        rec.completion_tokens, rec.cost_usd, rec.seconds, rec.status, rec.cached,
                                        rec.error, rec.attempts, rec.timeouts)

    def _grammar(self, idx: int, attempt: int) -> str | None:
        """Slot ``idx``'s grammar: its lead, moved on by one for each repair (a repeat under the same
        lead tends to come back), or the template's one grammar."""
        grammars = self.lead_grammars
        return grammars[(idx + attempt) % len(grammars)] if grammars else None

    def _request_seed(self, round_no: int, idx: int, attempt: int) -> int:
        h = hashlib.sha256(f"{self.seed}:{round_no}:{idx}:{attempt}".encode()).hexdigest()
        return int(h[:8], 16)


def _local(url: str) -> bool:
    """A server on this machine (llama.cpp, Ollama, vLLM on loopback): usually one request at a time."""
    from urllib.parse import urlparse

    return (urlparse(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def _prices(settings: LLMSettings) -> dict:
    from .client import load_prices

    return load_prices(settings.prices)


def make(template: Template, seed: int, model: str | None = None, **options) -> LLMGenerator:
    """The ``openai`` entry point (``registry.py``)."""
    return LLMGenerator.create(template, seed, model, **options)


def options_from(opt) -> dict:
    """What the generator takes from pytest's options (``opt`` is ``config.getoption``; never the API key)."""
    base_url = opt("synth_base_url") or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    return {"base_url": base_url, "grammar": wanted(opt("synth_grammar") or "auto", base_url),
            "temperature": opt("synth_temperature"),
            "timeout": opt("synth_llm_timeout"), "retries": opt("synth_llm_retries"),
            "concurrency": opt("synth_concurrency"), "repairs": opt("synth_repairs"),
            "max_cost": opt("synth_max_cost"), "max_tokens": opt("synth_max_tokens"),
            "cache": not opt("synth_no_llm_cache"), "prices": opt("synth_prices"),
            "max_reply_tokens": opt("synth_max_reply_tokens") or None,
            "context_window": opt("synth_context_window") or None}
