"""A user-space delay line between two interfaces (netem and fq are not in this kernel).

Run inside the relay namespace: ``python -m pytest_policysmith.tcp.relay IF_A IF_B DELAY_MS``.
Every Ethernet frame received on one interface is sent out of the other DELAY_MS later,
unchanged (a bridge with latency). Frames leave through the interface's qdisc, so a tbf
there is the bottleneck queue. The relay exits when its parent dies.
"""

from __future__ import annotations

import collections
import selectors
import socket
import sys
import time

from ..procs import die_with_parent

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main(if_a: str, if_b: str, delay_ms: float) -> None:
    die_with_parent()
    delay = delay_ms / 1000.0
    socks = {}
    for name in (if_a, if_b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
        socks[name] = s
    peer = {if_a: socks[if_b], if_b: socks[if_a]}
    lines: dict[str, collections.deque] = {if_a: collections.deque(), if_b: collections.deque()}
    sel = selectors.DefaultSelector()
    for name, s in socks.items():
        sel.register(s, selectors.EVENT_READ, name)
    print("ready", flush=True)
    while True:
        now = time.monotonic()
        due = [q[0][0] for q in lines.values() if q]
        timeout = max(0.0, min(due) - now) if due else 1.0
        for key, _ in sel.select(timeout):
            name = key.data
            while True:
                try:
                    frame, addr = socks[name].recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue  # our own transmissions
                lines[name].append((time.monotonic() + delay, frame))
        now = time.monotonic()
        for name, q in lines.items():
            out = peer[name]
            while q and q[0][0] <= now:
                _, frame = q.popleft()
                try:
                    out.send(frame)
                except OSError:
                    pass  # the bottleneck queue is full: the frame is dropped, as on a real link


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
