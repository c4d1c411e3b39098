"""Shared fixtures: the real trace store (../shared/traces or $POLICYSMITH_TRACES) and an isolated cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_policysmith.cache.traces import synthetic_trace
from pytest_policysmith.paths import TRACES_ENV, search_dirs
from pytest_policysmith.templates import load_template

ROOT = Path(__file__).resolve().parents[1]


def _shared_traces() -> Path | None:
    for d in [*search_dirs(), ROOT.parent / "shared" / "traces"]:
        if (d / "MANIFEST.tsv").is_file():
            return d
    return None


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    d = _shared_traces()
    if d is None:
        pytest.skip(f"no trace store: set {TRACES_ENV} to a folder like ../shared/traces")
    return d


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Converted traces, binaries and baselines go to a per-session folder, unless CI shares one."""
    if "POLICYSMITH_CACHE" not in os.environ:
        os.environ["POLICYSMITH_CACHE"] = str(tmp_path_factory.mktemp("ps-cache"))
    yield


@pytest.fixture(scope="session")
def template():
    return load_template(str(ROOT / "templates" / "cache_priority"))


@pytest.fixture(scope="session")
def baselines_tsv(traces_dir) -> dict[tuple[str, str], float]:
    rows = (traces_dir / "baselines_10pct.tsv").read_text().splitlines()[1:]
    out = {}
    for row in rows:
        trace, policy, mr, _ = row.split("\t")
        out[(trace, policy)] = float(mr)
    return out


@pytest.fixture(scope="session")
def small_trace(tmp_path_factory) -> Path:
    """A small synthetic oracleGeneral trace: the plugin tests' context runs on it."""
    return synthetic_trace(tmp_path_factory.mktemp("trace") / "small.oracleGeneral.bin.zst", 30_000, 3_000, seed=5)
