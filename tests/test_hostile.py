"""A corpus of hostile candidates (tests/hostile/*.c). Each must be rejected by the static rules,
and, compiled anyway, contained by the sandbox with a clear reason, within seconds, leaving nothing."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import write_trace

from pytest_policysmith.cache.simulator import SimulationError, build, simulate
from pytest_policysmith.cache.candidate import CHECK_LIMITS, tiny_trace
from pytest_policysmith.cache.traces import open_trace
from pytest_policysmith.sandbox import Limits, run_limited
from pytest_policysmith.checking.rules import static_violations
from pytest_policysmith.errors import CompileError

ROOT = Path(__file__).resolve().parents[1]
CORPUS = sorted((Path(__file__).parent / "hostile").glob("*.c"))
PWNED = Path("/tmp/policysmith-pwned")


def expectations(path: Path) -> dict[str, str]:
    line = path.read_text().splitlines()[0]
    return dict(part.strip().split("=", 1) for part in line.removeprefix("// expect:").split("|"))


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_static_rules_reject(path, template):
    want = expectations(path)["static"]
    found = static_violations(path.read_text(), template)
    assert found, f"{path.name} passed the static rules"
    assert any(want in v for v in found), found


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_sandbox_contains_it(path, template):
    """What the static rules would have stopped, compiled and run anyway: the sandbox must hold."""
    want = expectations(path)
    PWNED.unlink(missing_ok=True)
    t0 = time.monotonic()
    if "compile" in want:
        with pytest.raises(CompileError) as err:
            build(template, path.read_text(), path.stem)
        assert "root:" not in str(err.value), "a host file's contents reached the feedback"
        return
    binary = build(template, path.read_text(), path.stem)
    with pytest.raises(SimulationError) as err:
        simulate(binary, tiny_trace("zipf"), 100, True, limits=CHECK_LIMITS)
    assert want["sandbox"] in err.value.reason, err.value.reason
    assert time.monotonic() - t0 < CHECK_LIMITS.wall_seconds + 5
    assert not PWNED.exists(), "the candidate wrote outside its sandbox"
    own = binary.policy.path if binary.policy else binary.path
    assert not _running(str(own)), "a process of the candidate is still running"


def _running(own: str) -> bool:
    """Whether a process still carries the candidate's own file (its shared object, unique to it; a
    one-file template's binary) in its command line: the shared harness may run for other tests."""
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and own.encode() in (proc / "cmdline").read_bytes().split(b"\0"):
                return True
        except OSError:
            continue
    return False


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "templates").iterdir() if p.is_dir()))
def test_no_template_hands_a_directive_to_its_compiler(name):
    """gcc and clang quote an included file in their errors, and errors are feedback for the LLM: the
    one render step refuses a directive before any compiler runs, for every domain."""
    from pytest_policysmith.templates import load_template

    tpl = load_template(str(ROOT / "templates" / name))
    body = next(iter(tpl.seeds().values()))
    for trick in ('#include "/etc/passwd"', "%:include </etc/passwd>", 'x = "/*";\n#include "/etc/passwd"\n// */'):
        with pytest.raises(CompileError, match="preprocessor directive"):
            tpl.render(trick + "\n" + body)
    tpl.render("// #1 idea: frequency\n" + body)  # a '#' in a comment is no directive


def test_environment_is_empty_in_the_sandbox(template, monkeypatch):
    """Secrets such as OPENAI_API_KEY never reach a candidate's process."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-for-test")
    res = run_limited(["/usr/bin/env"])
    assert "OPENAI_API_KEY" not in res.stdout and res.ok
    assert re.findall(r"^(\w+)=", res.stdout, re.M) == ["PATH", "HOME", "TMPDIR"]


def test_a_kill_from_outside_is_not_called_a_timeout():
    """The CPU-time limit ends a child with SIGXCPU, so a candidate killed by the OOM killer (or a
    person) with SIGKILL is not blamed for looping, and one that loops is not called a crash on a busy
    machine (a SIGKILL at the limit was once told apart by the CPU the child used, and 5.43 s of a
    6 s limit, measured under load, read as a crash)."""
    res = run_limited(["/bin/sh", "-c", "kill -9 $$"])
    assert res.breach.startswith("crash: killed by signal SIGKILL from outside the sandbox"), res.breach
    spin = run_limited(["/bin/sh", "-c", "while :; do :; done"], Limits(cpu_seconds=1, wall_seconds=20))
    assert spin.breach == "timeout: CPU-time limit of 1 s exceeded (signal SIGXCPU)", spin.breach


def test_legitimate_features_run_under_the_filter(template):
    """Every seed, with every harness feature (percentiles sort with qsort, which asks sysinfo),
    runs under the seccomp filter on a cache big enough for the full percentile sample."""
    for name, src in template.seeds().items():
        res = simulate(build(template, src + "\n// " + name, name), tiny_trace("zipf"), 1000, True,
                       limits=CHECK_LIMITS)
        assert 0 < res.object_miss_ratio < 1, name
    pct = "return cache.age_p50 + cache.count_p90 * obj.count + cache.size_p10 + ghost.hit + obj.freq;"
    assert simulate(build(template, pct, "pct"), tiny_trace("zipf"), 1000, True, limits=CHECK_LIMITS).requests > 0


def test_the_sandbox_has_no_network_even_without_seccomp():
    """Defence in depth: a program that may open sockets (no seccomp filter here) still cannot reach a
    server listening on the host's loopback, because it runs in its own network namespace."""
    import socket
    import sys

    if os.geteuid() != 0 and not Path("/proc/sys/user/max_user_namespaces").exists():
        pytest.skip("no network namespaces for this user")
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        probe = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=3)\n"
                 "    print('connected')\nexcept OSError as exc:\n    print('refused', exc.errno)\n") % port
        res = run_limited([sys.executable, "-c", probe])
        assert res.ok, res
        assert res.stdout.startswith("refused"), res.stdout
        interfaces = run_limited([sys.executable, "-c", "import socket; print(socket.if_nameindex())"])
        assert interfaces.stdout.strip() == "[(1, 'lo')]"  # nothing but its own loopback (down)
        with socket.create_connection(("127.0.0.1", port), timeout=3):
            pass  # the same probe from here connects: the server is real


def test_memory_limit_reads_as_memory(template, tmp_path):
    """A harness whose allocation the address-space limit refuses says so (its exit code), rather
    than "crash": 400,000 distinct objects need 25 MB of per-object records."""
    ids = np.arange(400_000) + 1
    path = write_trace(tmp_path / "distinct.oracleGeneral.bin", ids, np.full(len(ids), 4096, np.uint32))
    trace, binary = open_trace(str(path)), build(template, "return now;", "lru")
    with pytest.raises(SimulationError) as err:
        simulate(binary, trace, 1000, True, limits=Limits(cpu_seconds=5, wall_seconds=10, address_space=24 << 20))
    assert err.value.reason.startswith("memory: allocation failed under the 24 MiB"), err.value.reason
    roomy = simulate(binary, trace, 1000, True, limits=Limits(cpu_seconds=5, wall_seconds=10, address_space=256 << 20))
    assert roomy.object_miss_ratio == 1.0  # every request is a first access
