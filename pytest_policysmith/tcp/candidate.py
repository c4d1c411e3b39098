"""The tcp domain's candidate: what its CHECKER rules call (a load through the kernel's verifier)."""

from __future__ import annotations

from dataclasses import dataclass

from ..checking.candidate import Candidate


@dataclass
class TcpCandidate(Candidate):
    def load(self) -> str:
        """Load into the kernel (the verifier runs), then unregister; raises LoadError."""
        from .evaluator import loaded

        with loaded(self.template, self.source) as cc:
            return cc
