"""The baselines shown beside a search run beside it, not before it.

On a large trace the 31 libCacheSim policies take minutes, and the slowest one (LFUDA on
cache2k/orm-*) runs into its timeout; run first, they kept a core idle while the search
waited. Now they start in a thread as the search starts, their children at a lower priority,
so they use what the search leaves idle. Only simplification needs their scores (it may
not give a win over a baseline away): the thread stores them in the archive, where the
inner session's stepper waits for them (``Stepper._await_caps``). If the baselines fail,
the thread stops the run, so nothing waits for ever, and :meth:`Beside.result` raises why.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from pathlib import Path
from typing import Callable

from ..context import Context
from ..domain import Baselines
from ..outcomes import Stop, StopKind
from ..storage.archive import Archive

def baseline_scores(ctx: Context, baselines: Baselines) -> dict[str, float]:
    """Every contender's score (mean objective over the workloads; references such as Belady's
    oracle are bounds, not contenders)."""
    first = next(iter(baselines.values()))
    names = [p for p, r in first.items() if not r.reference]
    return {p: sum(getattr(b[p], ctx.objective) for b in baselines.values()) / len(baselines) for p in names}


class Beside:
    """The baselines of one run, computed in a thread while the search runs (or first, for a
    domain whose measurements a shared machine would change: ``Domain.baselines_beside``)."""

    def __init__(self, ctx: Context, run: Callable[[], Baselines], archive_path: Path, run_id: str):
        self.ctx, self._run, self.archive_path, self.run_id = ctx, run, archive_path, run_id
        self._result: Baselines | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=f"baselines-{run_id}", daemon=True)
        self._thread.start()
        if not ctx.plugin.baselines_beside:
            self.result()  # first, and a failure stops the run before it starts

    def best(self) -> tuple[str, float] | None:
        """(name, score) of the best contender, or None while the baselines still run."""
        if self._thread.is_alive() or self._result is None:
            return None
        return min(baseline_scores(self.ctx, self._result).items(), key=lambda kv: kv[1])

    def result(self) -> Baselines:
        """Wait for the baselines; raises what stopped them."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _work(self) -> None:
        archive = Archive(self.archive_path)  # a connection of this thread's own
        try:
            self._result = self._run()
            archive.set_caps(self.run_id, tuple(baseline_scores(self.ctx, self._result).values()))
        except BaseException as exc:  # handed to the controller by result()
            self._error = exc
            why = "".join(traceback.format_exception_only(exc)).strip()
            with contextlib.suppress(Exception):  # an unwritable archive fails the search itself
                archive.stop_run(self.run_id, Stop(StopKind.BASELINES, f"the baselines failed: {why}"))
        finally:
            archive.close()
