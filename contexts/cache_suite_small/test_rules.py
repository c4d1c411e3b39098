"""The CHECKER: the cache domain's shared rules (pytest_policysmith/cache/checks.py).

Add a rule by writing a test here; override a shared one by defining a test of the same name.
A failed assertion is the generator's feedback.
"""

from pytest_policysmith.cache.checks import *  # noqa: F403
