"""One plugin object per mode, as xdist registers a ``DSession`` only in dist mode: each holds its
mode's state and hooks, and the others are never registered."""

from __future__ import annotations

import pytest

SPEC_KEY = "policysmith_spec"  # workerinput key: the inner spec travels to xdist workers with it


def select_mode(config: pytest.Config) -> list[tuple[str, object]]:
    """(name, plugin object) pairs for this process's mode."""
    from ..session import KEY

    ps = config.stash[KEY]
    shipped = getattr(config, "workerinput", {}).get(SPEC_KEY)  # an inner session's xdist worker
    if shipped or config.getoption("synth_inner"):
        from ..search.spec import InnerSpec
        from .inner import InnerMode, InnerReporting

        spec = InnerSpec.from_dict(shipped) if shipped else InnerSpec.load(config.getoption("synth_inner"))
        inner = InnerMode(config, ps, spec)
        if shipped:
            return [("policysmith-inner", inner)]
        return [("policysmith-inner", inner), ("policysmith-inner-reporting", InnerReporting(config, ps, spec))]
    if config.getoption("synthesize"):
        from .controller import ControllerMode

        return [("policysmith-controller", ControllerMode(config, ps))]
    if config.getoption("transfer") or config.getoption("sweep"):
        from .transfer import TransferPlugin

        return [("policysmith-transfer", TransferPlugin(config, ps))]
    from ..reporting.gate import GateSummary

    summary = ("policysmith-gate-summary", GateSummary(config))  # regression: the scores behind the gate
    if config.getoption("synth_accept"):
        from .record import PLUGIN_NAME, RecordMode

        return [(PLUGIN_NAME, RecordMode(config)), summary]  # ... recording scores where the stored ones do not apply
    return [summary]
