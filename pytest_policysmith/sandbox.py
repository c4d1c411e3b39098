"""Run an untrusted executable in a child process with resource limits.

Limits: CPU seconds, wall-clock seconds, address space, file size (output too: it goes
to files under the limit, so a flood cannot fill memory), an empty environment (no
secrets), a private working directory, and its own network namespace where the kernel
allows one (root, or unprivileged user namespaces): only a loopback that is down. The
cache harness adds a seccomp allow-list once its input is mapped, so fork, exec, socket
and open kill it with SIGSYS. A breach comes back as a reason string that becomes the
candidate's feedback.
"""

from __future__ import annotations

import os
import resource
import select
import signal
import subprocess
from dataclasses import dataclass
from typing import Sequence

from .storage.files import scratch_dir

OUTPUT_LIMIT = 1 << 20
# A program under the sandbox exits with this code when an allocation fails (the cache harness does),
# so that a refused allocation reads as the memory limit, not as a crash.
EXIT_OUT_OF_MEMORY = 3


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 120.0
    wall_seconds: float = 180.0
    address_space: int = 8 << 30
    file_size: int = 1 << 20

    @property
    def cpu_soft_seconds(self) -> int:
        """The whole-second RLIMIT_CPU soft limit the launcher sets (its hard limit is one more)."""
        return int(self.cpu_seconds) + 1


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    breach: str | None  # None when the program ran within its limits

    @property
    def ok(self) -> bool:
        return self.breach is None and self.returncode == 0


# The limits are applied by a tiny launcher that then execs the program: Python can then start it
# with vfork (no preexec_fn), instead of copying a large pytest worker's page tables with fork for
# every run (a sixth of a worker's time in a search on a small trace).
LAUNCHER = r"""
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

/* The soft limit at VALUE, the hard one SLACK above it. */
static void limit(int what, const char *value, rlim_t slack) {
    rlim_t v = (rlim_t)strtoull(value, NULL, 10);
    struct rlimit r = {v, v + slack};
    if (setrlimit(what, &r) != 0) { perror("policysmith sandbox: setrlimit"); _exit(126); }
}

int main(int argc, char **argv) {  /* CPU_SECONDS AS_BYTES FSIZE_BYTES PROGRAM [ARG...] */
    if (argc < 5) { fputs("policysmith sandbox: usage: CPU AS FSIZE PROGRAM [ARG...]\n", stderr); return 126; }
    /* Its own network namespace where allowed (root, or unprivileged user namespaces): only a
       loopback that is down. Otherwise the program's seccomp filter is the only network barrier. */
    if (unshare(CLONE_NEWNET) != 0) (void)unshare(CLONE_NEWUSER | CLONE_NEWNET);
    /* The CPU limit ends the program with SIGXCPU, which says what happened by its type; a soft
       limit equal to the hard one would make the kernel send SIGKILL, which an OOM kill also is. */
    limit(RLIMIT_CPU, argv[1], 1);
    limit(RLIMIT_AS, argv[2], 0);
    limit(RLIMIT_FSIZE, argv[3], 0);
    limit(RLIMIT_CORE, "0", 0);
    execv(argv[4], argv + 4);
    perror("policysmith sandbox: exec");
    return 127;
}
"""


def _launcher() -> str:
    """The launcher's path, compiled once per machine (the compile step caches it by source)."""
    from .compile import compile_c

    return str(compile_c(LAUNCHER).path)


def run_limited(argv: Sequence[str], limits: Limits = Limits()) -> RunResult:
    """Run ``argv`` under ``limits``; never raises for the child's misbehaviour."""
    cpu_before = _children_cpu()
    launch = [_launcher(), str(limits.cpu_soft_seconds), str(limits.address_space), str(limits.file_size), *argv]
    with scratch_dir("ps-run-") as tmp:
        with open(os.path.join(tmp, ".stdout"), "w+b") as out, open(os.path.join(tmp, ".stderr"), "w+b") as err:
            proc = subprocess.Popen(
                launch, cwd=tmp, env={"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp},
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
            )
            timed_out = not _wait_exit(proc, limits.wall_seconds)
            if timed_out:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            _kill_group(proc.pid)  # anything it left running in its session
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(OUTPUT_LIMIT).decode(errors="replace"), _tail(err.read()[-8000:])
    if timed_out:
        return RunResult(-9, "", stderr, f"timeout: still running after {limits.wall_seconds:g} s wall-clock")
    rc = proc.returncode
    return RunResult(rc, stdout, stderr, _breach(rc, limits, _children_cpu() - cpu_before))


def _wait_exit(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the child to end; False if it has not. The kernel wakes us
    through a pidfd the moment it exits: ``Popen.wait(timeout)`` polls with sleeps of 1, 2, 4 ms...,
    so a 3 ms simulation took 7 ms, and a worker sat idle for half of every tiny run."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux 5.3+: the polling wait
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(timeout * 1000):
            return False
    finally:
        os.close(fd)
    proc.wait()
    return True


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children: the delta over one run is that child's."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _tail(data: bytes, n: int = 4000) -> str:
    return data.decode(errors="replace")[-n:]


def _breach(rc: int, limits: Limits, cpu_used: float) -> str | None:
    if rc >= 0:
        if rc == EXIT_OUT_OF_MEMORY:
            return f"memory: allocation failed under the {limits.address_space >> 20} MiB address-space limit"
        return None
    sig = -rc
    # SIGXCPU at the soft limit; SIGKILL a second later, at the hard one, only if that was blocked:
    # a SIGKILL after the soft limit's CPU time is the hard limit's.
    if sig == signal.SIGXCPU or sig == signal.SIGKILL and cpu_used >= limits.cpu_soft_seconds:
        return f"timeout: CPU-time limit of {limits.cpu_seconds:g} s exceeded (signal {signal.Signals(sig).name})"
    if sig == signal.SIGKILL:  # not the CPU limit (the kernel's): something outside, e.g. the OOM killer
        return f"crash: killed by signal SIGKILL from outside the sandbox, after {cpu_used:.2f} s of CPU"
    if sig == signal.SIGXFSZ:
        return f"output flood: file size limit of {limits.file_size} bytes exceeded"
    if sig == signal.SIGSYS:
        return ("forbidden call: a system call outside the allowed set (fork, exec, socket, open, ...) "
                "killed it (seccomp)")
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = str(sig)
    return f"crash: killed by signal {name}"
