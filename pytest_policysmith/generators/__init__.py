"""GENERATORS: where candidates come from. ``evolve`` (offline, default) is built in."""

from __future__ import annotations

from ..errors import UsageError
from ..templates import Template
from .base import Generator, Parent, Proposal

GENERATORS = ("evolve",)


def make_generator(name: str, template: Template, seed: int, model: str | None = None) -> Generator:
    if name == "evolve":
        from .evolve import EvolveGenerator

        return EvolveGenerator(template, seed)
    raise UsageError(f"--synth-generator {name!r} is not known; available: {', '.join(GENERATORS)}")


__all__ = ["Generator", "Parent", "Proposal", "make_generator", "GENERATORS"]
