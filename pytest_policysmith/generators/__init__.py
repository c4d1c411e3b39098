"""GENERATORS: where candidates come from. ``evolve`` (offline, default) is built in."""

from __future__ import annotations

from ..errors import UsageError
from ..templates import Template
from .base import Generator, Parent, Proposal

GENERATORS = ("evolve", "openai")


def make_generator(name: str, template: Template, seed: int, model: str | None = None, **options) -> Generator:
    """A generator by name. ``options`` carry what only some need (the LLM's endpoint, budget, archive)."""
    if name == "evolve":
        from .evolve import EvolveGenerator

        return EvolveGenerator(template, seed)
    if name == "openai":
        from .llm.generator import LLMGenerator

        return LLMGenerator.create(template, seed, model, **options)
    raise UsageError(f"--synth-generator {name!r} is not known; available: {', '.join(GENERATORS)}")


__all__ = ["Generator", "Parent", "Proposal", "make_generator", "GENERATORS"]
