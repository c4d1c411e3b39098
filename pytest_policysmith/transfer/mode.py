"""Transfer/sweep mode for a session: which workloads to run, and what to do with the results."""

from __future__ import annotations

import re
from pathlib import Path

from typing import Any

from ..context import Context
from ..errors import UsageError


class TransferMode:
    def __init__(self, transfer: str | None, sweep: str | None):
        self.transfer, self.sweep = transfer, sweep
        self.sizes = parse_sizes(sweep) if sweep else []
        self.results: list[dict] = []
        self.lines: list[str] = []
        self.context: Context | None = None

    def workloads(self, ctx, dirs) -> list[Any]:
        """The domain's workloads: every trace of a dataset, or the context's at every size."""
        self.context = ctx
        return ctx.plugin.transfer_workloads(ctx, self.transfer, self.sizes, dirs)

    def folder(self, context_name: str, rootdir: Path, option: str | None) -> Path:
        if option and option != "none":
            return Path(option)
        what = "transfer-" + re.sub(r"[^\w.-]+", "_", Path(self.transfer).name or self.transfer) if self.transfer \
            else "sweep"
        return rootdir / ".policysmith" / "reports" / f"{context_name}-{what}"

    def finish(self, ctx, rootdir: Path, option: str | None) -> None:
        """In the reporting process (under xdist it never collected, so it is given the context)."""
        from .report import terminal_lines, write_sweep, write_transfer

        self.context = self.context or ctx
        if self.context is None or not self.results:
            return
        folder = self.folder(self.context.name, rootdir, option)
        if self.transfer:
            path, summary = write_transfer(self.context, self.transfer, self.results, folder)
            self.lines = terminal_lines("transfer", summary, path)
        else:
            path, _ = write_sweep(self.context, self.sizes, self.results, folder)
            self.lines = [f"policysmith sweep: {len(self.results)} (trace, size) points; report {path}"]


def parse_sizes(text: str) -> list[float]:
    try:
        sizes = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--sweep {text!r}: give cache sizes as fractions or object counts, e.g. 0.01,0.03,0.1,0.2")
    if not sizes or any(s <= 0 for s in sizes):
        raise UsageError(f"--sweep {text!r}: sizes must be positive, e.g. 0.01,0.03,0.1,0.2")
    return sizes
