"""pytest hooks and options for pytest-policysmith. Only hooks live here; the work is elsewhere.

One plugin object per mode is registered in ``pytest_configure`` and holds that mode's state
(``modes/``); a plain regression run needs none:
- regression (plain ``pytest contexts/X``): the context's tests run over its stored policies;
- controller (``--synthesize``): the search loop runs instead of the test loop;
- inner (``--synth-inner``, started by the controller): every round's rules and evaluations;
- transfer (``--transfer``/``--sweep``): stored heuristics across other workloads.
"""

from __future__ import annotations

import argparse

import pytest

from .context import DECLARATION
from .session import KEY, PolicysmithSession


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("policysmith", "policysmith: synthesize and gate heuristics")
    g.addoption("--synthesize", action="store_true", help="run the search for the given context instead of its tests")
    g.addoption("--synth-rounds", type=int, default=None, help="rounds (default: context's, else 36)")
    g.addoption("--synth-candidates", type=int, default=None, help="candidates per round (default: context's, else 25)")
    g.addoption("--synth-parents", type=int, default=None, help="best candidates so far used as parents (default 2)")
    g.addoption("--synth-generator", default=None, help="candidate generator: evolve (offline, default) or openai")
    g.addoption("--synth-model", default=None, help="model name, for the openai generator (recorded with the run)")
    g.addoption("--synth-base-url", default=None,
                help="OpenAI-compatible server (default $OPENAI_BASE_URL, else api.openai.com); key from $OPENAI_API_KEY")
    g.addoption("--synth-repairs", type=int, default=2, help="repairs per rejected LLM candidate (default 2)")
    g.addoption("--synth-concurrency", type=int, default=None,
                help="concurrent LLM requests (default 1 for a server on this machine, which answers one at a "
                     "time and would make queued requests time out; else 8)")
    g.addoption("--synth-max-cost", type=float, default=None, metavar="USD", help="stop cleanly at this LLM spend")
    g.addoption("--synth-max-tokens", type=int, default=None, help="stop cleanly at this many LLM tokens")
    g.addoption("--synth-max-reply-tokens", type=int, default=1024, metavar="N",
                help="token cap per LLM reply (max_tokens; a cut reply is told so); 0 sends none (default 1024)")
    g.addoption("--synth-context-window", type=int, default=None, metavar="TOKENS",
                help="the model's context window: every prompt is cut to fit it with room for the reply "
                     "(older repair turns first); default: no cut")
    g.addoption("--synth-grammar", default="auto", choices=("auto", "on", "off"),
                help="constrain LLM replies to the template's grammar of valid bodies (GBNF: llama.cpp's grammar, "
                     "vLLM's guided_grammar); auto: for every server but api.openai.com (default auto)")
    g.addoption("--synth-temperature", type=float, default=0.8, help="LLM sampling temperature (default 0.8)")
    g.addoption("--synth-llm-timeout", type=float, default=60.0, help="seconds per LLM request (default 60)")
    g.addoption("--synth-llm-retries", type=int, default=5,
                help="retries on 429/5xx/timeouts, with backoff and Retry-After (default 5)")
    g.addoption("--synth-prices", default=None, metavar="TOML", help="price table for --synth-max-cost")
    g.addoption("--synth-no-llm-cache", action="store_true",
                help="do not reuse cached LLM replies (by default a rerun with the same seed costs nothing)")
    g.addoption("--synth-simplify-rounds", type=int, default=8, metavar="N",
                help="rounds after the search that drop terms, branches and digits the winner does not need "
                     "(the score may worsen by at most 0.05%%); 0 keeps the raw winner (default 8)")
    g.addoption("--synth-baseline-timeout", type=float, default=120.0, metavar="SECONDS",
                help="CPU-seconds per baseline policy shown beside a search (they run first; the last ones "
                     "beside it, at a lower priority); a slower one (libCacheSim's LFUDA on some traces) is "
                     "reported as a timeout and the search goes on (default 120)")
    g.addoption("--synth-seed", type=int, default=0, help="random seed; the same seed gives the same run (default 0)")
    g.addoption("--synth-archive", default=None, help="SQLite archive (default: <rootdir>/.policysmith/archive.sqlite)")
    g.addoption("--synth-resume", nargs="?", const="latest", default=None, metavar="RUN_ID",
                help="resume an interrupted run (default: the context's latest)")
    g.addoption("--synth-accept", action="store_true", help="write the winner into the context's policies/ folder")
    g.addoption("--synth-json", default=None, metavar="PATH", help="write a run summary as JSON")
    g.addoption("--synth-report", default=None, metavar="DIR",
                help="HTML run report folder (default: .policysmith/runs/RUN_ID/report; 'none' for no report)")
    g.addoption("--synth-traces", default=None, help="trace directories (os.pathsep-separated); default $POLICYSMITH_TRACES")
    g.addoption("--transfer", default=None, metavar="DATASET_OR_DIR",
                help="evaluate the stored heuristics and all baselines on every trace of a dataset (win rate, report)")
    g.addoption("--sweep", default=None, metavar="SIZES",
                help="miss ratio against cache size for the stored heuristics and baselines, e.g. 0.01,0.03,0.1,0.2")
    g.addoption("--synth-inner", default=None, help=argparse.SUPPRESS)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    from .modes import select_mode

    config.addinivalue_line("markers", "policysmith_gate: a regression gate (stored policies only, not in synthesis)")
    config.stash[KEY] = PolicysmithSession(config)
    for name, mode in select_mode(config):
        config.pluginmanager.register(mode, name)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """In every mode, after the mode's own end of session: each used domain cleans up what dead
    processes left (kernel objects, namespaces). Workers leave it to the process that outlives them."""
    if not hasattr(session.config, "workerinput"):
        session.config.stash[KEY].cleanup()


def pytest_plugin_registered(plugin: object, manager: pytest.PytestPluginManager) -> None:
    """A context's conftest was loaded: its tests get the ``candidate`` fixture (once per process)."""
    if hasattr(plugin, DECLARATION) and not manager.has_plugin("policysmith-fixtures"):
        from . import fixtures

        manager.register(fixtures, "policysmith-fixtures")
