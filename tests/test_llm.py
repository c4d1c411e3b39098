"""The openai generator, end to end: the real openai client over real HTTP to a local server."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from openai_server import ChatServer, Reply, code
from helpers import ROOT, make_context

KEY = "sk-test-DO-NOT-LEAK-42"
GOOD = "return now + {k} * obj.count;"


def good_reply(req: dict) -> Reply:
    """A distinct, valid heuristic per request (so none is dropped as a duplicate)."""
    return code(GOOD.format(k=req.get("seed", 0) % 997 + 1))


def is_repair(req: dict) -> bool:
    return "rejected by the checker" in req["messages"][-1]["content"]


@pytest.fixture
def llm_env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("POLICYSMITH_CACHE", str(tmp_path / "cache"))


def run_llm(pytester, ctx, server, *args, rounds=1, candidates=2, subprocess=False):
    """A short openai run (in this process; in a subprocess where the test changes its environment)."""
    run = pytester.runpytest_subprocess if subprocess else pytester.runpytest
    return run(
        "--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"), "-p", "no:cacheprovider",
        "--synth-generator", "openai", "--synth-model", "test-model", "--synth-base-url", server.url,
        "--synth-rounds", str(rounds), "--synth-candidates", str(candidates), "--synth-json", "s.json", *args)


def summary(pytester) -> dict:
    return json.loads((pytester.path / "s.json").read_text())


def test_good_replies_are_checked_scored_and_accounted(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    prices = pytester.path / "prices.toml"
    prices.write_text('[models."test-model"]\ninput = 1.0\noutput = 2.0\n')
    with ChatServer(good_reply) as server:
        res = run_llm(pytester, ctx, server, "--synth-prices", str(prices), "--synth-no-llm-cache", rounds=2,
                      candidates=3)
    assert res.ret == 0, res.stdout.str()
    s = summary(pytester)
    llm = s["llm"]
    assert llm["requests"] == len(server.requests) == 6
    assert (llm["prompt_tokens"], llm["completion_tokens"]) == (600, 120)
    assert llm["cost_usd"] == pytest.approx((600 * 1.0 + 120 * 2.0) / 1e6)
    assert llm["first_try_pass_rate"] == 1.0 and llm["after_repair_pass_rate"] == 1.0
    db = sqlite3.connect(pytester.path / "a.sqlite")
    origins = {o for (o,) in db.execute("SELECT origin FROM candidates WHERE round BETWEEN 1 AND 2 AND status='evaluated'")}
    assert origins == {"llm:first", "llm:improve"}  # the two search rounds; polish and simplify follow
    assert server.purposes() == ["first"] * 3 + ["improve"] * 3
    first = server.requests[0]["messages"]
    assert first[0]["role"] == "system" and "double priority(" in first[0]["content"]
    assert "LRU: `return now;`" in first[1]["content"]
    # Each request of a round has its own angle (a small model otherwise repeats the first example).
    firsts = [r["messages"][1]["content"] for r in server.requests[:3]]
    assert len(set(firsts)) == 3 and all("Idea to use:" in f for f in firsts)
    assert len({r["messages"][1]["content"] for r in server.requests[3:]}) == 3
    improve = server.requests[3]["messages"][1]["content"]
    assert "miss ratio 0." in improve and "//" not in improve  # parents with scores, comments stripped
    assert all(r["auth"] == f"Bearer {KEY}" for r in server.requests)
    res.stdout.fnmatch_lines(["*llm: 6 requests*100% first try*"])
    # The key went to the server and nowhere else.
    for path in [pytester.path / "a.sqlite", pytester.path / "s.json", *pytester.path.rglob("inner.log")]:
        assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in res.stdout.str() + res.stderr.str()


def test_compile_error_goes_back_with_the_compilers_text(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    responder = lambda req: good_reply(req) if is_repair(req) else code(f"return now + {req['seed'] % 97} + ;")
    with ChatServer(responder) as server:
        res = run_llm(pytester, ctx, server, "--synth-concurrency", "1", candidates=2)
    assert res.ret == 0, res.stdout.str()
    repairs = [r for r in server.requests if is_repair(r)]
    assert len(repairs) == 2
    msgs = repairs[0]["messages"]
    assert msgs[-2]["role"] == "assistant" and " + ;" in msgs[-2]["content"]  # the same conversation
    assert "test_compiles" in msgs[-1]["content"] and "expected expression" in msgs[-1]["content"]
    assert "candidate.c:1:" in msgs[-1]["content"]  # line numbers are the candidate's own
    assert msgs[-1]["content"].count("expected expression") == 1  # once, though every compiling rule failed
    assert "```" not in msgs[-1]["content"].split("rejected by the checker")[1].split("Fix the problem")[0]
    assert all(r.get("max_tokens") == 1024 for r in server.requests)  # a cap on every reply
    llm = summary(pytester)["llm"]
    assert llm["first_try_pass_rate"] == 0.0 and llm["after_repair_pass_rate"] == 1.0
    assert llm["pass_rate_by_repairs"] == [0.0, 1.0, 1.0]
    db = sqlite3.connect(pytester.path / "a.sqlite")
    rows = db.execute("SELECT id, attempt, status FROM candidates WHERE round=1 ORDER BY id").fetchall()
    assert rows == [("r01c00", 0, "failed"), ("r01c00a1", 1, "evaluated"),
                    ("r01c01", 0, "failed"), ("r01c01a1", 1, "evaluated")]


def test_reply_without_a_code_block_gets_a_repair_message(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    responder = lambda req: good_reply(req) if is_repair(req) else Reply("I would use LRU.")
    with ChatServer(responder) as server:
        res = run_llm(pytester, ctx, server, candidates=1)
    assert res.ret == 0, res.stdout.str()
    repair = [r for r in server.requests if is_repair(r)][0]["messages"][-1]["content"]
    assert "no code block" in repair
    assert summary(pytester)["llm"]["after_repair_pass_rate"] == 1.0


def test_429_then_success_honours_retry_after(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    calls = iter(range(10**6))
    lock = threading.Lock()

    def responder(req):
        with lock:
            n = next(calls)
        return Reply(status=429, headers={"Retry-After": "1"}) if n == 0 else good_reply(req)

    with ChatServer(responder) as server:
        res = run_llm(pytester, ctx, server, "--synth-concurrency", "1", candidates=1)
    assert res.ret == 0, res.stdout.str()
    assert len(server.requests) == 2
    llm = summary(pytester)["llm"]
    assert llm["requests"] == 1 and llm["failed_requests"] == 0 and llm["first_try_pass_rate"] == 1.0
    assert llm["retries"] == 1 and llm["timeouts"] == 0


def test_500_storm_exhausts_retries_and_stops_cleanly(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    with ChatServer(lambda req: Reply(status=500)) as server:
        res = run_llm(pytester, ctx, server, "--synth-llm-retries", "2", candidates=2, rounds=3)
    assert res.ret == 1, res.stdout.str()
    assert len(server.requests) == 6  # 2 conversations x (1 + 2 retries), then the run stops
    s = summary(pytester)
    assert "HTTP 500" in s["stop_reason"] and "after 3 attempts" in s["stop_reason"]
    assert s["rounds_log"][0]["round"] == 0  # the seeds' round is kept
    res.stdout.fnmatch_lines(["*stopped*HTTP 500*"])


def test_timeout_is_retried(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    calls = iter(range(10**6))

    def responder(req):
        return Reply(delay=4.0, content="late") if next(calls) == 0 else good_reply(req)

    with ChatServer(responder) as server:
        res = run_llm(pytester, ctx, server, "--synth-llm-timeout", "1", "--synth-concurrency", "1", candidates=1)
    assert res.ret == 0, res.stdout.str()
    assert len(server.requests) == 2
    assert summary(pytester)["evaluated"] >= 1
    llm = summary(pytester)["llm"]
    assert llm["timeouts"] == 1 and llm["retries"] == 1 and llm["longest_request_seconds"] >= 1.0
    res.stdout.fnmatch_lines(["*llm: 1 requests (0 cached, 0 failed, 1 retries, 1 timeouts*"])


def test_budget_stops_the_run_and_keeps_everything(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    with ChatServer(good_reply) as server:
        res = run_llm(pytester, ctx, server, "--synth-max-tokens", "250", "--synth-concurrency", "1",
                      rounds=4, candidates=2)
    assert res.ret == 0, res.stdout.str()
    s = summary(pytester)
    assert len(server.requests) == 3  # 120 tokens each: the 4th would start past 250
    assert "budget reached: 360 of 250 tokens" in s["stop_reason"]
    assert s["llm"]["requests"] == 3 and s["llm"]["prompt_tokens"] == 300
    db = sqlite3.connect(pytester.path / "a.sqlite")
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE round>0 AND status='evaluated'").fetchone()[0] == 3
    assert db.execute("SELECT COUNT(*) FROM candidates WHERE status='pending'").fetchone()[0] == 0


def test_rerun_with_same_seed_is_served_from_the_cache(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    with ChatServer(good_reply) as server:
        assert run_llm(pytester, ctx, server, candidates=2).ret == 0
        first = summary(pytester)
        n = len(server.requests)
        assert run_llm(pytester, ctx, server, candidates=2).ret == 0
        second = summary(pytester)
    assert len(server.requests) == n  # nothing new was asked
    assert second["llm"]["cached"] == second["llm"]["requests"] and second["llm"]["cost_usd"] == 0
    assert second["best"]["source"] == first["best"]["source"]


def test_openai_needs_a_model(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    res = pytester.runpytest("--synthesize", str(ctx), "--synth-generator", "openai",
                             "--synth-base-url", "http://127.0.0.1:9/v1")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    assert "--synth-model" in res.stderr.str()


def test_a_missing_openai_package_is_a_one_line_usage_error(pytester, small_trace, llm_env, monkeypatch):
    """Where ``import openai`` fails, the run stops before any work with what to install, not an INTERNALERROR."""
    blocker = pytester.mkdir("no_openai")
    (blocker / "openai.py").write_text("raise ImportError('No module named openai')\n")
    monkeypatch.setenv("PYTHONPATH", str(blocker))
    ctx = make_context(pytester, small_trace)
    res = run_llm(pytester, ctx, type("S", (), {"url": "http://127.0.0.1:9/v1"})(), subprocess=True)
    assert res.ret == pytest.ExitCode.USAGE_ERROR, res.stdout.str() + res.stderr.str()
    assert "needs the openai package" in res.stderr.str() and "pip install openai" in res.stderr.str()
    assert "INTERNALERROR" not in res.stdout.str() + res.stderr.str()


def test_a_duplicate_reply_keeps_its_slot_and_goes_back_as_feedback(pytester, small_trace, llm_env):
    """Request r01c01's reply repeats r01c00's: it is stored in its own slot as rejected with a reason the model
    can act on (no later candidate moves into its slot), and first-round candidates record no parents, since
    the first prompt shows none."""
    ctx = make_context(pytester, small_trace)

    def responder(req: dict) -> Reply:
        if is_repair(req):
            return good_reply(req)
        return code("return now + 7 * obj.count;") if req["seed"] % 3 != 2 else code("return now + 2 * obj.freq;")

    with ChatServer(responder) as server:
        res = run_llm(pytester, ctx, server, "--synth-concurrency", "1", "--synth-repairs", "1", candidates=3)
    assert res.ret == 0, res.stdout.str()
    db = sqlite3.connect(pytester.path / "a.sqlite")
    rows = dict((i, (st, fb or "", par)) for i, st, fb, par in
                db.execute("SELECT id, status, feedback, parents FROM candidates WHERE round=1 AND attempt=0"))
    seeds = [server.requests[k]["seed"] for k in range(3)]
    dup_slots = [f"r01c{k:02d}" for k, s in enumerate(seeds) if s % 3 != 2][1:]
    for slot in dup_slots:
        assert rows[slot][0] == "failed" and "same as a heuristic already checked" in rows[slot][1], rows
    assert all(par == "[]" for _, _, par in rows.values())
    assert {f"r01c{k:02d}" for k in range(3)} <= set(rows)  # every request's slot is its own
    assert summary(pytester)["llm"]["duplicate_replies"] == len(dup_slots)


def test_extraction_takes_the_first_usable_block_or_a_bare_return():
    from pytest_policysmith.generators.llm.prompts import extract_code

    echoed = ("You said:\n```\nYour code was rejected by the checker\n```\nHere it is:\n```c\nreturn now;\n```\n"
              "```c\nreturn -now;\n```")
    assert extract_code(echoed, "priority") == ("return now;\n", None)  # prose in a fence is not code
    assert extract_code("  return now + obj.count;  ", "priority") == ("return now + obj.count;\n", None)
    code, err = extract_code("```c\nreturn now +", "priority", cut=True)
    assert code is None and "cut off at the length limit" in err and "```" not in err
    code, err = extract_code("I think LRU is best.", "priority")
    assert code is None and "no code block" in err


def test_a_reply_cut_at_the_token_cap_is_told_so(pytester, small_trace, llm_env):
    ctx = make_context(pytester, small_trace)
    responder = lambda req: good_reply(req) if is_repair(req) else Reply("```c\nreturn now + obj.count * (",
                                                                        finish_reason="length")
    with ChatServer(responder) as server:
        res = run_llm(pytester, ctx, server, "--synth-max-reply-tokens", "64", candidates=2)
    assert res.ret == 0, res.stdout.str()
    assert all(r["max_tokens"] == 64 for r in server.requests)
    repairs = [r for r in server.requests if is_repair(r)]
    assert len(repairs) == 2 and "cut off at the length limit" in repairs[0]["messages"][-1]["content"]


def test_a_server_on_this_machine_gets_one_request_at_a_time(pytester, small_trace, llm_env):
    """A local server (llama.cpp) answers one request at a time: by default the plugin does not queue
    requests behind each other there (they timed out after 172-339 s with 8 at once)."""
    ctx = make_context(pytester, small_trace)
    active, peak = [0], [0]
    lock = threading.Lock()

    def responder(req):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        import time

        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return good_reply(req)

    with ChatServer(responder) as server:
        res = run_llm(pytester, ctx, server, candidates=4)
    assert res.ret == 0, res.stdout.str()
    assert peak[0] == 1 and len(server.requests) == 4


def test_prompts_are_cut_to_fit_the_context_window(pytester, small_trace, llm_env):
    """Repair prompts reached about 3,000 tokens against a 4,096-token window: with --synth-context-window
    every request fits, with room for the reply, and the latest feedback is still there."""
    ctx = make_context(pytester, small_trace)
    (ctx / "test_wordy.py").write_text("def test_wordy(candidate):\n    assert candidate.origin.startswith('seed') "
                                       "or 'ps_div' in candidate.source, 'a very long explanation. ' * 400\n")
    with ChatServer(lambda req: code(f"return now + {req['seed'] % 89} * obj.count;")) as server:
        res = run_llm(pytester, ctx, server, "--synth-repairs", "2", "--synth-context-window", "2048",
                      "--synth-max-reply-tokens", "512", candidates=1)
    assert res.ret == 0, res.stdout.str()
    repairs = [r for r in server.requests if is_repair(r)]
    assert len(repairs) == 2
    for r in repairs:
        assert sum(len(m["content"]) for m in r["messages"]) <= (2048 - 512) * 3
        assert "test_wordy" in r["messages"][-1]["content"] and "cut to fit the context window" in \
            r["messages"][-1]["content"]
    assert len(repairs[1]["messages"]) == 4  # the older repair turn was dropped first


def test_the_template_grammar_goes_to_a_local_server_and_its_bare_bodies_are_used(pytester, small_trace, llm_env):
    """--synth-grammar auto sends the template's GBNF (llama.cpp's ``grammar``, vLLM's ``guided_grammar``)
    to a server that is not OpenAI's; a reply decoded under it is a bare ``return ...;``, which is used."""
    from pytest_policysmith.generators.llm.grammar import slot_grammars
    from pytest_policysmith.templates import load_template

    ctx = make_context(pytester, small_trace)
    bodies = iter(["return now + 2 * obj.count;", "return cache.last_evicted - 3 * obj.size;"])
    with ChatServer(lambda req: Reply(next(bodies))) as server:
        res = run_llm(pytester, ctx, server, candidates=2)
    assert res.ret == 0, res.stdout.str()
    # Each request gets its slot's grammar: the template's language, its body led by the slot's input.
    want = slot_grammars(load_template(str(ROOT / "templates" / "cache_priority")))
    assert len(server.requests) == 2
    for k, r in enumerate(server.requests):
        assert r["grammar"] == want[k] == r["guided_grammar"]
    assert want[0].startswith('root ::= "return " "now" (') and want[1].startswith('root ::= "return " "cache.last_evicted"')
    s = summary(pytester)
    assert s["settings"]["generator_options"]["grammar"] is True
    llm = [c for c in s["candidates"] if c["origin"].startswith("llm")]
    assert llm and all(c["status"] == "evaluated" for c in llm)

    with ChatServer(good_reply) as server:
        assert run_llm(pytester, ctx, server, "--synth-grammar", "off").ret == 0
    assert server.requests and not any("grammar" in r for r in server.requests)


def test_the_grammar_states_the_templates_language():
    from pytest_policysmith.generators.llm.grammar import body_grammar, slot_grammars, wanted
    from pytest_policysmith.templates import load_template

    cache = body_grammar(load_template(str(ROOT / "templates" / "cache_priority")))
    assert '"obj.count"' in cache and '"ghost.hit"' in cache and '"pow(" expr ", " expr ")"' in cache
    assert '"/"' not in cache  # ps_div divides (x / 0 is inf)
    tcp = body_grammar(load_template(str(ROOT / "templates" / "tcp_cong_control")))
    assert '"hist.srtt_us[" [0-9] "]"' in tcp and '"."' not in tcp and '"/"' not in tcp  # BPF: integers only
    assert not wanted("auto", "https://api.openai.com/v1") and wanted("auto", "http://127.0.0.1:8080/v1")
    # Leads are a template's choice: the cache template names them, tcp none (one grammar for all).
    assert slot_grammars(load_template(str(ROOT / "templates" / "tcp_cong_control"))) == []
    lead = slot_grammars(load_template(str(ROOT / "templates" / "cache_priority")))[3]
    assert lead.splitlines()[1:] == cache.splitlines()[1:] and '"obj.freq"' in lead.splitlines()[0]
    assert wanted("on", "https://api.openai.com/v1") and not wanted("off", "http://127.0.0.1:8080/v1")
