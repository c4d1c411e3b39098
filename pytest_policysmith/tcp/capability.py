"""Can this machine load BPF congestion controllers? If not, say exactly what is missing."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

from ..errors import UsageError


@functools.lru_cache(maxsize=None)
def missing() -> str | None:
    """None when everything is here, else a sentence naming what is missing."""
    if os.geteuid() != 0:
        return "loading BPF struct_ops and creating network namespaces need root"
    if not Path("/sys/kernel/btf/vmlinux").exists():
        return "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
    for tool, pkg in (("clang", "clang"), ("bpftool", "bpftool"), ("ip", "iproute2"), ("tc", "iproute2"),
                      ("ethtool", "ethtool")):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed (Debian: apt-get install {pkg})"
    if not Path("/usr/include/bpf/bpf_helpers.h").exists():
        return "libbpf headers are missing (Debian: apt-get install libbpf-dev)"
    btf = Path("/sys/kernel/btf/vmlinux").read_bytes()
    if b"bpf_struct_ops_tcp_congestion_ops" not in btf and b"tcp_congestion_ops" not in btf:
        return "the kernel has no BPF struct_ops for tcp_congestion_ops"
    return None


def compile_missing() -> str | None:
    """What the compile-only checker lacks (it needs no root)."""
    if shutil.which("clang") is None:
        return "clang is not installed (Debian: apt-get install clang)"
    if not Path("/usr/include/bpf/bpf_helpers.h").exists():
        return "libbpf headers are missing (Debian: apt-get install libbpf-dev)"
    if not Path("/sys/kernel/btf/vmlinux").exists():
        return "the kernel has no BTF (/sys/kernel/btf/vmlinux) to generate vmlinux.h from"
    return None


def require() -> None:
    reason = missing()
    if reason:
        raise UsageError(f"the tcp domain cannot run here: {reason}")
