"""The bin packing domain behind pytest-policysmith's Domain interface."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable

from pytest_policysmith import Domain, Evaluation, Screen, UsageError, need

from .candidate import BinPackCandidate
from .instances import SETS, Instances, load

# FunSearch's baselines, run as seeds of the template through our own harness.
BASELINES = {"BestFit": "best_fit", "FirstFit": "first_fit", "WorstFit": "worst_fit"}
PAPER = ("BestFit", "FirstFit")  # the ones FunSearch reports


@dataclass(frozen=True)
class BinPackSettings:
    instances: str  # "weibull" (generated from the seed), or a published set: "or3", "funsearch_weibull5k"
    count: int = 5
    items: int = 5000
    seed: int = 0


@dataclass(frozen=True)
class PackBaseline:
    policy: str
    excess_bins: float
    bins: list[int]
    paper: bool
    reference: bool = False  # the L1 lower bound is a bound, not a contender

    def as_dict(self) -> dict:
        return asdict(self)


class BinPackDomain(Domain):
    name: ClassVar[str] = "binpack"
    objectives: ClassVar[tuple[str, ...]] = ("excess_bins",)
    candidate_class: ClassVar[type] = BinPackCandidate

    def parse(self, where: Path, fields: dict[str, Any]) -> BinPackSettings:
        kind = need(where, fields, "instances", str)
        if kind not in SETS:
            raise UsageError(f"{where}: field 'instances' is {kind!r}; choose one of {', '.join(SETS)}")
        out = {}
        for key in ("count", "items", "seed"):
            if key in fields:
                val = need(where, fields, key, int)
                if val < (0 if key == "seed" else 1):
                    raise UsageError(f"{where}: field {key!r} must be {'0 or more' if key == 'seed' else 'positive'}")
                out[key] = val
        return BinPackSettings(kind, **out)

    def instances(self, ctx) -> Instances:
        s = ctx.settings
        return load(s.instances, s.count, s.items, s.seed)

    def workloads(self, ctx, dirs: Iterable[Path]) -> dict[str, dict]:
        inst = self.instances(ctx)
        return {inst.name: {"sha256": inst.sha256, "instances": len(inst.sizes),
                            "items": sum(len(s) for s in inst.sizes)}}

    def build(self, ctx, template, source: str, name: str):
        from .pack import build

        return build(template, source, name)

    def evaluate(self, ctx, template, source: str, name: str, dirs: Iterable[Path],
                 screen: Screen | None = None) -> Evaluation:
        from .pack import build, pack

        inst = self.instances(ctx)
        res = pack(build(template, source, name), inst)
        return Evaluation(res.excess_bins, {inst.name: {**res.as_dict(), "trace_sha256": inst.sha256}})

    def gate_names(self) -> tuple[str, ...]:
        return tuple(BASELINES)

    def baselines(self, ctx, template, dirs: Iterable[Path], *, gate_only: bool = False,
                  timeout: float | None = None):
        from .pack import build, pack

        inst = self.instances(ctx)
        seeds = template.seeds()
        wanted = [p for p in BASELINES if not gate_only or p in ctx.gate]  # gate names checked on load
        out: dict[str, Any] = {}
        for policy in wanted:
            res = pack(build(template, seeds[BASELINES[policy]], BASELINES[policy]), inst)
            out[policy] = PackBaseline(policy, res.excess_bins, res.bins, policy in PAPER)
        out["L1 bound"] = PackBaseline("L1 bound", 0.0, inst.l1, False, reference=True)
        return {inst.name: out}
