"""GENERATORS: where candidates come from. ``evolve`` (offline, default) and ``openai`` are built in;
others register in the ``pytest_policysmith.generators`` entry-point group (``registry.py``)."""

from __future__ import annotations

from .. import registry
from ..templates import Template
from .base import Generator, Parent, Proposal


def make_generator(name: str, template: Template, seed: int, model: str | None = None, **options) -> Generator:
    """A generator by name. ``options`` carry what only some need (the LLM's endpoint, budget, archive)."""
    return registry.generator(name).make(template, seed, model, **options)


def generator_options(name: str, opt) -> dict:
    """The options generator ``name`` takes from pytest's (``opt`` is ``config.getoption``)."""
    return registry.generator(name).options_from(opt)


__all__ = ["Generator", "Parent", "Proposal", "make_generator", "generator_options"]
