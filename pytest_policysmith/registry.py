"""Domains and generators by name, from entry-point groups: the core names neither.

A package adds a domain with, in its ``pyproject.toml``::

    [project.entry-points."pytest_policysmith.domains"]
    mydomain = "my_package.domain:MyDomain"

and a generator likewise under ``pytest_policysmith.generators``. Nothing is imported until a
context or a run asks for it by name.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import Any

from .errors import UsageError, did_you_mean

DOMAINS = "pytest_policysmith.domains"
GENERATORS = "pytest_policysmith.generators"


def names(group: str) -> list[str]:
    return sorted({ep.name for ep in entry_points(group=group)})


@functools.lru_cache(maxsize=None)
def _load(group: str, name: str) -> Any:
    found = [ep for ep in entry_points(group=group) if ep.name == name]
    if not found:
        return None
    return found[0].load()


def domain(name: str, where: str = "") -> Any:
    """The domain object registered as ``name`` (one instance per process)."""
    cls = _load(DOMAINS, name)
    if cls is None:
        raise UsageError(f"{where}field 'domain' is {name!r}{did_you_mean([name], names(DOMAINS))}; "
                         f"installed domains: {', '.join(names(DOMAINS))} "
                         f"(a domain registers itself in the {DOMAINS!r} entry-point group)")
    return _instance(cls)


@functools.lru_cache(maxsize=None)
def _instance(cls: type) -> Any:
    return cls()


def generator(name: str) -> Any:
    """The generator module registered as ``name``: its ``make(template, seed, model, **options)`` and
    ``options_from(getoption)`` (``generators/evolve.py`` is the smallest example)."""
    factory = _load(GENERATORS, name)
    if factory is None:
        raise UsageError(f"--synth-generator {name!r} is not known{did_you_mean([name], names(GENERATORS))}; "
                         f"available: {', '.join(names(GENERATORS))}")
    return factory
