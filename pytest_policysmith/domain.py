"""The one interface every domain implements (cache, tcp, yours); the core calls only this.

A domain is found by name through the ``pytest_policysmith.domains`` entry-point group
(``registry.py``), so it can live in this package or in its own. It parses its part of a
context's declaration, names the workloads a score is measured on, builds and scores a
candidate, and runs the baselines shown beside a search.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping, Protocol, Sequence

if TYPE_CHECKING:
    from .context import Context
    from .templates import Template


@dataclass(frozen=True)
class Evaluation:
    """A candidate's score on a context's workloads."""

    score: float | None  # mean objective over the workloads (lower is better); None if screened
    per_trace: dict[str, dict]  # workload name -> metrics + trace_sha256 (+ "proxy", a cheap stage's)
    proxy: float | None = None  # mean objective of a cheap first stage (a sampled trace)
    screened: bool = False  # the cheap stage ruled it out (see Screen), so the full workloads were not run
    clone_of: str | None = None  # screened as the clone of this candidate, already scored in full

    def as_dict(self) -> dict:
        return {"score": self.score, "per_trace": self.per_trace, "proxy": self.proxy, "screened": self.screened,
                "clone_of": self.clone_of}


@dataclass(frozen=True)
class Screen:
    """A search round's cheap first stage, fixed when the round is made from settled rounds only, so
    it is the same however the work is spread over workers.

    A candidate is not scored in full when its cheap score is above ``bar``; nor when, at or below it,
    the cheap score is exactly that of a candidate already scored in full (``scored``). Such a
    candidate is almost always a clone (a mutation in a branch never taken, a constant added to every
    priority): on w106, 180 of 188 scored exactly the same in full. It still breeds, with its
    original's score (``Archive.top(clones=True)``), so the search drifts through such forms as before.
    Simplification, which needs measured scores, screens no clones."""

    bar: float  # inf: every candidate is scored in full (the cheap score is only recorded)
    scored: Mapping[float, str] = field(default_factory=dict)  # cheap score -> the first candidate scored in full

    def clone_of(self, proxy: float, every_workload: bool) -> str | None:
        """The candidate scored in full that one with this cheap score is a clone of, if any. Above the
        bar none: it is screened as before, and breeds no more than it did. Only when the cheap stage
        covered ``every_workload``: one it skipped could tell the two apart."""
        return self.scored.get(proxy) if every_workload and proxy <= self.bar else None


def mean_proxy(metrics: dict | None) -> float | None:
    """A candidate's mean cheap (sample) score over its workloads, if every one has one."""
    values = [m.get("proxy") for m in (metrics or {}).values()]
    return sum(values) / len(values) if values and None not in values else None


class Baseline(Protocol):
    """A hand-made policy's result on one workload; the objective is an attribute named after it."""

    policy: str
    paper: bool  # one of the published baselines (marked in tables)
    reference: bool  # a bound, not a contender (Belady's oracle, a lower bound): never "the best baseline"

    def as_dict(self) -> dict: ...


Baselines = dict[str, dict[str, Baseline]]  # workload -> policy -> result


class Domain:
    """What the core needs of a domain. Subclasses set the class attributes and the methods."""

    name: ClassVar[str]
    objectives: ClassVar[tuple[str, ...]]  # the first is the default
    candidate_class: ClassVar[type]  # the ``candidate`` fixture's type (a Candidate subclass)
    cascade: ClassVar[dict | None] = None  # the cheap first stage's settings, reported in the summary
    # whether one process may run several evaluate() calls at once, in threads (the suite's transfer
    # table does); a domain whose evaluation holds per-process resources (tcp's named links) says no
    threaded_evaluations: ClassVar[bool] = False
    # how many fresh measurements may confirm a stored score that came back off its record before the
    # regression gate fails: 0 where a measurement is exact (a simulation); more where it carries real
    # traffic, whose one bad measurement (a busy host, say) is not the policy's regression
    remeasure: ClassVar[int] = 0

    def parse(self, where: Path, fields: dict[str, Any]) -> Any:
        """Pop this domain's fields from a declaration and return them as a frozen dataclass
        (``Context.settings``); raise UsageError naming ``where`` and the field."""
        raise NotImplementedError

    def unavailable(self) -> str | None:
        """Why this machine cannot score candidates (a missing tool, no root), or None."""
        return None

    def workloads(self, ctx: Context, dirs: Iterable[Path]) -> dict[str, dict]:
        """Workload name -> identity (``sha256`` at least): recorded with a run, checked on resume."""
        raise NotImplementedError

    def workload_size(self, info: dict) -> int | None:
        """How much work one evaluation on a workload is, in the domain's unit, from its
        :meth:`workloads` entry; None if the domain has no such measure (``search.small_rounds``)."""
        return None

    def split(self, ctx: Context, dirs: Iterable[Path]) -> list[str]:
        """The workloads to search one at a time, each for its own heuristic (a context that asks
        for one search per trace, say); empty for one search over all of them."""
        return []

    def only(self, ctx: Context, workload: str) -> Context:
        """The context narrowed to one of :meth:`split`'s workloads (its own name, for the archive)."""
        raise NotImplementedError

    def build(self, ctx: Context, template: Template, source: str, name: str) -> Any:
        """Compile a candidate (raises CompileError with the compiler's text)."""
        raise NotImplementedError

    def prebuild(self, ctx: Context, template: Template, candidates: Sequence[tuple[str, str]]) -> None:
        """Compile a new round's candidates (name, source) ahead of their checks, together where
        that is cheaper than one by one. Only a speed-up: :meth:`build` still decides each one."""

    def evaluate(self, ctx: Context, template: Template, source: str, name: str, dirs: Iterable[Path],
                 screen: Screen | None = None) -> Evaluation:
        """The candidate's score; ``screen`` is a search round's cheap first stage (None: none)."""
        raise NotImplementedError

    def gate_names(self) -> tuple[str, ...] | None:
        """The policies a context's ``gate`` may name. They are checked when the context loads, so a
        misspelt one is a usage error naming the field, not a gate test's traceback. None: unchecked."""
        return None

    def baselines(self, ctx: Context, template: Template, dirs: Iterable[Path], *, gate_only: bool = False,
                  timeout: float | None = None) -> Baselines:
        """The hand-made policies on every workload: all of them beside a search, the context's
        ``gate`` (and references) for a regression gate. Beside a search a policy slower than
        ``timeout`` is left out (see :meth:`timeouts`)."""
        raise NotImplementedError

    def search_baselines(self, ctx: Context, template: Template, dirs: Iterable[Path], *, timeout: float | None,
                         spare: threading.Event) -> Baselines:
        """:meth:`baselines` for a search. A domain may set ``spare`` once the baselines still running
        leave a core idle, where the search can start beside them without changing a measurement
        (search/beside.py); by default it is not set, and the baselines run first."""
        return self.baselines(ctx, template, dirs, timeout=timeout)

    def timeouts(self, baselines: Baselines) -> dict[str, list[str]]:
        """Per workload, the baselines left out because they did not finish in time."""
        return {}

    def expected_errors(self) -> tuple[type[Exception], ...]:
        """Errors a run reports as one plain message (a broken link, a refused load), not a traceback."""
        return ()

    def cleanup(self) -> None:
        """At the end of a session: remove what dead processes left behind (kernel objects, say)."""

    def transfer_workloads(self, ctx: Context, dataset: str | None, sizes: list[float],
                           dirs: Iterable[Path]) -> list[Any]:
        """--transfer/--sweep: the workloads to run the stored heuristics on (domains that have them)."""
        from .errors import UsageError

        raise UsageError(f"--transfer/--sweep do not apply to {self.name} contexts ({ctx.name})")

    def run_workload(self, workload: Any, ctx: Context, template: Template, heuristics: dict[str, str],
                     dirs: Iterable[Path]) -> dict:
        """--transfer/--sweep: every stored heuristic and baseline on one workload."""
        raise NotImplementedError
