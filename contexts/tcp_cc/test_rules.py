"""The CHECKER for congestion controllers: the tcp domain's shared rules (static rules, clang, then the
kernel's BPF verifier; pytest_policysmith/tcp/checks.py). Add or override tests here."""

from pytest_policysmith.tcp.checks import *  # noqa: F403
