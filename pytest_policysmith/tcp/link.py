"""An emulated bottleneck link from Linux parts that exist here: netns, veth, tbf, a relay.

    sender ns  --veth--  relay ns (delay line, tbf on the way to the receiver)  --veth--  receiver ns

Every name carries this process's pid, so parallel workers never collide and a sweep can
remove what a dead process left (``sweep_stale``). ``Link`` undoes everything on exit:
success, failure, timeout or Ctrl-C.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from ..procs import die_with_parent

PREFIX = "psnet"
SENDER_IP, RECEIVER_IP = "10.77.0.1", "10.77.0.2"
# How a link is built, where it changes what a flow measures: part of a workload's identity, so a
# score recorded on a link built another way is not compared (see _static_neighbors).
SETUP = {"neighbors": "static"}
_counter = itertools.count()


@dataclass(frozen=True)
class LinkSpec:
    rate_mbit: float = 20.0
    delay_ms: float = 20.0  # one way; RTT is twice this
    queue_bdp: float = 2.0  # bottleneck queue, in bandwidth-delay products
    seconds: float = 10.0  # flow duration
    flows: int = 1  # flows per measurement; the one with the median cost is the score

    @property
    def rtt_ms(self) -> float:
        return 2 * self.delay_ms

    @property
    def queue_bytes(self) -> int:
        bdp = self.rate_mbit * 1e6 / 8 * self.rtt_ms / 1e3
        return max(int(self.queue_bdp * bdp), 3000)

    @property
    def name(self) -> str:
        return f"link:{self.rate_mbit:g}mbit-{self.rtt_ms:g}ms-{self.queue_bdp:g}bdp"

    def as_dict(self) -> dict:
        return asdict(self)


class LinkError(RuntimeError):
    pass


def _run(*argv: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise LinkError(f"{' '.join(argv)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def _ns(ns: str, *argv: str) -> None:
    _run("ip", "netns", "exec", ns, *argv)


class Link:
    """Context manager: build the three namespaces and the relay; tear all down on exit."""

    def __init__(self, spec: LinkSpec):
        self.spec = spec
        tag = f"{PREFIX}-{os.getpid()}-{next(_counter)}"
        self.sender, self.relay_ns, self.receiver = f"{tag}-s", f"{tag}-r", f"{tag}-d"
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Link":
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _build(self) -> None:
        for ns in (self.sender, self.relay_ns, self.receiver):
            _run("ip", "netns", "add", ns)
            _ns(ns, "ip", "link", "set", "lo", "up")
        _run("ip", "link", "add", "s0", "netns", self.sender, "type", "veth", "peer", "name", "r0", "netns",
             self.relay_ns)
        _run("ip", "link", "add", "d0", "netns", self.receiver, "type", "veth", "peer", "name", "r1", "netns",
             self.relay_ns)
        for ns, dev, ip in ((self.sender, "s0", SENDER_IP), (self.receiver, "d0", RECEIVER_IP),
                            (self.relay_ns, "r0", None), (self.relay_ns, "r1", None)):
            if ip:
                _ns(ns, "ip", "addr", "add", f"{ip}/24", "dev", dev)
            _ns(ns, "ip", "link", "set", dev, "up")
            # MTU-sized frames with real checksums: the relay forwards frames as they are.
            _ns(ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off")
        self._static_neighbors()
        rate = f"{self.spec.rate_mbit:g}mbit"
        _ns(self.relay_ns, "tc", "qdisc", "add", "dev", "r1", "root", "tbf", "rate", rate, "burst", "16kb",
            "limit", str(self.spec.queue_bytes))
        relay = self.start(self.relay_ns, "pytest_policysmith.tcp.relay", "r0", "r1", str(self.spec.delay_ms))
        if _first_line(relay) != "ready":
            raise LinkError(f"the delay relay did not start: {_stderr_tail(relay)}")

    def _static_neighbors(self) -> None:
        """Sender and receiver know each other's MAC from the start. Otherwise ARP crosses the delay
        line and the bottleneck queue, and the first flow on a new link scored about 13% worse than
        the next ones (median tcp_cost 0.231 against 0.203 for the stored tcp_cc controller)."""
        ends = ((self.sender, "s0", SENDER_IP), (self.receiver, "d0", RECEIVER_IP))
        for (ns, dev, _), (peer_ns, peer_dev, peer_ip) in zip(ends, ends[::-1]):
            _ns(ns, "ip", "neigh", "replace", peer_ip, "lladdr", _mac(peer_ns, peer_dev), "dev", dev, "nud", "permanent")

    def start(self, ns: str, module: str, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", module, *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=die_with_parent)
        self.procs.append(proc)
        return proc

    def flow(self, cc: str) -> dict:
        """Run one flow with congestion control ``cc``; return the sender's measurements."""
        port = 5201 + next(_counter) % 20000
        rx = self.start(self.receiver, "pytest_policysmith.tcp.flow", "recv", str(port))
        if _first_line(rx) != "ready":
            raise LinkError(f"the receiver did not start: {_stderr_tail(rx)}")
        tx = self.start(self.sender, "pytest_policysmith.tcp.flow", "send", RECEIVER_IP, str(port), cc,
                        str(self.spec.seconds))
        try:
            out, err = tx.communicate(timeout=self.spec.seconds + 30)
        except subprocess.TimeoutExpired:
            raise LinkError(f"the flow with {cc} did not finish within {self.spec.seconds + 30:.0f} s") from None
        if tx.returncode != 0:
            raise LinkError(f"the sender with {cc} failed: {err.strip()[-800:]}")
        try:
            rx.wait(timeout=10)  # it exits when the sender's reset arrives
        except subprocess.TimeoutExpired:
            rx.kill()
        return json.loads(out.strip().splitlines()[-1])

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for f in (proc.stdout, proc.stderr):
                if f:
                    f.close()
        self.procs.clear()
        for ns in (self.sender, self.relay_ns, self.receiver):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _mac(ns: str, dev: str) -> str:
    return json.loads(_run("ip", "-n", ns, "-j", "link", "show", dev))[0]["address"]


def our_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(PREFIX + "-")]


def sweep_stale() -> list[str]:
    """Delete namespaces left by processes that no longer exist (e.g. a killed xdist worker)."""
    removed = []
    for ns in our_namespaces():
        m = re.match(rf"{PREFIX}-(\d+)-", ns)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            _kill_ns_processes(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            removed.append(ns)
    return removed


def _kill_ns_processes(ns: str) -> None:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    for pid in out.split():
        try:
            os.kill(int(pid), 9)
        except (OSError, ValueError):
            pass
    time.sleep(0.05)


def _first_line(proc: subprocess.Popen) -> str:
    assert proc.stdout is not None, "started with stdout=PIPE"
    return proc.stdout.readline().strip()


def _stderr_tail(proc: subprocess.Popen) -> str:
    assert proc.stderr is not None, "started with stderr=PIPE"
    return proc.stderr.read()[-500:]
