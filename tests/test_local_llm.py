"""The openai generator against a real model served on this machine: llama-cpp-python's server with
Gemma 3 270M (scripts/local-llm.sh). Skips only where the packages cannot be installed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import ROOT, make_context

PORT = "18080"  # not the recipe's 8080, which a user's own server may hold
URL = f"http://127.0.0.1:{PORT}/v1"


@pytest.fixture(scope="module")
def local_llm():
    env = {**os.environ, "POLICYSMITH_LLM_PORT": PORT}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "local-llm.sh")], env=env, capture_output=True,
                          text=True, timeout=3600)
    if proc.returncode == 3:
        pytest.skip(f"the local model cannot be installed here: {proc.stderr.strip()[-300:]}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield URL
    subprocess.run(["bash", str(ROOT / "scripts" / "local-llm.sh"), "stop"], env=env, timeout=60)


@pytest.mark.parametrize("template", ["cache_priority", "tcp_cong_control", "binpack_priority"])
def test_llama_cpp_parses_every_templates_grammar(local_llm, template, tmp_path):
    from pytest_policysmith.generators.llm.grammar import body_grammar, slot_grammars
    from pytest_policysmith.templates import load_template

    tpl = load_template(str(ROOT / "templates" / template))
    files = []
    for k, text in enumerate([body_grammar(tpl), *slot_grammars(tpl)]):  # the one grammar, and each lead's
        files.append(tmp_path / f"body{k}.gbnf")
        files[-1].write_text(text)
    check = ("import sys; from llama_cpp import LlamaGrammar\n"
             "for f in sys.argv[1:]: LlamaGrammar.from_string(open(f).read(), verbose=False)\n"
             "print('ok')")
    out = subprocess.run([str(ROOT / ".venv-llm" / "bin" / "python"), "-c", check, *map(str, files)],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def _synth(pytester, ctx: Path, *args: str):
    return pytester.runpytest("--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"),
                              "-p", "no:cacheprovider", "--synth-generator", "openai", "--synth-model", "local",
                              "--synth-base-url", URL, "--synth-rounds", "2", "--synth-candidates", "3",
                              "--synth-simplify-rounds", "0", "--synth-llm-timeout", "300", "--synth-json", "s.json",
                              # A body needs well under 256 tokens; a reply that rambles to the default cap
                              # of 1024 costs a minute on 2 cores (and is told it was cut either way).
                              "--synth-max-reply-tokens", "256",
                              "--synth-report", "none", *args)


def _llm_candidates(pytester) -> tuple[dict, list[dict]]:
    s = json.loads((pytester.path / "s.json").read_text())
    return s, [c for c in s["candidates"] if c["origin"].startswith("llm")]


def test_a_short_cache_synthesis_with_the_real_model(local_llm, pytester, small_trace):
    ctx = make_context(pytester, small_trace)
    res = _synth(pytester, ctx)
    assert res.ret == 0, res.stdout.str()
    s, llm = _llm_candidates(pytester)
    assert s["llm"]["requests"] >= 6 and s["llm"]["failed_requests"] == 0
    assert s["settings"]["generator_options"]["grammar"] is True and len(llm) >= 6
    # Under the grammar every reply that reached the checker (not a repeat of an earlier candidate, not
    # cut at the token cap) is a body that passes the static rules and compiles.
    checked = [c for c in llm if c["checks"]]
    assert checked and all(c["checks"]["test_uses_only_declared_inputs"] == c["checks"]["test_compiles"] == "passed"
                           for c in checked), checked


def test_a_short_tcp_synthesis_with_the_real_model(local_llm, pytester):
    from pytest_policysmith.tcp.capability import missing

    if missing():
        pytest.skip(missing())
    ctx = pytester.mkdir("tcpctx")
    decl = {"domain": "tcp", "link": {"rate_mbit": 20, "delay_ms": 5, "queue_bdp": 2, "seconds": 2},
            "template": str(ROOT / "templates" / "tcp_cong_control"), "gate": ["cubic"]}
    (ctx / "conftest.py").write_text(f"policysmith_context = {decl!r}\n")
    (ctx / "test_rules.py").write_text((ROOT / "contexts" / "tcp_cc" / "test_rules.py").read_text())
    res = _synth(pytester, ctx, "--synth-candidates", "2")
    assert res.ret == 0, res.stdout.str()
    s, llm = _llm_candidates(pytester)
    assert s["llm"]["failed_requests"] == 0 and len(llm) >= 4
    checked = [c for c in llm if c["checks"]]
    assert checked and all(c["checks"]["test_uses_only_declared_inputs"] == c["checks"]["test_compiles"] == "passed"
                           for c in checked), checked
