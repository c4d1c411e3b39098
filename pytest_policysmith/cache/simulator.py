"""The cache EVALUATOR: render a priority function into the C harness, compile, simulate."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence, Union

from ..checking.rules import static_violations
from ..compile import Binary, compile_c, compile_shared, compile_shared_many
from ..errors import CompileError, EvaluationError, UsageError
from ..paths import cache_dir
from ..sandbox import Limits, run_limited
from ..storage.files import scratch_dir, write_atomic
from ..templates import Template
from .traces import Trace

CacheSizeSpec = Union[int, float]
ENTRY = "ps_priority"  # what policy.c.j2 names the candidate's function (plus its suffix in a batch)
# obj.freq's estimates (the trace and the cache size) and obj.irr (the trace alone) do not depend on
# the policy: on a trace this long they are computed once (``harness --sketch``, ``--irr``) and every
# simulation reads them. On a shorter one, computing them once costs about what it saves.
COLUMN_FILE_MIN = 100_000


@dataclass(frozen=True)
class Column:
    """A per-request input the harness can write once per trace (see ps_column_map in harness.c.j2)."""

    name: str  # the template's feature name (Template.needs), and the harness's --NAME option
    suffix: str
    bytes_per_request: int
    per_capacity: bool  # the sketch's width follows the cache size; the IRR does not


# In the order the harness reads their files after MAX_REQUESTS.
COLUMNS = (Column("sketch", "freq", 1, True), Column("irr", "irr", 4, False))


class SimulationError(EvaluationError):
    """The candidate's simulator crashed or breached a limit; ``reason`` is feedback text."""


@dataclass(frozen=True)
class SimResult:
    """One simulation; field names are the stable ``--json`` contract."""

    object_miss_ratio: float
    byte_miss_ratio: float
    requests: int
    misses: int
    bytes_requested: int
    bytes_missed: int
    evictions: int
    nonfinite_priorities: int
    # Timings stay out of the repr, which a failed rule's assertion quotes: feedback, and so the
    # archive and an LLM's prompt, are the same on every run of the same seed.
    seconds: float = field(repr=False)
    requests_per_second: float = field(repr=False)
    capacity: int

    def as_dict(self) -> dict:
        return asdict(self)


def parse_cache_size(raw: str | float | int, where: str = "cache size") -> CacheSizeSpec:
    """A number in (0, 1] is a fraction of the footprint; an integer above 1 is absolute."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: {raw!r} is not a number; give a fraction in (0, 1] or an integer above 1")
    if value <= 0 or math.isnan(value):
        raise UsageError(f"{where}: {raw!r} must be positive")
    if value <= 1:
        return value
    if value != int(value):
        raise UsageError(f"{where}: {raw!r} is above 1, so it must be a whole number (objects, or bytes)")
    return int(value)


def resolve_capacity(spec: CacheSizeSpec, trace: Trace, ignore_size: bool) -> int:
    """The capacity in objects (sizes ignored) or bytes, as libCacheSim computes it."""
    if isinstance(spec, float) or spec <= 1:
        cap = int(float(spec) * trace.footprint(ignore_size))
        if cap < 1:
            raise UsageError(
                f"cache size {spec} of {trace.name}'s footprint ({trace.footprint(ignore_size)}) is below one unit"
            )
        return cap
    return int(spec)


@dataclass(frozen=True)
class Program:
    """A runnable candidate: the harness for its feature set, and its own shared object (for
    templates that compile the candidate apart; one-file templates have the harness only)."""

    harness: Binary
    policy: Binary | None = None
    # The columns (COLUMNS' names) the candidate reads, and the hash of the template its harness came
    # from: every harness of one template computes the same column whatever else it compiles in, so
    # one file serves them all.
    columns: tuple[str, ...] = ()
    template_sha: str = ""

    @property
    def path(self) -> Path:
        return self.harness.path

    @property
    def argv(self) -> list[str]:
        if self.policy is None:
            return [str(self.harness.path)]
        return [str(self.harness.path), str(self.policy.path), self.policy.symbol or ENTRY]

    @property
    def compile_seconds(self) -> float:
        """What compiling it cost now (0 for parts that came from the cache)."""
        return self.harness.compile_seconds + (self.policy.compile_seconds if self.policy else 0.0)


def build(template: Template, body: str, name: str = "candidate") -> Program:
    """Render and compile one candidate (each part cached by its source hash): with a ``policy``
    file, only the candidate's function is compiled per candidate; the harness once per feature set."""
    source = template.render(body, candidate_name=name)
    if template.policy is None:
        return Program(compile_c(source))
    needs = template.needs(body)
    return Program(compile_c(template.render_harness(needs)), compile_shared(source, ENTRY),
                   tuple(c.name for c in COLUMNS if needs.get(c.name)), template.sha256)


def build_many(template: Template, bodies: Sequence[tuple[str, str]]) -> int:
    """Compile a round's candidates (name, body) ahead of their checks, with one compiler start for
    all of them (see compile_shared_many); only bodies that pass the static rules are let in, so
    none can reach into another's code. Only a speed-up: :func:`build` still gives each candidate
    its own verdict and errors. Returns how many it compiled."""
    if template.policy is None:
        return 0
    members = []
    for i, (name, body) in enumerate(bodies):
        if static_violations(body, template):
            continue
        try:
            alone = template.render(body, candidate_name=name)
            together = template.render(body, candidate_name=name, suffix=f"_{i}")
        except CompileError:
            continue
        members.append((alone, together, f"{ENTRY}_{i}"))
    return compile_shared_many(members)


def simulate(
    binary: Program,
    trace: Trace,
    capacity: int,
    ignore_size: bool,
    max_requests: int | None = None,
    limits: Limits = Limits(),
) -> SimResult:
    """Run a compiled simulator over ``trace`` in the sandbox."""
    argv = [*binary.argv, str(trace.arrays_path), str(capacity), "1" if ignore_size else "0"]
    files = [column_file(binary, c, trace, capacity, ignore_size) for c in COLUMNS]
    if max_requests or any(files):
        argv.append(str(max_requests or 0))
        argv += ["" if f is None else str(f) for f in files]
    run = run_limited(argv, limits)
    if not run.ok:
        reason = run.breach or f"simulator exited with code {run.returncode}"
        raise SimulationError(f"{reason}\n{run.stderr}".strip())
    data = json.loads(run.stdout)
    secs = data["seconds"]
    return SimResult(
        object_miss_ratio=data["object_miss_ratio"],
        byte_miss_ratio=data["byte_miss_ratio"],
        requests=data["requests"],
        misses=data["misses"],
        bytes_requested=data["bytes_requested"],
        bytes_missed=data["bytes_missed"],
        evictions=data["evictions"],
        nonfinite_priorities=data["nonfinite_priorities"],
        seconds=secs,
        requests_per_second=data["requests"] / secs if secs > 0 else float("inf"),
        capacity=capacity,
    )


def column_file(binary: Program, column: Column, trace: Trace, capacity: int, ignore_size: bool) -> Path | None:
    """The file of ``column``'s value for every request of ``trace`` (see harness.c.j2), written by
    the candidate's own harness the first time; None where the candidate computes them itself."""
    if column.name not in binary.columns or binary.policy is None or trace.n_requests < COLUMN_FILE_MIN:
        return None
    # The template names the column's code (the harness checks the file's shape); the arrays' name, the
    # trace and its sample.
    shape = [capacity, ignore_size] if column.per_capacity else []
    key = hashlib.sha256(json.dumps([binary.template_sha, column.name, trace.arrays_path.name, *shape]).encode())
    dest = cache_dir() / column.name / key.hexdigest()[:2] / f"{key.hexdigest()}.{column.suffix}"
    if dest.exists():
        return dest
    with scratch_dir(f"ps-{column.name}-") as tmp:
        out = Path(tmp) / f"column.{column.suffix}"
        argv = [str(binary.harness.path), f"--{column.name}", str(out), str(trace.arrays_path), str(capacity),
                "1" if ignore_size else "0"]
        run = run_limited(argv, Limits(file_size=64 + column.bytes_per_request * trace.n_requests + 4096))
        if not run.ok:
            reason = run.breach or f"exited with code {run.returncode}"
            raise SimulationError(f"computing the {column.name} column of {trace.name}: {reason}\n{run.stderr}".strip())
        write_atomic(dest, out.read_bytes())
    return dest
