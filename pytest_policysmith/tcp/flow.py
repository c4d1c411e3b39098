"""One TCP flow: a receiver, and a sender that samples TCP_INFO while it sends.

    python -m pytest_policysmith.tcp.flow recv PORT
    python -m pytest_policysmith.tcp.flow send HOST PORT CC SECONDS

The sender selects its congestion control per socket (``TCP_CONGESTION``), so the host's
default is never changed, and prints one JSON line of measurements.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time

TCP_INFO_LEN = 232
SAMPLE_EVERY = 0.02


def tcp_info(sock: socket.socket) -> dict:
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LEN)
    u32 = lambda off: struct.unpack_from("I", raw, off)[0]
    u64 = lambda off: struct.unpack_from("Q", raw, off)[0]
    return {"rtt_us": u32(68), "cwnd": u32(80), "total_retrans": u32(100), "bytes_acked": u64(120),
            "segs_out": u32(136), "min_rtt_us": u32(148), "bytes_retrans": u64(208)}


def recv(port: int) -> None:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1)
    print("ready", flush=True)
    conn, _ = srv.accept()
    total = 0
    while True:
        try:
            data = conn.recv(1 << 20)
        except ConnectionResetError:
            break  # the sender aborts at the end of the flow
        if not data:
            break
        total += len(data)
    print(json.dumps({"received_bytes": total}), flush=True)


def send(host: str, port: int, cc: str, seconds: float) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    sock.settimeout(10)
    sock.connect((host, port))
    sock.setblocking(False)
    chunk = b"\0" * (256 << 10)
    rtts, cwnds = [], []
    t0 = time.monotonic()
    next_sample = t0
    while True:
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        if now >= next_sample:
            info = tcp_info(sock)
            if info["rtt_us"]:
                rtts.append(info["rtt_us"])
            cwnds.append(info["cwnd"])
            next_sample += SAMPLE_EVERY
        try:
            sock.send(chunk)
        except BlockingIOError:
            time.sleep(0.001)
    info = tcp_info(sock)
    elapsed = time.monotonic() - t0
    # Abort (RST) instead of a graceful close: no FIN_WAIT/TIME_WAIT socket keeps the
    # candidate's congestion control referenced after the flow, so it unregisters at once.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    print(json.dumps({"seconds": elapsed, "bytes_acked": info["bytes_acked"], "retransmits": info["total_retrans"],
                      "segs_out": info["segs_out"], "min_rtt_us": info["min_rtt_us"], "rtt_samples_us": rtts,
                      "cwnd_samples": cwnds, "cc": cc}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(int(sys.argv[2]))
    else:
        send(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
