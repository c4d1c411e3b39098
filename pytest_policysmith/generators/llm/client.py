"""One chat request, done carefully: retries with backoff, budget, usage, response cache.

Requests go through the real ``openai`` client (``max_retries=0``: retrying is ours, so
that ``Retry-After`` is honoured and every attempt is counted). The API key is never
written anywhere: not to the archive, the cache keys, logs or error messages.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import random
import threading
import time
import tomllib
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import UsageError
from ...paths import cache_dir

PRICES = Path(__file__).with_name("prices.toml")
BACKOFF = (0.5, 30.0)  # first delay and cap, seconds


class LLMError(Exception):
    """The service failed for this request, after retries (message is safe to show)."""


class BudgetExhausted(Exception):
    pass


@dataclass(frozen=True)
class LLMSettings:
    model: str
    base_url: str
    temperature: float = 0.8
    timeout: float = 60.0
    retries: int = 5
    concurrency: int = 8
    repairs: int = 2
    max_cost: float | None = None
    max_tokens: int | None = None
    cache: bool = True
    prices: str | None = None
    max_reply_tokens: int | None = 1024  # per reply (max_tokens): a local server otherwise fills its window
    context_window: int | None = None  # tokens; prompts are cut to fit it with room for the reply
    grammar: str | None = None  # GBNF every reply must follow (sent where the server decodes under it)


@dataclass
class Reply:
    content: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cached: bool
    seconds: float
    cut: bool = False  # the server stopped it at the token cap (finish_reason "length")


@dataclass
class RequestRecord:
    slot: str
    purpose: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    seconds: float
    status: str  # ok | error | budget
    cached: bool
    error: str | None = None
    attempts: int = 1  # 1 + retries
    timeouts: int = 0  # attempts that timed out


def load_prices(path: str | None) -> dict[str, tuple[float, float]]:
    file = Path(path) if path else PRICES
    try:
        data = tomllib.loads(file.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"--synth-prices {file}: cannot read the price table ({exc})") from exc
    out = {}
    for model, p in data.get("models", {}).items():
        if not isinstance(p, dict) or not {"input", "output"} <= set(p):
            raise UsageError(f"{file}: models.{model} needs 'input' and 'output' (USD per million tokens)")
        out[model] = (float(p["input"]), float(p["output"]))
    return out


@dataclass
class Budget:
    """Spending so far (including earlier sessions of a resumed run) against the limits."""

    max_cost: float | None
    max_tokens: int | None
    cost: float = 0.0
    tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self) -> None:
        with self._lock:
            if self.max_cost is not None and self.cost >= self.max_cost:
                raise BudgetExhausted(f"budget reached: ${self.cost:.4f} of ${self.max_cost:.4f} spent")
            if self.max_tokens is not None and self.tokens >= self.max_tokens:
                raise BudgetExhausted(f"budget reached: {self.tokens} of {self.max_tokens} tokens used")

    def add(self, tokens: int, cost: float) -> None:
        with self._lock:
            self.tokens += tokens
            self.cost += cost


class ChatClient:
    def __init__(self, settings: LLMSettings, api_key: str, budget: Budget):
        import openai

        self.settings, self.budget, self._key = settings, budget, api_key
        self.prices = load_prices(settings.prices)
        self._openai = openai
        self._client = openai.OpenAI(base_url=settings.base_url, api_key=api_key, max_retries=0,
                                     timeout=settings.timeout)
        self.records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def redact(self, text: str) -> str:
        return text.replace(self._key, "[api key]") if self._key and len(self._key) >= 4 else text

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        p_in, p_out = self.prices.get(self.settings.model, (0.0, 0.0))
        return (prompt_tokens * p_in + completion_tokens * p_out) / 1e6

    def chat(self, messages: list[dict], seed: int, slot: str, purpose: str, grammar: str | None = None) -> Reply:
        """One completion; retried on 429, 5xx, timeouts and connection errors. ``grammar`` replaces
        the settings' grammar for this request."""
        request: dict[str, Any] = {"model": self.settings.model, "messages": messages,
                                   "temperature": self.settings.temperature, "seed": seed}
        if self.settings.max_reply_tokens:
            request["max_tokens"] = self.settings.max_reply_tokens
        grammar = grammar or self.settings.grammar
        if grammar:
            request["extra_body"] = {"grammar": grammar, "guided_grammar": grammar}
        cached = self._cached(request)
        if cached is not None:
            self._record(RequestRecord(slot, purpose, cached.prompt_tokens, cached.completion_tokens, 0.0, 0.0,
                                       "ok", True))
            return cached
        self.budget.check()
        t0 = time.perf_counter()
        last = ""
        timeouts = 0
        for attempt in range(self.settings.retries + 1):
            try:
                resp = self._client.chat.completions.create(**request)
            except self._openai.APIStatusError as exc:
                last = f"HTTP {exc.status_code}: {self.redact(str(exc.message))[:300]}"
                if exc.status_code != 429 and exc.status_code < 500:
                    break  # 4xx other than 429 will not get better by waiting
                self._sleep(attempt, exc.response.headers.get("retry-after"))
                continue
            except (self._openai.APITimeoutError, self._openai.APIConnectionError) as exc:
                timeouts += isinstance(exc, self._openai.APITimeoutError)
                last = f"{type(exc).__name__}: {self.redact(str(exc))[:300]}"
                self._sleep(attempt, None)
                continue
            reply = self._reply(resp, time.perf_counter() - t0)
            self.budget.add(reply.prompt_tokens + reply.completion_tokens, reply.cost_usd)
            self._record(RequestRecord(slot, purpose, reply.prompt_tokens, reply.completion_tokens, reply.cost_usd,
                                       reply.seconds, "ok", False, None, attempt + 1, timeouts))
            self._store(request, reply)
            return reply
        tries = min(attempt + 1, self.settings.retries + 1)
        msg = f"{self.settings.base_url}: {last} (after {tries} attempt{'s' if tries > 1 else ''})"
        self._record(RequestRecord(slot, purpose, 0, 0, 0.0, time.perf_counter() - t0, "error", False, msg, tries,
                                   timeouts))
        raise LLMError(msg)

    def _reply(self, resp, seconds: float) -> Reply:
        usage = getattr(resp, "usage", None)
        pt = int(getattr(usage, "prompt_tokens", 0) or 0)
        ct = int(getattr(usage, "completion_tokens", 0) or 0)
        content = (resp.choices[0].message.content or "") if resp.choices else ""
        cut = bool(resp.choices) and resp.choices[0].finish_reason == "length"
        return Reply(content, pt, ct, self.cost(pt, ct), False, seconds, cut)

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        if attempt >= self.settings.retries:
            return
        delay = min(BACKOFF[1], BACKOFF[0] * 2 ** attempt) * random.uniform(0.5, 1.0)
        if retry_after:
            delay = max(delay, _retry_after_seconds(retry_after))
        time.sleep(min(delay, BACKOFF[1] * 4))

    def _record(self, rec: RequestRecord) -> None:
        with self._lock:
            self.records.append(rec)

    def take_records(self) -> list[RequestRecord]:
        with self._lock:
            out, self.records = self.records, []
        return out

    # -- response cache: a rerun with the same seed and prompts costs nothing ---------------
    def _cache_path(self, request: dict) -> Path:
        key = json.dumps({"base_url": self.settings.base_url, **request}, sort_keys=True)
        return cache_dir() / "llm" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"

    def _cached(self, request: dict) -> Reply | None:
        if not self.settings.cache:
            return None
        path = self._cache_path(request)
        try:
            d = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return Reply(d["content"], d["prompt_tokens"], d["completion_tokens"], 0.0, True, 0.0, d.get("cut", False))

    def _store(self, request: dict, reply: Reply) -> None:
        if not self.settings.cache:
            return
        path = self._cache_path(request)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"content": reply.content, "prompt_tokens": reply.prompt_tokens,
                                   "completion_tokens": reply.completion_tokens, "cut": reply.cut}))
        tmp.replace(path)


def _retry_after_seconds(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else 0.0
