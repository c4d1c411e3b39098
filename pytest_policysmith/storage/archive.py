"""The archive: every run, round, candidate and check, in SQLite, written as it happens.

WAL mode and short transactions let the inner pytest session write results while the
controller reads them; a run killed at any point resumes from what was committed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..domain import Screen, mean_proxy
from ..errors import ArchiveWriteError, UsageError
from ..outcomes import Status, Stop, StopKind

BUSY_SECONDS = 30  # how long a write waits for another process's transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, context TEXT NOT NULL, started REAL NOT NULL, finished REAL,
    status TEXT NOT NULL, settings TEXT NOT NULL, owner_pid INTEGER, stop_reason TEXT, stop_kind TEXT,
    caps TEXT, seconds REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS candidates (
    run_id TEXT NOT NULL, id TEXT NOT NULL, round INTEGER NOT NULL, idx INTEGER NOT NULL,
    hash TEXT NOT NULL, source TEXT NOT NULL, parents TEXT NOT NULL, origin TEXT NOT NULL,
    generator TEXT NOT NULL, status TEXT NOT NULL, feedback TEXT, score REAL, metrics TEXT,
    check_seconds REAL DEFAULT 0, eval_seconds REAL DEFAULT 0, created REAL NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0, meta TEXT, clone_of TEXT,
    PRIMARY KEY (run_id, id)
);
CREATE INDEX IF NOT EXISTS cand_round ON candidates(run_id, round);
CREATE TABLE IF NOT EXISTS checks (
    run_id TEXT NOT NULL, candidate_id TEXT NOT NULL, rule TEXT NOT NULL, outcome TEXT NOT NULL,
    feedback TEXT, seconds REAL, PRIMARY KEY (run_id, candidate_id, rule)
);
CREATE TABLE IF NOT EXISTS generated (
    run_id TEXT NOT NULL, round INTEGER NOT NULL, attempt INTEGER NOT NULL, count INTEGER NOT NULL,
    at REAL NOT NULL, screen REAL, clones TEXT, PRIMARY KEY (run_id, round, attempt)
);
CREATE TABLE IF NOT EXISTS llm_requests (
    run_id TEXT NOT NULL, slot TEXT NOT NULL, purpose TEXT NOT NULL, model TEXT, prompt_tokens INTEGER,
    completion_tokens INTEGER, cost_usd REAL, seconds REAL, status TEXT NOT NULL, cached INTEGER NOT NULL,
    error TEXT, at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 1, timeouts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS crashes (
    run_id TEXT NOT NULL, candidate_id TEXT, worker TEXT, reason TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rounds (
    run_id TEXT NOT NULL, round INTEGER NOT NULL, best_score REAL, pass_rate REAL,
    seconds REAL, candidates INTEGER, PRIMARY KEY (run_id, round)
);
"""


@dataclass(frozen=True)
class CandidateRow:
    run_id: str
    id: str
    round: int
    idx: int
    hash: str
    source: str
    parents: tuple[str, ...]
    origin: str
    generator: str
    status: str  # pending | failed | evaluated | screened (passed, not scored in full: the cascade) | error
    feedback: str | None
    score: float | None
    metrics: dict[str, Any] | None
    check_seconds: float
    eval_seconds: float
    attempt: int = 0  # 0 = first try, k = k-th repair of the candidate in the same slot
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. the LLM conversation
    clone_of: str | None = None  # screened as a clone of this candidate (see domain.Screen)


@dataclass(frozen=True)
class NewCandidate:
    id: str
    idx: int
    hash: str
    source: str
    parents: tuple[str, ...]
    origin: str
    generator: str
    status: str = Status.PENDING  # FAILED for a reply that held no usable code
    feedback: str | None = None
    meta: dict[str, Any] | None = None


@dataclass(frozen=True)
class RoundRow:
    round: int
    best_score: float | None
    pass_rate: float
    seconds: float
    candidates: int


def _read_only(path: Path) -> str:
    """Why SQLite's "unable to open database file" happened, when the reason is a read-only mount."""
    try:
        return "; its filesystem is mounted read-only" if os.statvfs(path.parent).f_flag & os.ST_RDONLY else ""
    except OSError:
        return ""


def _primary_code(exc: sqlite3.Error) -> int | None:
    """SQLite's result code without its extended bits (SQLITE_BUSY_SNAPSHOT is SQLITE_BUSY), to decide on."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


class Archive:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=BUSY_SECONDS, isolation_level=None)
            self._set_up()
        except (sqlite3.Error, OSError) as exc:
            raise UsageError(f"archive {self.path}: cannot open for writing ({exc}{_read_only(self.path)}); "
                             "choose a writable path with --synth-archive") from exc

    def _set_up(self) -> None:
        """WAL, schema and migrations, retried while another process does the same.

        Two runs opening a new archive at once race on the journal-mode switch and the
        schema; SQLite answers some of those races with an immediate "database is locked"
        that its busy timeout does not cover, so this waits as the timeout would.
        """
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                # Schema and migrations in one transaction: processes opening a new or an old archive at
                # once must not both add a column.
                self.db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}")
                self._migrate()
                self.db.execute("COMMIT")
                return
            except sqlite3.OperationalError as exc:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                if _primary_code(exc) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _migrate(self) -> None:
        """Add columns that archives written by earlier versions lack."""
        for table, col, decl in (("runs", "stop_reason", "TEXT"), ("runs", "stop_kind", "TEXT"), ("runs", "caps", "TEXT"),
                                 ("runs", "seconds", "REAL NOT NULL DEFAULT 0"),
                                 ("candidates", "attempt", "INTEGER NOT NULL DEFAULT 0"),
                                 ("candidates", "meta", "TEXT"), ("candidates", "clone_of", "TEXT"),
                                 ("generated", "screen", "REAL"),
                                 ("generated", "clones", "TEXT"),
                                 ("llm_requests", "attempts", "INTEGER NOT NULL DEFAULT 1"),
                                 ("llm_requests", "timeouts", "INTEGER NOT NULL DEFAULT 0")):
            cols = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if col not in cols:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {col} {decl}")

    def close(self) -> None:
        self.db.close()

    def _tx(self, sql: str, params: tuple = ()) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(sql, params)
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise self._write_error(exc) from exc

    def _write_error(self, exc: sqlite3.Error) -> ArchiveWriteError:
        hint = ("free space on that filesystem" if _primary_code(exc) == sqlite3.SQLITE_FULL else
                "make the path writable, or choose another with --synth-archive")
        return ArchiveWriteError(f"archive {self.path}: write failed ({exc}); everything committed before is "
                                 f"intact; {hint}")

    # -- runs -------------------------------------------------------------------------
    def create_run(self, context: str, settings: dict[str, Any], pid: int) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self._tx("INSERT INTO runs (id, context, started, finished, status, settings, owner_pid) VALUES (?,?,?,?,?,?,?)",
                 (run_id, context, time.time(), None, "running", json.dumps(settings, sort_keys=True), pid))
        return run_id

    def run(self, run_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT id, context, started, finished, status, settings, owner_pid, stop_reason,"
                              " stop_kind, seconds FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            return None
        stop = Stop(StopKind(row[8] or StopKind.GENERATOR), row[7]) if row[7] else None
        return {"id": row[0], "context": row[1], "started": row[2], "finished": row[3], "status": row[4],
                "settings": json.loads(row[5]), "owner_pid": row[6], "stop": stop, "seconds": row[9]}

    def latest_run(self, context: str) -> str | None:
        row = self.db.execute("SELECT id FROM runs WHERE context=? ORDER BY started DESC LIMIT 1", (context,)).fetchone()
        return row[0] if row else None

    def stop_run(self, run_id: str, stop: Stop) -> None:
        """The run stops early on purpose (budget, unreachable LLM); waiting workers give up."""
        self._tx("UPDATE runs SET status='stopping', stop_reason=?, stop_kind=? WHERE id=?",
                 (stop.reason, str(stop.kind), run_id))

    def add_run_seconds(self, run_id: str, seconds: float) -> None:
        """A session of the run ended after ``seconds`` of wall time: a resumed run's time is the sum
        of its sessions' (a session killed outright adds nothing)."""
        self._tx("UPDATE runs SET seconds=seconds+? WHERE id=?", (seconds, run_id))

    def set_caps(self, run_id: str, caps: tuple[float, ...]) -> None:
        """The baselines' scores, once the controller has them (they run beside the search)."""
        self._tx("UPDATE runs SET caps=? WHERE id=?", (json.dumps(list(caps)), run_id))

    def caps(self, run_id: str) -> tuple[float, ...] | None:
        """The baselines' scores, or None while they are still running."""
        row = self.db.execute("SELECT caps FROM runs WHERE id=?", (run_id,)).fetchone()
        return tuple(json.loads(row[0])) if row and row[0] is not None else None

    def set_run_status(self, run_id: str, status: str, pid: int | None = None) -> None:
        finished = time.time() if status in ("finished", "failed") else None
        self._tx("UPDATE runs SET status=?, finished=?, owner_pid=COALESCE(?, owner_pid),"
                 " stop_reason=CASE WHEN ?='running' THEN NULL ELSE stop_reason END,"
                 " stop_kind=CASE WHEN ?='running' THEN NULL ELSE stop_kind END WHERE id=?",
                 (status, finished, pid, status, status, run_id))

    # -- candidates ---------------------------------------------------------------------
    def add_round(self, run_id: str, round_no: int, rows: list[NewCandidate], attempt: int = 0,
                  screen: Screen | None = None) -> None:
        """Store a round's candidates (or one repair level) and mark it generated, in one transaction.

        Workers wait for the mark, so they never see half a round; a run killed while
        storing simply generates the round again (the generator is seeded per round).
        """
        now = time.time()
        try:
            self.db.execute("BEGIN IMMEDIATE")
            if self.db.execute("SELECT 1 FROM generated WHERE run_id=? AND round=? AND attempt=?",
                               (run_id, round_no, attempt)).fetchone():
                self.db.execute("ROLLBACK")
                return
            self.db.executemany(
                "INSERT INTO candidates (run_id, id, round, idx, hash, source, parents, origin, generator,"
                " status, feedback, created, attempt, meta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(run_id, c.id, round_no, c.idx, c.hash, c.source, json.dumps(c.parents), c.origin, c.generator,
                  c.status, c.feedback, now, attempt, json.dumps(c.meta) if c.meta else None) for c in rows])
            self.db.execute("INSERT INTO generated (run_id, round, attempt, count, at, screen, clones)"
                            " VALUES (?,?,?,?,?,?,?)",
                            (run_id, round_no, attempt, len(rows), now, screen and screen.bar,
                             json.dumps(list(screen.scored.items())) if screen and screen.scored else None))
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise self._write_error(exc) from exc

    def generated(self, run_id: str, round_no: int, attempt: int = 0) -> tuple[int, float] | None:
        """(candidate count, time generated) once that round (repair level) is stored, else None."""
        row = self.db.execute("SELECT count, at FROM generated WHERE run_id=? AND round=? AND attempt=?",
                              (run_id, round_no, attempt)).fetchone()
        return (row[0], row[1]) if row else None

    def screen(self, run_id: str, round_no: int) -> Screen | None:
        """The round's cheap first stage (see domain.Screen); None: it has none."""
        row = self.db.execute("SELECT screen, clones FROM generated WHERE run_id=? AND round=? AND attempt=0",
                              (run_id, round_no)).fetchone()
        if row is None or row[0] is None:
            return None
        return Screen(row[0], {proxy: cid for proxy, cid in json.loads(row[1])} if row[1] else {})

    def scored_proxies(self, run_id: str) -> dict[float, str]:
        """Cheap score -> the first candidate scored in full with it (a clone's original)."""
        out: dict[float, str] = {}
        for r in self.db.execute("SELECT id, metrics FROM candidates WHERE run_id=? AND status='evaluated'"
                                 " AND score IS NOT NULL ORDER BY round, attempt, idx", (run_id,)):
            proxy = mean_proxy(json.loads(r[1]) if r[1] else None)
            if proxy is not None:
                out.setdefault(proxy, r[0])
        return out

    def candidate_at(self, run_id: str, round_no: int, idx: int, attempt: int = 0) -> CandidateRow | None:
        row = self.db.execute("SELECT * FROM candidates WHERE run_id=? AND round=? AND idx=? AND attempt=?",
                              (run_id, round_no, idx, attempt)).fetchone()
        return self._row(row) if row else None

    def candidate(self, run_id: str, cid: str) -> CandidateRow | None:
        row = self.db.execute("SELECT * FROM candidates WHERE run_id=? AND id=?", (run_id, cid)).fetchone()
        return self._row(row) if row else None

    # -- LLM requests -------------------------------------------------------------------
    def record_request(self, run_id: str, slot: str, purpose: str, model: str | None, prompt_tokens: int,
                       completion_tokens: int, cost_usd: float, seconds: float, status: str, cached: bool,
                       error: str | None, attempts: int = 1, timeouts: int = 0) -> None:
        self._tx("INSERT INTO llm_requests (run_id, slot, purpose, model, prompt_tokens, completion_tokens, cost_usd,"
                 " seconds, status, cached, error, at, attempts, timeouts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 (run_id, slot, purpose, model, prompt_tokens, completion_tokens, cost_usd, seconds, status,
                  int(cached), error, time.time(), attempts, timeouts))

    def llm_totals(self, run_id: str) -> dict[str, Any]:
        r = self.db.execute("SELECT COUNT(*), COALESCE(SUM(prompt_tokens),0), COALESCE(SUM(completion_tokens),0),"
                            " COALESCE(SUM(cost_usd),0), COALESCE(SUM(cached),0),"
                            " COALESCE(SUM(status != 'ok'),0), COALESCE(SUM(attempts - 1),0), COALESCE(SUM(timeouts),0),"
                            " COALESCE(SUM(seconds),0), COALESCE(MAX(seconds),0)"
                            " FROM llm_requests WHERE run_id=?", (run_id,)).fetchone()
        return {"requests": r[0], "prompt_tokens": r[1], "completion_tokens": r[2], "cost_usd": r[3],
                "cached": r[4], "failed_requests": r[5], "retries": r[6], "timeouts": r[7],
                "request_seconds": r[8], "longest_request_seconds": r[9]}

    def record_check(self, run_id: str, cid: str, rule: str, outcome: str, feedback: str | None, seconds: float) -> None:
        self._tx("INSERT OR REPLACE INTO checks VALUES (?,?,?,?,?,?)", (run_id, cid, rule, outcome, feedback, seconds))

    def record_evaluation(self, run_id: str, cid: str, status: str, score: float | None,
                          metrics: dict | None, feedback: str | None, check_seconds: float, eval_seconds: float,
                          clone_of: str | None = None) -> None:
        self._tx("UPDATE candidates SET status=?, score=?, metrics=?, feedback=?, check_seconds=?, eval_seconds=?,"
                 " clone_of=? WHERE run_id=? AND id=?",
                 (status, score, json.dumps(metrics) if metrics is not None else None, feedback,
                  check_seconds, eval_seconds, clone_of, run_id, cid))

    def record_crash(self, run_id: str, worker: str | None, reason: str) -> None:
        """A worker died; which candidate it was running, if any, is told apart later (blame_crash)."""
        self._tx("INSERT INTO crashes VALUES (?,?,?,?,?)", (run_id, None, worker, reason, time.time()))

    def blame_crash(self, run_id: str, worker: str | None, cid: str) -> tuple[int, str]:
        """Pin the worker's latest death on the candidate it was running: (its deaths so far, reason)."""
        self._tx("UPDATE crashes SET candidate_id=? WHERE rowid=(SELECT MAX(rowid) FROM crashes WHERE run_id=?"
                 " AND worker IS ? AND candidate_id IS NULL)", (cid, run_id, worker))
        n, reason = self.db.execute("SELECT COUNT(*), MAX(reason) FROM crashes WHERE run_id=? AND candidate_id=?",
                                    (run_id, cid)).fetchone()
        return n, reason or "the connection to it was lost"

    def crashes(self, run_id: str) -> list[tuple[str | None, str | None, str]]:
        """(candidate, worker, reason) for every worker death in the run, oldest first."""
        return self.db.execute("SELECT candidate_id, worker, reason FROM crashes WHERE run_id=? ORDER BY rowid",
                               (run_id,)).fetchall()

    def checks(self, run_id: str, cid: str) -> list[tuple[str, str, str | None, float]]:
        return self.db.execute("SELECT rule, outcome, feedback, seconds FROM checks WHERE run_id=? AND candidate_id=?"
                               " ORDER BY rule", (run_id, cid)).fetchall()

    def candidates(self, run_id: str, round_no: int | None = None) -> list[CandidateRow]:
        sql = "SELECT * FROM candidates WHERE run_id=?"
        params: tuple = (run_id,)
        if round_no is not None:
            sql += " AND round=?"
            params += (round_no,)
        return [self._row(r) for r in self.db.execute(sql + " ORDER BY round, attempt, idx", params)]

    def hashes(self, run_id: str, rescreen_before: int | None = None) -> set[str]:
        """Normalized hashes of the run's candidates; with ``rescreen_before``, less those screened in
        rounds before it (they were held to a search round's bar, so simplification, whose bar is
        looser, may propose them again)."""
        if rescreen_before is None:
            rows = self.db.execute("SELECT hash FROM candidates WHERE run_id=?", (run_id,))
        else:
            rows = self.db.execute("SELECT hash FROM candidates WHERE run_id=? AND (status != 'screened' OR round >= ?)",
                                   (run_id, rescreen_before))
        return {r[0] for r in rows}

    def top(self, run_id: str, n: int, clones: bool = False) -> list[CandidateRow]:
        """The ``n`` best scored in full, best first. With ``clones``, a breeding pool: candidates screened
        as clones (domain.Screen) stand in it too, with their original's score (estimated, not measured:
        their status stays ``screened``), so a lineage may drift through forms that score the same, as it
        did when every clone was scored in full."""
        rows = [self._row(r) for r in self.db.execute(
            "SELECT * FROM candidates WHERE run_id=? AND status='evaluated' AND score IS NOT NULL"
            " ORDER BY score ASC, round ASC, idx ASC LIMIT ?", (run_id, n))]
        if not clones:
            return rows
        # A clone sorts right after its original (same score, later round), so only clones of these n can
        # be among the best n.
        scores = {r.id: r.score for r in rows}
        marks = ",".join("?" * len(scores))
        for c in map(self._row, self.db.execute(
                f"SELECT * FROM candidates WHERE run_id=? AND status='screened' AND clone_of IN ({marks})",
                (run_id, *scores))):
            if c.clone_of is not None:
                rows.append(replace(c, score=scores[c.clone_of]))
        return sorted(rows, key=lambda r: (r.score, r.round, r.idx))[:n]

    @staticmethod
    def _row(r: tuple) -> CandidateRow:
        return CandidateRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(json.loads(r[6])), r[7], r[8], r[9], r[10],
                            r[11], json.loads(r[12]) if r[12] else None, r[13] or 0.0, r[14] or 0.0,
                            r[16] or 0, json.loads(r[17]) if r[17] else {}, r[18])

    # -- rounds -----------------------------------------------------------------------------
    def finish_round(self, run_id: str, row: RoundRow) -> None:
        self._tx("INSERT OR REPLACE INTO rounds VALUES (?,?,?,?,?,?)",
                 (run_id, row.round, row.best_score, row.pass_rate, row.seconds, row.candidates))

    def rounds(self, run_id: str) -> list[RoundRow]:
        return [RoundRow(*r) for r in self.db.execute(
            "SELECT round, best_score, pass_rate, seconds, candidates FROM rounds WHERE run_id=? ORDER BY round",
            (run_id,))]
