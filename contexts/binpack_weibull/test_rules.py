"""The CHECKER: the bin packing domain's shared rules (policysmith_binpack/checks.py). Add or override tests here."""

from policysmith_binpack.checks import *  # noqa: F403
