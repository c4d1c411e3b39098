"""Contracts with xdist and execnet internals the plugin still relies on, for the versions allowed
(pyproject.toml bounds pytest-xdist below 4). If one of these fails after an upgrade, the plugin's
use of it must change before the bound is raised."""

from __future__ import annotations

import inspect
import subprocess
import sys

import execnet
import pytest
from xdist.scheduler import LoadScopeScheduling

from pytest_policysmith.search.deaths import death_reason
from pytest_policysmith.search.schedule import slot_scope


def test_loadscope_scheduling_groups_by_split_scope():
    """search/schedule.py overrides ``_split_scope`` to keep a slot's items on one worker."""
    assert "_split_scope" in vars(LoadScopeScheduling)
    assert list(inspect.signature(LoadScopeScheduling._split_scope).parameters) == ["self", "nodeid"]
    assert slot_scope("ctx/test_rules.py::test_compiles[r03c07a1]") == "r03c07a1"


def test_a_popen_gateway_exposes_its_process_for_the_exit_status():
    """search/deaths.py reads a dead worker's exit status through ``gateway._io.popen``."""
    gw = execnet.makegateway("popen")
    try:
        popen = gw._io.popen
        assert isinstance(popen, subprocess.Popen)
        pid = gw.remote_exec("import os; channel.send(os.getpid())").receive()
        assert pid == popen.pid
    finally:
        gw.exit()

    class Worker:  # what xdist's WorkerController offers: its gateway
        gateway = gw

    popen.wait(timeout=10)
    assert death_reason(Worker()) == "exited with status 0"


def test_xdist_offers_the_public_crash_hook():
    """modes/inner.py handles worker crashes through ``pytest_handlecrashitem`` (xdist >= 2.2.1)."""
    from xdist import newhooks

    assert list(inspect.signature(newhooks.pytest_handlecrashitem).parameters) == ["crashitem", "report", "sched"]


def test_the_installed_xdist_is_within_the_bound():
    import importlib.metadata as md

    major = int(md.version("pytest-xdist").split(".")[0])
    assert 3 <= major < 4, "pyproject.toml bounds pytest-xdist to >=3.5,<4; re-check these contracts first"


@pytest.mark.parametrize("module", ["numpy", "jinja2"])
def test_importing_the_plugin_imports_nothing_heavy(module):
    """pytest imports the plugin in every project of the environment: it must stay cheap."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import pytest_policysmith.plugin"],
                         capture_output=True, text=True, check=True).stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.splitlines() if "|" in line}
    assert module not in imported
