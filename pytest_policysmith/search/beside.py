"""The baselines shown beside a search: first, then beside it once they leave a core idle.

On a large trace the 31 libCacheSim policies take minutes, and the slowest one (LFUDA on
cache2k/orm-*) runs into its timeout alone, with the other core idle while the search waits.
So the search starts once the baselines still running have left a core idle (the domain sets
``spare`` in ``Domain.search_baselines``) for ``IDLE_GRACE`` seconds; the stragglers finish
beside it at a lower priority. Not from the start, nor at the first idle moment: on these 2
cores a search sharing the machine with baselines did the same work in up to 44% more CPU time
(arc/P3), so only a long straggler (LFUDA, 120 s to its timeout) is worth running beside it.

Only simplification needs their scores (it may not give a win over a baseline away): the
thread stores them in the archive, where the inner session's stepper waits for them
(``Stepper._await_caps``). If the baselines fail, the thread stops the run, so nothing
waits for ever, and :meth:`Beside.result` raises why.
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

IDLE_GRACE = 30.0  # seconds a core stays idle, waiting for the last baselines, before the search starts


def baseline_scores(ctx: Context, baselines: Baselines) -> dict[str, float]:
    """Every contender's score (mean objective over the workloads; references such as Belady's
    oracle are bounds, not contenders)."""
    first = next(iter(baselines.values()))
    names = [p for p, r in first.items() if not r.reference]
    return {p: sum(getattr(b[p], ctx.objective) for b in baselines.values()) / len(baselines) for p in names}


class Beside:
    """The baselines of one run, computed in a thread; the constructor returns when the search
    may start (they are done, or a core has been idle for ``idle_grace`` seconds)."""

    def __init__(self, ctx: Context, run: Callable[[threading.Event], Baselines], archive_path: Path, run_id: str,
                 idle_grace: float = IDLE_GRACE):
        self.ctx, self._run, self.archive_path, self.run_id = ctx, run, archive_path, run_id
        self._result: Baselines | None = None
        self.scores: dict[str, float] | None = None  # each contender's score, once the baselines are done
        self._error: BaseException | None = None
        self.spare = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"baselines-{run_id}", daemon=True)
        self._thread.start()
        self.spare.wait()
        self._thread.join(timeout=idle_grace)
        if self._error is not None:
            self.result()  # a failure before the search starts: say so now

    def best(self) -> tuple[str, float] | None:
        """(name, score) of the best contender, or None while the baselines still run."""
        if self._thread.is_alive() or self.scores is None:
            return None
        return min(self.scores.items(), key=lambda kv: kv[1])

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
            self._result = self._run(self.spare)
            self.scores = baseline_scores(self.ctx, self._result)
            archive.set_caps(self.run_id, tuple(self.scores.values()))
        except BaseException as exc:  # handed to the controller by result()
            self._error = exc
            why = "".join(traceback.format_exception_only(exc)).strip()
            with contextlib.suppress(Exception):  # an unwritable archive fails the search itself
                archive.stop_run(self.run_id, Stop(StopKind.BASELINES, f"the baselines failed: {why}"))
        finally:
            archive.close()
            self.spare.set()
