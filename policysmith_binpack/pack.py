"""Compile a candidate into the packing harness and run it, sandboxed, over a set of instances."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from pytest_policysmith import EvaluationError, Limits, compile_c, run_limited

from .instances import Instances

LIMITS = Limits(cpu_seconds=60, wall_seconds=120, address_space=1 << 30)


@dataclass(frozen=True)
class PackResult:
    excess_bins: float  # (mean bins - mean L1 bound) / mean L1 bound: FunSearch's figure, lower is better
    bins: list[int]
    l1: list[int]
    nonfinite_priorities: int

    def as_dict(self) -> dict:
        return asdict(self)


def build(template, source: str, name: str = "candidate"):
    return compile_c(template.render(source, candidate_name=name))


def pack(binary, inst: Instances, limits: Limits = LIMITS) -> PackResult:
    run = run_limited([str(binary.path), str(inst.path)], limits)
    if not run.ok:
        raise EvaluationError(f"{run.breach or f'packer exited with code {run.returncode}'}\n{run.stderr}".strip())
    data = json.loads(run.stdout)
    bins, l1 = data["bins"], inst.l1
    excess = (sum(bins) - sum(l1)) / sum(l1)
    return PackResult(excess, bins, l1, data["nonfinite"])
