"""pytest-policysmith: synthesize systems heuristics by search, gated by pytest."""

__version__ = "0.1.0"
