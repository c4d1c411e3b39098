"""The object the ``candidate`` fixture hands to a context's CHECKER tests.

Each domain subclasses it with what its rules need (``run_tiny`` for a cache policy,
``load`` for a congestion controller); the core knows only this part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..context import Context
from ..templates import Template


@dataclass
class Candidate:
    """A heuristic under test: a stored policy, a seed, or a generated candidate."""

    id: str
    source: str
    template: Template
    context: Context
    origin: str = ""
    path: Path | None = None  # the .c file, for stored policies
    meta: dict = field(default_factory=dict)  # recorded metadata, for stored policies
    _binary: Any = field(default=None, repr=False)

    def compile(self) -> Any:
        """Render into the template and compile (raises CompileError with the compiler's stderr)."""
        if self._binary is None:
            self._binary = self.context.plugin.build(self.context, self.template, self.source, self.id)
        return self._binary


def make_candidate(ctx: Context, **fields: Any) -> Candidate:
    """A candidate of the context's domain's own type."""
    return ctx.plugin.candidate_class(context=ctx, **fields)
