"""Online bin packing for pytest-policysmith: FunSearch's benchmark (and the shape of VM placement).

A priority function scores each bin the arriving item fits in; the item goes to the best one.
This package is a domain in its own right: it reaches the core only through the public API
(``pytest_policysmith``) and registers itself in the ``pytest_policysmith.domains`` entry-point
group, so adding it changed no core module.
"""
