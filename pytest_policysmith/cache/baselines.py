"""Baselines: libCacheSim's own policies (and Belady) on the same trace and cache size.

Each libCacheSim policy runs in a child process of its own, forked from a server that has
imported libcachesim (baseline_worker.py). That isolates crashes, and it makes LeCaR, Cacheus
and LHD reproducible: they draw from the C library's ``rand()``, so in a shared process their
result depends on which policies ran before them.

Policies libCacheSim lacks (MRU, CR-LFU, SR-LRU) run as priority functions through our
own simulator; their ``source`` says so. Results are cached on disk, keyed by trace
checksum, capacity, size mode, policy and libcachesim version.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

from ..errors import UsageError, did_you_mean
from ..paths import cache_dir
from ..templates import Template
from .simulator import build, simulate
from .traces import Trace, libcachesim_input
from ..storage.files import write_atomic

# The paper's 14 baselines, with libCacheSim's names where it has them.
PAPER_BASELINES = (
    "LRU", "LFU", "FIFO", "MRU", "LIRS", "Clock", "GDSF", "Sieve", "S3FIFO",
    "LHD", "LeCaR", "Cacheus", "CR-LFU", "SR-LRU",
)
# Everything else libCacheSim ships that runs with default parameters.
OTHER_LIBCACHESIM = (
    "ARC", "TwoQ", "WTinyLFU", "SLRU", "Clock2QPlus", "ClockPro", "Hyperbolic", "LFUDA",
    "LRUK", "MQ", "GLCache", "ThreeLCache", "Random", "LRUProb", "FlashProb", "Size",
)
SLOW = ("LRB",)  # ~55 s on w106: only with include_slow
ORACLE = ("Belady",)
# Started slowest first (longest processing time first), so that a slow policy does not run alone at
# the end while the other cores idle. Measured on the 26 traces of shared/traces at 10%: Hyperbolic
# took 89 s on arc/P6, GLCache 51 s, FIFO 3 s; policies not named here come last.
SLOWEST_FIRST = (
    "LRB", "Hyperbolic", "GLCache", "ThreeLCache", "Belady", "Cacheus", "LRUK", "LHD", "MQ", "S3FIFO", "WTinyLFU",
    "LIRS", "GDSF", "FlashProb", "Clock2QPlus", "TwoQ", "Random", "LFUDA", "LeCaR", "LRUProb", "Size", "LFU", "ARC",
    "SLRU", "LRU", "Clock", "FIFO", "Sieve", "ClockPro",
)
# These draw from the C library's rand(): reproducible per fresh process, but a run that
# shares a process with other policies (as baselines_10pct.tsv did) gets other numbers.
RAND_DEPENDENT = ("LeCaR", "Cacheus", "LHD", "Random", "LRUProb", "FlashProb")
# Run through the priority template: name -> seed file stem.
TEMPLATE_POLICIES = {"MRU": "mru", "CR-LFU": "crlfu", "SR-LRU": "srlru"}
DEFAULT_TIMEOUT = 600.0  # CPU-seconds per libCacheSim policy: CPU time, so a busy machine does not change it
SEARCH_TIMEOUT = 120.0  # baselines shown beside a search: a slower one is reported as a timeout
WALL_FACTOR = 20  # the wall-clock backstop, for a child that hangs without using CPU
NICENESS = 10  # the last baselines run beside the search (search/beside.py): it comes first


class BaselineTimeout(UsageError):
    """A libCacheSim policy that did not finish in time on a workload (LFUDA crawls on some).
    ``cpu_limit``: the CPU-seconds it ran out of (None for the wall-clock backstop, which a busy
    machine can cause, so it is not remembered)."""

    def __init__(self, message: str, cpu_limit: float | None = None) -> None:
        super().__init__(message)
        self.cpu_limit = cpu_limit


@dataclass(frozen=True)
class BaselineResult:
    policy: str
    object_miss_ratio: float
    byte_miss_ratio: float
    seconds: float
    source: str  # "libCacheSim <version>" or "priority template seed <stem>"
    paper: bool  # one of the paper's 14 baselines

    @property
    def reference(self) -> bool:
        """Belady's oracle bounds what any policy can do; it is never "the best baseline"."""
        return self.policy in ORACLE

    def as_dict(self) -> dict:
        return {**asdict(self), "reference": self.reference}

    @classmethod
    def from_dict(cls, d: dict) -> "BaselineResult":
        return cls(**{k: v for k, v in d.items() if k != "reference"})


def default_policies(include_slow: bool = False) -> list[str]:
    return [*PAPER_BASELINES, *OTHER_LIBCACHESIM, *(SLOW if include_slow else ()), *ORACLE]


def hashpower(n_objects: int) -> int:
    """libCacheSim's hash table size: ~2x the object count (its default of 24 is ~10x slower here)."""
    return max(10, math.ceil(math.log2(max(2, n_objects))) + 1)


def _cache_key(trace: Trace, capacity: int, ignore_size: bool, policy: str, extra: str) -> str:
    raw = json.dumps([trace.sha256, capacity, ignore_size, policy, version("libcachesim"), extra])
    return hashlib.sha256(raw.encode()).hexdigest()


def run_baselines(
    trace: Trace,
    capacity: int,
    ignore_size: bool,
    template: Template | None,
    policies: list[str] | None = None,
    jobs: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    skip_timeouts: bool = False,
    spare: threading.Event | None = None,
) -> dict[str, BaselineResult]:
    """Results by policy name, in the order asked; cached results are reused.

    With ``skip_timeouts`` a policy slower than ``timeout`` is left out of the result (the
    caller reports it as a timeout) instead of raising :class:`BaselineTimeout`. ``spare`` is
    set once the policies still to finish no longer fill every worker (a core is idle)."""
    policies = policies or default_policies()
    known = set(default_policies(include_slow=True))
    unknown = [p for p in policies if p not in known]
    if unknown:
        raise UsageError(f"unknown baseline policy {', '.join(unknown)}{did_you_mean(unknown, known)}; "
                         f"known: {', '.join(sorted(known))}")
    results: dict[str, BaselineResult] = {}

    servers: "queue.SimpleQueue[_Server]" = queue.SimpleQueue()
    lock = threading.Lock()
    inputs: list[Path] = []

    def reader_input() -> Path:
        with lock:  # decompressed once, by the first policy that needs it
            if not inputs:
                inputs.append(libcachesim_input(trace))
            return inputs[0]

    def one(policy: str) -> tuple[str, BaselineResult | None]:
        extra = template.sha256 if policy in TEMPLATE_POLICIES and template else ""
        path = cache_dir() / "baselines" / f"{_cache_key(trace, capacity, ignore_size, policy, extra)}.json"
        if path.exists():
            return policy, BaselineResult.from_dict(json.loads(path.read_text()))
        if policy in TEMPLATE_POLICIES:
            res = _run_template_policy(policy, trace, capacity, ignore_size, template)
        else:
            # A policy that ran out of its CPU-seconds here before does again within as many: a rerun
            # (a resumed suite, say) does not spend them a second time.
            late = path.with_suffix(".timeout")
            server = None
            try:
                ran_out = float(late.read_text()) if late.exists() else None
                if ran_out is not None and ran_out >= timeout:
                    raise BaselineTimeout(f"baseline {policy} on {trace.name} did not finish within "
                                          f"{ran_out:g} CPU-seconds on an earlier run (a larger timeout runs it again)")
                server = _take(servers)
                res = _run_libcachesim(policy, trace, reader_input(), capacity, ignore_size, timeout, server)
            except BaselineTimeout as exc:
                if exc.cpu_limit is not None:
                    write_atomic(late, str(exc.cpu_limit))
                if not skip_timeouts:
                    raise
                return policy, None
            finally:
                if server is not None:
                    servers.put(server)
        write_atomic(path, json.dumps(res.as_dict()))
        return policy, res

    workers = jobs or os.cpu_count() or 1
    left = [len(policies)]

    def counted(policy: str) -> tuple[str, BaselineResult | None]:
        try:
            return one(policy)
        finally:
            with lock:
                left[0] -= 1
                if spare is not None and left[0] < workers:
                    spare.set()

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for policy, res in pool.map(counted, sorted(policies, key=_slowest_first)):
                if res is not None:
                    results[policy] = res
    finally:
        while not servers.empty():
            servers.get().close()
    return {p: results[p] for p in policies if p in results}


def _run_template_policy(policy: str, trace: Trace, capacity: int, ignore_size: bool, template: Template | None):
    if template is None:
        raise UsageError(f"baseline {policy} needs the cache_priority template (libCacheSim has no {policy})")
    stem = TEMPLATE_POLICIES[policy]
    seeds = template.seeds()
    if stem not in seeds:
        raise UsageError(f"baseline {policy} needs seeds/{stem}.c in template {template.root}")
    res = simulate(build(template, seeds[stem], stem), trace, capacity, ignore_size)
    return BaselineResult(
        policy, res.object_miss_ratio, res.byte_miss_ratio, res.seconds,
        f"priority template seed {stem}", policy in PAPER_BASELINES,
    )


def _slowest_first(policy: str) -> int:
    return SLOWEST_FIRST.index(policy) if policy in SLOWEST_FIRST else len(SLOWEST_FIRST)


def _take(servers: "queue.SimpleQueue[_Server]") -> "_Server":
    try:
        return servers.get_nowait()
    except queue.Empty:
        return _Server()


class _Server:
    """One fork server (baseline_worker.py) per worker thread, started on first use."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def run(self, request: list) -> dict:
        if self.proc is None:
            self.proc = subprocess.Popen([sys.executable, "-m", "pytest_policysmith.cache.baseline_worker"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError:
            line = ""
        if not line:
            self.close()
            return {"lost": True}
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def _run_libcachesim(policy: str, trace: Trace, source: Path, capacity: int, ignore_size: bool, timeout: float,
                     server: _Server) -> BaselineResult:
    request = [policy, str(source), capacity, ignore_size, hashpower(trace.n_objects), timeout,
               timeout * WALL_FACTOR, NICENESS]
    t0 = time.perf_counter()
    reply = server.run(request)
    message = f"baseline {policy} on {trace.name} did not finish within {timeout:g} CPU-seconds"
    if reply.get("wall"):
        raise BaselineTimeout(message)
    if reply.get("signal") in (signal.SIGXCPU, signal.SIGKILL):
        raise BaselineTimeout(message, timeout)
    if reply.get("lost"):
        raise UsageError(f"baseline {policy} on {trace.name} failed: the baseline server "
                         "(pytest_policysmith.cache.baseline_worker) exited before answering")
    if "ok" not in reply:
        why = f"exit {reply['exit']}" if "exit" in reply else f"signal {reply['signal']}"
        raise UsageError(f"baseline {policy} on {trace.name} failed ({why}): {reply.get('stderr', '')}")
    omr, bmr, cpu = reply["ok"]
    if cpu > timeout:
        raise BaselineTimeout(message, timeout)
    return BaselineResult(
        policy, omr, bmr, time.perf_counter() - t0, f"libCacheSim {version('libcachesim')}", policy in PAPER_BASELINES,
    )
