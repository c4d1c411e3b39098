"""The TCP EVALUATOR: a candidate controller, loaded in the kernel, carrying one real flow.

The score is a cost to minimise (like a miss ratio):

    tcp_cost = (1 - utilization) + 0.5 * queue_delay_p95 / base_rtt + 2 * retransmit_rate

utilization is goodput over the link rate (about 0.95 is the ceiling, headers excluded),
queue_delay_p95 the 95th percentile of sampled RTT minus the flow's minimum RTT, and
retransmit_rate the share of segments sent again. Every metric is stored besides it.
With ``link.flows`` above 1, each measurement is that many flows on the same link and the one
with the median cost is reported (all costs stored in ``flow_costs``): a rare bad flow (a
controller's occasional long queue, a stalled relay) moves one flow, not the score.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Iterator

from ..compile import Binary, compile_bpf
from ..context import Context
from ..domain import Evaluation
from . import bpf
from .link import SETUP, Link, LinkSpec

DELAY_WEIGHT, RETRANS_WEIGHT = 0.5, 2.0
BASELINES = ("cubic", "bbr", "reno")
OBJECTIVE = "tcp_cost"


@dataclass(frozen=True)
class FlowResult:
    policy: str
    throughput_mbps: float
    utilization: float
    rtt_mean_ms: float
    rtt_p95_ms: float
    queue_delay_p95_ms: float
    retransmits: int
    retransmit_rate: float
    tcp_cost: float
    paper: bool = True  # shown in the summary table
    reference: bool = False  # a controller is never a bound
    flow_costs: tuple[float, ...] = ()  # every flow's cost, where a measurement is several flows

    def as_dict(self) -> dict:
        return asdict(self)


def flow_result(policy: str, raw: dict, spec: LinkSpec) -> FlowResult:
    rtts = sorted(raw["rtt_samples_us"]) or [0]
    thr = raw["bytes_acked"] * 8 / raw["seconds"] / 1e6
    util = thr / spec.rate_mbit
    p95 = rtts[min(len(rtts) - 1, int(0.95 * len(rtts)))] / 1e3
    base = (raw["min_rtt_us"] or spec.rtt_ms * 1e3) / 1e3
    qdelay = max(0.0, p95 - base)
    rate = raw["retransmits"] / max(raw["segs_out"], 1)
    cost = (1 - util) + DELAY_WEIGHT * qdelay / spec.rtt_ms + RETRANS_WEIGHT * rate
    return FlowResult(policy, thr, util, statistics.fmean(rtts) / 1e3, p95, qdelay, raw["retransmits"], rate, cost)


def measure(link: Link, cc: str, name: str) -> FlowResult:
    """The median-cost flow of ``link.spec.flows`` flows with ``cc``."""
    spec = link.spec
    runs = sorted((flow_result(name, link.flow(cc), spec) for _ in range(spec.flows)), key=lambda r: r.tcp_cost)
    mid = runs[len(runs) // 2]  # the upper median, for an even count
    return replace(mid, flow_costs=tuple(r.tcp_cost for r in runs)) if len(runs) > 1 else mid


def link_spec(ctx: Context) -> LinkSpec:
    return LinkSpec(**ctx.settings.link)


def link_sha256(spec: LinkSpec) -> str:
    """The identity of the workload, recorded with scores (the link, how it is built, and the kernel
    it ran on): a record from a link built another way does not apply."""
    return hashlib.sha256(json.dumps({**spec.as_dict(), **SETUP, "kernel": os.uname().release},
                                     sort_keys=True).encode()).hexdigest()


def cc_name(source: str) -> str:
    """Unique per process and source (CC names are global; 15 characters at most)."""
    return f"p{os.getpid():x}_{hashlib.sha256(source.encode()).hexdigest()[:13 - len(f'{os.getpid():x}')]}"


def build(template, source: str, name: str | None = None) -> tuple[Binary, str]:
    """Render and compile with clang; CompileError carries clang's stderr (candidate lines)."""
    cc = name or cc_name(source)
    return compile_bpf(template.render(source, cc_name=cc), bpf.vmlinux_dir()), cc


@contextmanager
def loaded(template, source: str) -> Iterator[str]:
    """The controller registered in the kernel for the duration; always unregistered by id."""
    obj, cc = build(template, source)
    reg = bpf.register(obj.path)
    try:
        yield cc
    finally:
        bpf.unregister(reg.id)
        bpf.wait_gone(reg.id)


def evaluate(source: str, template, ctx: Context, name: str = "candidate") -> Evaluation:
    from .cleanup import sweep

    sweep()
    spec = link_spec(ctx)
    with loaded(template, source) as cc, Link(spec) as link:
        res = measure(link, cc, name)
    per = {spec.name: {**res.as_dict(), "trace_sha256": link_sha256(spec)}}
    return Evaluation(res.tcp_cost, per)


def run_baselines(ctx: Context, policies=BASELINES) -> dict[str, dict[str, FlowResult]]:
    spec = link_spec(ctx)
    out = {}
    with Link(spec) as link:
        for cc in policies:
            out[cc] = measure(link, cc, cc)
    return {spec.name: out}


def sweep_stale_controllers() -> list[int]:
    """Unregister controllers left by processes that no longer exist."""
    gone = []
    for reg in bpf.registered():
        m = re.fullmatch(r"p([0-9a-f]+)_[0-9a-f]+", reg.name)
        if m and not os.path.exists(f"/proc/{int(m.group(1), 16)}"):
            bpf.unregister(reg.id)
            gone.append(reg.id)
    return gone
