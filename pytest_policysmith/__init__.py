"""pytest-policysmith: synthesize systems heuristics by search, gated by pytest.

The public API, for contexts and for domains that live in their own package. Names are
imported on first use, so importing the package (pytest does, at every start) costs nothing.

For contexts: ``static_violations``, ``assert_reproduces``, ``assert_beats``; the shared tests
in ``pytest_policysmith.cache.checks``, ``pytest_policysmith.tcp.checks`` and
``pytest_policysmith.checking.gate_tests``.

For domains (see ``domain.py``): ``Domain``, ``Evaluation``, ``Screen`` (a search round's cheap
first stage), ``Candidate``, ``need`` (a
declaration field), ``compile_c`` and ``compile_shared`` (the one compile step, cached),
``run_limited`` and ``Limits`` (the sandbox), ``cache_dir`` (where derived files go), and the
errors ``UsageError``, ``CompileError``, ``EvaluationError`` and ``MissingData``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "static_violations": "checking.rules",
    "assert_reproduces": "checking.gate",
    "assert_beats": "checking.gate",
    "Domain": "domain",
    "Evaluation": "domain",
    "Screen": "domain",
    "Candidate": "checking.candidate",
    "need": "context",
    "compile_c": "compile",
    "compile_shared": "compile",
    "run_limited": "sandbox",
    "Limits": "sandbox",
    "UsageError": "errors",
    "CompileError": "errors",
    "EvaluationError": "errors",
    "MissingData": "errors",
    "cache_dir": "paths",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
