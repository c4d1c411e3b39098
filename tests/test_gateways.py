"""Evaluation across machines through execnet gateways: two socket servers on 127.0.0.1 stand in
for two hosts (`--tx socket=HOST:PORT`; `--tx ssh=...` works the same way)."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time

from helpers import make_context


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_socket_gateways(pytester, small_trace, tmp_path):
    ctx = make_context(pytester, small_trace, search={"rounds": 2, "candidates": 4, "parents": 2})
    servers, ports = [], []
    for k in range(2):
        port = free_port()
        home = tmp_path / f"host{k}"
        home.mkdir()
        servers.append(subprocess.Popen([sys.executable, "-m", "execnet.script.socketserver", f"127.0.0.1:{port}"],
                                        cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        ports.append(port)
    try:
        time.sleep(1.0)  # the servers bind and listen; each serves one gateway
        runs = {}
        for label, extra in (("serial", []),
                             ("gateways", [a for p in ports for a in ("--tx", f"socket=127.0.0.1:{p}")])):
            archive = pytester.path / f"{label}.sqlite"
            res = pytester.runpytest_subprocess("--synthesize", str(ctx), "--synth-archive", str(archive),
                                                "--synth-seed", "5", "-p", "no:cacheprovider", *extra)
            assert res.ret == 0, res.stdout.str()
            db = sqlite3.connect(archive)
            runs[label] = db.execute("SELECT id, hash, status, score FROM candidates ORDER BY id").fetchall()
        logs = [p.read_text() for p in pytester.path.rglob("inner.log")]
        remote = next(t for t in logs if "[gw1]" in t or "[gw0]" in t)
        assert "[gw0]" in remote and "[gw1]" in remote  # both gateways evaluated candidates
        assert runs["serial"] == runs["gateways"]
    finally:
        for s in servers:
            s.kill()
            s.wait()
