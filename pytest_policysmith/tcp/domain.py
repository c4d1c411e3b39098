"""The tcp domain: a congestion controller (BPF struct_ops) carrying one real flow over an emulated link."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable

from ..domain import Baselines, Domain, Evaluation, Screen
from ..errors import UsageError, did_you_mean
from .candidate import TcpCandidate

LINK_FIELDS: dict[str, type] = {"rate_mbit": float, "delay_ms": float, "queue_bdp": float, "seconds": float, "flows": int}


@dataclass(frozen=True)
class TcpSettings:
    link: dict[str, float]  # the emulated link (see link.py LinkSpec)


class TcpDomain(Domain):
    name: ClassVar[str] = "tcp"
    objectives: ClassVar[tuple[str, ...]] = ("tcp_cost",)
    candidate_class: ClassVar[type] = TcpCandidate
    remeasure: ClassVar[int] = 2  # real flows: a stored cost off its record is measured again, on a new link

    def parse(self, where: Path, fields: dict[str, Any]) -> TcpSettings:
        raw = fields.pop("link", {})
        if not isinstance(raw, dict):
            raise UsageError(f"{where}: field 'link' must be a dict like {{'rate_mbit': 20, 'delay_ms': 20}}")
        unknown = set(raw) - set(LINK_FIELDS)
        if unknown:
            raise UsageError(f"{where}: unknown field(s) link.{', link.'.join(sorted(unknown))}"
                             f"{did_you_mean(unknown, LINK_FIELDS, 'link.')}; known: {', '.join(LINK_FIELDS)}")
        for key, val in raw.items():
            whole = LINK_FIELDS[key] is int
            if isinstance(val, bool) or not isinstance(val, int if whole else (int, float)) or val <= 0:
                raise UsageError(f"{where}: field 'link.{key}' must be a positive {'whole ' if whole else ''}number, "
                                 f"got {val!r}")
        return TcpSettings({k: LINK_FIELDS[k](v) for k, v in raw.items()})

    def unavailable(self) -> str | None:
        from .capability import missing

        return missing()

    def workloads(self, ctx, dirs: Iterable[Path]) -> dict[str, dict]:
        from .capability import require
        from .evaluator import link_sha256, link_spec

        require()
        spec = link_spec(ctx)
        return {spec.name: {"sha256": link_sha256(spec), **spec.as_dict()}}

    def build(self, ctx, template, source: str, name: str):
        from .evaluator import build

        return build(template, source)[0]

    def evaluate(self, ctx, template, source: str, name: str, dirs: Iterable[Path],
                 screen: Screen | None = None) -> Evaluation:
        from .evaluator import evaluate

        return evaluate(source, template, ctx, name)

    def gate_names(self) -> tuple[str, ...]:
        from .evaluator import BASELINES

        return BASELINES

    def baselines(self, ctx, template, dirs: Iterable[Path], *, gate_only: bool = False,
                  timeout: float | None = None) -> Baselines:
        # No search_baselines: real flows through a user-space relay would measure the search's load,
        # so a tcp search starts once every baseline is done.
        from .evaluator import BASELINES, run_baselines

        return run_baselines(ctx, list(dict.fromkeys(ctx.gate)) if gate_only and ctx.gate else BASELINES)  # type: ignore[return-value]

    def expected_errors(self) -> tuple[type[Exception], ...]:
        from .bpf import LoadError
        from .link import LinkError

        return (LinkError, LoadError)

    def cleanup(self) -> None:
        from .cleanup import sweep

        sweep()  # what a crashed worker left in the kernel: controllers, namespaces
