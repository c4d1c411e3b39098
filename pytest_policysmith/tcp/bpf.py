"""BPF plumbing: vmlinux.h from the running kernel's BTF, and struct_ops (un)registration.

Registration goes through ``bpftool struct_ops register``, which loads the object with
libbpf, so the kernel verifier runs; the struct_ops stays registered (and its CC name
usable by any socket) until ``unregister`` is called with its id. bcc cannot do this
here: this kernel ships no headers and bcc has no struct_ops support.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..paths import cache_dir
from ..storage.files import write_atomic

BTF = Path("/sys/kernel/btf/vmlinux")
LOG_LINES = 12  # the verifier log's last lines carry the reason; its preamble does not


class LoadError(Exception):
    """The kernel (verifier) or libbpf refused the program; ``feedback`` says why, briefly."""

    def __init__(self, feedback: str):
        super().__init__(feedback)
        self.feedback = feedback


@dataclass(frozen=True)
class Registration:
    id: int
    name: str


def bpftool() -> str:
    exe = shutil.which("bpftool") or next((p for p in ("/usr/sbin/bpftool", "/sbin/bpftool") if os.path.exists(p)), None)
    if exe is None:
        raise UsageError("bpftool not found; install it (Debian: apt-get install bpftool)")
    return exe


def vmlinux_dir() -> Path:
    """A folder holding vmlinux.h for the running kernel (generated once per BTF)."""
    if not BTF.exists():
        raise UsageError(f"{BTF} is missing: this kernel has no BTF, so BPF struct_ops cannot be built")
    digest = hashlib.sha256(BTF.read_bytes()).hexdigest()[:16]
    folder = cache_dir() / "bpf-include" / digest
    header = folder / "vmlinux.h"
    if not header.exists():
        text = subprocess.run([bpftool(), "btf", "dump", "file", str(BTF), "format", "c"], capture_output=True,
                              text=True, check=True).stdout
        write_atomic(header, text)
    return folder


def register(obj: Path) -> Registration:
    """Load and register the object's struct_ops; LoadError carries the verifier's reason."""
    proc = subprocess.run([bpftool(), "struct_ops", "register", str(obj)], capture_output=True, text=True)
    m = re.search(r"Registered \S+ (\S+) id (\d+)", proc.stdout + proc.stderr)
    if proc.returncode != 0 or m is None:
        raise LoadError(verifier_feedback(proc.stdout + proc.stderr))
    return Registration(int(m.group(2)), m.group(1))


def unregister(reg_id: int) -> None:
    subprocess.run([bpftool(), "struct_ops", "unregister", "id", str(reg_id)], capture_output=True, text=True)


def wait_gone(reg_id: int, timeout: float = 5.0) -> bool:
    """Wait until an unregistered struct_ops is freed (sockets using it may hold it briefly)."""
    import time

    deadline = time.monotonic() + timeout
    while any(r.id == reg_id for r in registered()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def registered() -> list[Registration]:
    """Every struct_ops map registered in the kernel now (id and map name)."""
    proc = subprocess.run([bpftool(), "struct_ops", "list"], capture_output=True, text=True)
    out = []
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*(\d+):\s+(\S+)\s+tcp_congestion_ops", line)
        if m:
            out.append(Registration(int(m.group(1)), m.group(2)))
    return out


def verifier_feedback(log: str) -> str:
    """The part of a failed load that explains it: the verifier log's tail and libbpf's verdict."""
    lines = [ln for ln in log.splitlines() if ln.strip()]
    if "-- BEGIN PROG LOAD LOG --" in log:
        start = max(i for i, ln in enumerate(lines) if "BEGIN PROG LOAD LOG" in ln) + 1
        end = next((i for i, ln in enumerate(lines) if "END PROG LOAD LOG" in ln and i >= start), len(lines))
        # Instructions and source lines, without the register-state comments that follow ";".
        body = [re.sub(r"\s{2,}; R\d.*$", "", ln) for ln in lines[start:end]]
        tail = [ln for ln in lines[end + 1:] if "libbpf" in ln or "Error" in ln or "failed" in ln][:3]
        kept = body[-LOG_LINES:]
        cut = len(body) - len(kept)
        head = [f"[... {cut} earlier verifier log lines cut ...]"] if cut > 0 else []
        return "the BPF verifier rejected the program:\n" + "\n".join(head + kept + tail)
    return "loading the BPF program failed:\n" + "\n".join(lines[-LOG_LINES:])
