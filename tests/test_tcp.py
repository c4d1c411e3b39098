"""The tcp domain on the real kernel: clang, the BPF verifier, struct_ops, namespaces and real flows.

Everything here needs root, BTF and struct_ops; without them the tests skip and say what is missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import ROOT
from pytest_policysmith.checking.rules import static_violations
from pytest_policysmith.errors import CompileError
from pytest_policysmith.tcp import bpf
from pytest_policysmith.tcp.capability import compile_missing, missing
from pytest_policysmith.tcp.link import Link, LinkSpec, our_namespaces, sweep_stale
from pytest_policysmith.templates import load_template

needs_kernel = pytest.mark.skipif(missing() is not None, reason=f"tcp needs: {missing()}")
needs_clang = pytest.mark.skipif(compile_missing() is not None, reason=f"BPF compile needs: {compile_missing()}")
SHORT = {"rate_mbit": 20, "delay_ms": 20, "queue_bdp": 2, "seconds": 3}


@pytest.fixture(scope="module")
def tcp_template():
    return load_template(str(ROOT / "templates" / "tcp_cong_control"))


def ours() -> list[str]:
    """Controllers registered by this test process (names carry the pid)."""
    return [r.name for r in bpf.registered() if r.name.startswith(f"p{os.getpid():x}_")]


def test_static_rules_are_integer_only(tcp_template):
    assert static_violations("return tp.cwnd + rs.acked_sacked;", tcp_template) == []
    assert static_violations("__s64 s = 0; for (int i = 0; i < 10; i++) s += hist.bw[i]; return s;",
                             tcp_template) == []
    assert any("ps_div" in v for v in static_violations("return tp.cwnd / 2;", tcp_template))
    assert any("integer" in v for v in static_violations("return tp.cwnd * 0.7;", tcp_template))
    assert any("not a declared input" in v for v in static_violations("return tp.snd_una;", tcp_template))


@needs_clang
def test_seeds_compile_with_clang(tcp_template):
    from pytest_policysmith.tcp.evaluator import build

    for name, src in tcp_template.seeds().items():
        obj, cc = build(tcp_template, src)
        assert obj.path.read_bytes()[:4] == b"\x7fELF", name
        assert len(cc) <= 15


@needs_clang
def test_clang_errors_point_at_the_candidates_lines(tcp_template):
    from pytest_policysmith.tcp.evaluator import build

    with pytest.raises(CompileError) as err:
        build(tcp_template, "__s64 x = 1;\nreturn tp.cwnd + y;")
    assert "candidate.c:2:" in str(err.value) and "'y'" in str(err.value)


@needs_kernel
def test_verifier_rejection_is_feedback_and_leaves_nothing(tcp_template):
    from pytest_policysmith.tcp.evaluator import loaded

    before = bpf.registered()
    with pytest.raises(bpf.LoadError) as err:
        with loaded(tcp_template, "return hist.bw[tp.cwnd];"):  # an unbounded stack index
            pass
    text = err.value.feedback
    assert "verifier rejected" in text and "libbpf" in text
    assert len(text.splitlines()) < 25  # the tail, not the whole log
    assert bpf.registered() == before and ours() == []


@needs_kernel
def test_a_seed_loads_and_unregisters_by_id(tcp_template):
    from pytest_policysmith.tcp.evaluator import loaded

    with loaded(tcp_template, tcp_template.seeds()["reno"]) as cc:
        assert cc in ours()
        avail = Path("/proc/sys/net/ipv4/tcp_available_congestion_control").read_text().split()
        assert cc in avail
    assert ours() == []
    assert cc not in Path("/proc/sys/net/ipv4/tcp_available_congestion_control").read_text().split()


@needs_kernel
def test_link_has_the_configured_rtt_and_rate():
    default_cc = Path("/proc/sys/net/ipv4/tcp_congestion_control").read_text()
    with Link(LinkSpec(**SHORT)) as link:
        raw = link.flow("cubic")
    mbit = raw["bytes_acked"] * 8 / raw["seconds"] / 1e6
    assert 12 < mbit < 20.5  # a 20 Mbit/s bottleneck
    assert 39_000 < raw["min_rtt_us"] < 48_000  # 2 x 20 ms from the relay
    assert our_namespaces() == []
    assert Path("/proc/sys/net/ipv4/tcp_congestion_control").read_text() == default_cc  # never changed


@needs_kernel
def test_link_ends_know_each_other_without_arp():
    """Static neighbor entries: no ARP crosses the delay line, so the first flow on a link is like the rest."""
    from pytest_policysmith.tcp.link import RECEIVER_IP, SENDER_IP

    def show(*argv: str) -> str:
        return subprocess.run(["ip", *argv], capture_output=True, text=True, check=True).stdout

    with Link(LinkSpec(**SHORT)) as link:
        macs = {ns: json.loads(show("-n", ns, "-j", "link", "show", dev))[0]["address"]
                for ns, dev in ((link.sender, "s0"), (link.receiver, "d0"))}
        for ns, peer, ip in ((link.sender, link.receiver, RECEIVER_IP), (link.receiver, link.sender, SENDER_IP)):
            (entry,) = json.loads(show("-n", ns, "-j", "neigh", "show"))
            assert (entry["dst"], entry["lladdr"], entry["state"]) == (ip, macs[peer], ["PERMANENT"])


@needs_kernel
def test_killed_evaluator_leaves_are_swept():
    """A worker killed mid-flow leaves namespaces behind; the next sweep removes them."""
    code = textwrap.dedent("""
        import time
        from pytest_policysmith.tcp.link import Link, LinkSpec
        with Link(LinkSpec(seconds=30)) as link:
            print("up", flush=True)
            link.flow("cubic")
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "up"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [ns for ns in our_namespaces() if f"-{proc.pid}-" in ns]
    assert len(left) == 3
    removed = sweep_stale()
    assert set(left) <= set(removed)
    assert not [ns for ns in our_namespaces() if f"-{proc.pid}-" in ns]


@needs_kernel
def test_synthesis_on_a_short_link(pytester):
    ctx = pytester.mkdir("tcpctx")
    decl = {"domain": "tcp", "link": SHORT, "template": str(ROOT / "templates" / "tcp_cong_control"),
            "gate": ["cubic"], "search": {"rounds": 1, "candidates": 2}}
    (ctx / "conftest.py").write_text(f"policysmith_context = {decl!r}\n")
    (ctx / "test_rules.py").write_text((ROOT / "contexts" / "tcp_cc" / "test_rules.py").read_text())
    before_ns, before_cc = set(our_namespaces()), set(bpf.registered())
    res = pytester.runpytest("--synthesize", str(ctx), "--synth-archive", str(pytester.path / "a.sqlite"),
                             "--synth-json", "s.json", "-p", "no:cacheprovider")
    assert res.ret == 0, res.stdout.str()
    s = json.loads((pytester.path / "s.json").read_text())
    assert set(s["check_pass_rates"]) == {"test_uses_only_declared_inputs", "test_compiles", "test_verifier_accepts"}
    seeds = [c for c in s["candidates"] if c["round"] == 0]
    assert all(c["checks"]["test_verifier_accepts"] == "passed" for c in seeds)
    flow = next(iter(seeds[0]["metrics"].values()))
    assert {"throughput_mbps", "utilization", "queue_delay_p95_ms", "retransmits", "tcp_cost"} <= set(flow)
    assert set(next(iter(s["baselines"].values()))) == {"cubic", "bbr", "reno"}
    assert set(our_namespaces()) <= before_ns and set(bpf.registered()) <= before_cc  # nothing left behind


@needs_kernel
def test_a_score_is_the_median_flow_of_several():
    """link.flows: one measurement is several flows on one link, and the median-cost one is the score."""
    from pytest_policysmith.tcp.evaluator import measure

    with Link(LinkSpec(**{**SHORT, "seconds": 1, "flows": 3})) as link:
        res = measure(link, "cubic", "cubic")
    assert len(res.flow_costs) == 3 and list(res.flow_costs) == sorted(res.flow_costs)
    assert res.tcp_cost == res.flow_costs[1]
    assert our_namespaces() == []


def test_link_flows_must_be_a_whole_number(tmp_path):
    from pytest_policysmith.errors import UsageError
    from pytest_policysmith.tcp.domain import TcpDomain

    assert TcpDomain().parse(tmp_path, {"link": {"seconds": 2, "flows": 3}}).link == {"seconds": 2.0, "flows": 3}
    with pytest.raises(UsageError, match=r"'link.flows' must be a positive whole number, got 1.5"):
        TcpDomain().parse(tmp_path, {"link": {"flows": 1.5}})
    with pytest.raises(UsageError, match=r"unknown field\(s\) link.flow; did you mean link.flows instead of link.flow; "
                                         r"known: rate_mbit, delay_ms, queue_bdp, seconds, flows"):
        TcpDomain().parse(tmp_path, {"link": {"flow": 3}})


def test_a_noisy_score_off_its_record_is_measured_again_before_the_gate_fails(tmp_path, small_trace):
    """tcp (real flows) confirms a regression with fresh measurements; an exact domain (cache) does not."""
    from pytest_policysmith.checking.candidate import make_candidate
    from pytest_policysmith.checking.gate import assert_reproduces
    from pytest_policysmith.context import load_context
    from pytest_policysmith.domain import Evaluation

    def ev(cost: float) -> Evaluation:
        return Evaluation(cost, {"w": {"tcp_cost": cost, "trace_sha256": "s", "utilization": 0.8}})

    ctx = load_context(tmp_path, {"domain": "tcp", "link": SHORT, "template": "tcp_cong_control", "rtol": 0.25,
                                  "atol": 0.05})
    record = {"metrics": {"w": {"tcp_cost": 0.2, "trace_sha256": "s", "utilization": 0.9}}}
    cand = make_candidate(ctx, id="p", source="", template=None, meta=record)
    later = iter([ev(0.37), ev(0.21)])
    assert_reproduces(cand, ev(0.38), again=lambda: next(later))  # the third measurement is the record's
    later = iter([ev(0.37), ev(0.36), ev(0.2)])
    with pytest.raises(pytest.fail.Exception, match=r"tcp_cost recorded 0.200000, obtained 0.380000, then 0.370000, "
                                                    r"then 0.360000 .*every one of 3 measurements; besides: "
                                                    r"utilization 0.9 -> 0.8"):
        assert_reproduces(cand, ev(0.38), again=lambda: next(later))
    assert next(later).score == 0.2  # two fresh measurements, no more

    exact = load_context(tmp_path, {"domain": "cache", "traces": [str(small_trace)], "cache_size": 0.1,
                                    "template": "cache_priority"})
    omr = {"metrics": {"w": {"object_miss_ratio": 0.2, "trace_sha256": "s"}}}
    cand = make_candidate(exact, id="p", source="", template=None, meta=omr)
    with pytest.raises(pytest.fail.Exception, match=r"obtained 0.300000 \(rtol"):
        assert_reproduces(cand, Evaluation(0.3, {"w": {"object_miss_ratio": 0.3, "trace_sha256": "s"}}),
                          again=lambda: pytest.fail("a simulation is exact: never measured again"))


@needs_kernel
def test_the_gate_measures_a_stored_controller_again_on_a_new_link(pytester):
    """End to end, on real flows: a record no flow reaches fails only after every fresh measurement."""
    from pytest_policysmith.tcp.evaluator import link_sha256

    link = {**SHORT, "seconds": 1}
    ctx = pytester.mkdir("tcpctx")
    decl = {"domain": "tcp", "link": link, "template": str(ROOT / "templates" / "tcp_cong_control"), "gate": ["cubic"]}
    (ctx / "conftest.py").write_text(f"policysmith_context = {decl!r}\n")
    (ctx / "test_gate.py").write_text((ROOT / "contexts" / "tcp_cc" / "test_gate.py").read_text())
    stored = ROOT / "contexts" / "tcp_cc" / "policies" / "tcp_cc_r02c01_3b18ee"
    (ctx / "policies").mkdir()
    (ctx / "policies" / "p.c").write_text(stored.with_suffix(".c").read_text())
    meta = json.loads(stored.with_suffix(".json").read_text())
    spec = LinkSpec(**{k: float(v) for k, v in link.items()})  # as the context parses it
    meta["metrics"] = {spec.name: {"tcp_cost": 9.0, "trace_sha256": link_sha256(spec)}}  # no flow costs 9
    (ctx / "policies" / "p.json").write_text(json.dumps(meta))
    res = pytester.runpytest(str(ctx), "-p", "no:cacheprovider", "-k", "reproduces")
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines([f"*policy p regressed on {spec.name}: tcp_cost recorded 9.000000, obtained *, then *, "
                              "then * (rtol=*; in every one of 3 measurements*"])
    assert our_namespaces() == []
