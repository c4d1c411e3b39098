"""Where the project keeps its per-user caches (converted traces, binaries, baselines)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "POLICYSMITH_CACHE"
TRACES_ENV = "POLICYSMITH_TRACES"  # the trace store (the data a domain's workloads are read from)


def cache_dir() -> Path:
    """``$POLICYSMITH_CACHE``, else ``$XDG_CACHE_HOME/policysmith``, else ``~/.cache/policysmith``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        root = Path(explicit)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "policysmith"
    root.mkdir(parents=True, exist_ok=True)
    return root


def package_templates_dirs() -> list[Path]:
    """Template roots shipped with the package (wheel) or beside it (source checkout)."""
    here = Path(__file__).resolve().parent
    return [p for p in (here / "_templates", here.parent / "templates") if p.is_dir()]


def search_dirs(option: str | None = None) -> list[Path]:
    """The trace store: directories from ``--synth-traces`` or ``$POLICYSMITH_TRACES`` (os.pathsep-separated),
    made absolute here, because the inner session runs in the context's folder."""
    raw = option if option else os.environ.get(TRACES_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p]
