"""The run log: every attempt is recorded, and a failure keeps its one-line reason.

One type, Attempt, records every run of every job: started (status 'running') before
anything is fetched or read, then finished once, as success, unchanged or failed.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import duckdb

from ringwatch.scrapers.errors import reason_of
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import QualityWarning
from ringwatch.scrapers.sources import Origin, Source
from ringwatch.warehouse.clock import utcnow


class RunStatus(StrEnum):
    """sync_runs.status."""

    RUNNING = "running"
    SUCCESS = "success"
    UNCHANGED = "unchanged"
    FAILED = "failed"


class RunMode(StrEnum):
    """sync_runs.mode: where the run's captures came from (an Origin), or a reparse of stored ones."""

    LIVE = Origin.LIVE.value
    FILE = Origin.FILE.value
    WAYBACK = Origin.WAYBACK.value
    ATLAS = Origin.ATLAS.value
    REPARSE = "reparse"


class LoadStatus(StrEnum):
    """What a load did with what it was given."""

    LOADED = "loaded"  # new rows went in
    KEPT_EXISTING = "kept_existing"  # the quarter holds an observation nearer its end: kept
    UNCHANGED = "unchanged"  # the same figures are held already


HOST = socket.gethostname()


def _label(quarter: Quarter | None) -> str | None:
    return None if quarter is None else str(quarter)


def start_run(con: duckdb.DuckDBPyConnection, *, source: Source, mode: RunMode | Origin,
              flow_run_id: str | None, url: str | None) -> int:
    row = con.execute(
        "INSERT INTO sync_runs (flow_run_id, source, mode, started_at, status, url, pid, host) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING run_id",
        [flow_run_id, str(source), str(mode), utcnow(), str(RunStatus.RUNNING), url, os.getpid(), HOST],
    ).fetchone()
    assert row is not None
    _OWN_RUNS.add(int(row[0]))
    return int(row[0])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, *, status: RunStatus,
               quarter: Quarter | None = None, rows_loaded: int | None = None,
               error: str | None = None, capture_id: int | None = None) -> None:
    con.execute(
        "UPDATE sync_runs SET status = ?, finished_at = ?, quarter = coalesce(?, quarter), "
        "rows_loaded = ?, error = ?, capture_id = coalesce(?, capture_id) WHERE run_id = ?",
        [str(RunStatus(status)), utcnow(), _label(quarter), rows_loaded, error, capture_id, run_id],
    )
    _OWN_RUNS.discard(run_id)


def record_warnings(con: duckdb.DuckDBPyConnection, run_id: int, *, source: Source,
                    quarter: Quarter | None, warnings: Iterable[QualityWarning]) -> int:
    rows = [(run_id, str(source), _label(quarter), w.kind, w.subject, w.detail, utcnow()) for w in warnings]
    for row in rows:
        con.execute("INSERT INTO quality_warnings VALUES (?, ?, ?, ?, ?, ?, ?)", list(row))
    return len(rows)


@dataclass
class Attempt:
    """One run of a job on one source, as the run log holds it: what it has learned so far
    (its quarter, the capture it read) is written with it when it ends, however it ends."""

    run_id: int
    source: Source
    mode: RunMode
    quarter: Quarter | None = None
    capture_id: int | None = None
    finished: bool = False  # ended once; a later failure (an outer handler) changes nothing

    @classmethod
    def start(cls, con: duckdb.DuckDBPyConnection, *, source: Source, mode: RunMode,
              url: str | None, flow_run_id: str | None) -> Attempt:
        run_id = start_run(con, source=source, mode=mode, flow_run_id=flow_run_id, url=url)
        return cls(run_id, source, mode)

    def finish(self, con: duckdb.DuckDBPyConnection, status: RunStatus, *, rows_loaded: int) -> None:
        self.finished = True
        finish_run(con, self.run_id, status=status, quarter=self.quarter, rows_loaded=rows_loaded,
                   capture_id=self.capture_id)

    def fail(self, con: duckdb.DuckDBPyConnection, exc: BaseException) -> None:
        if self.finished:
            return
        self.finished = True
        finish_run(con, self.run_id, status=RunStatus.FAILED, quarter=self.quarter, error=reason_of(exc),
                   capture_id=self.capture_id)

    def warn(self, con: duckdb.DuckDBPyConnection, warnings: Iterable[QualityWarning]) -> int:
        return record_warnings(con, self.run_id, source=self.source, quarter=self.quarter, warnings=warnings)

    @contextmanager
    def failing_on_error(self, con: duckdb.DuckDBPyConnection) -> Iterator[Attempt]:
        """On any exception inside, finish the attempt as failed with its reason; the exception goes on.
        The caller finishes a success itself, since only it knows the outcome."""
        try:
            yield self
        except BaseException as exc:
            self.fail(con, exc)
            raise


def close_interrupted_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark runs left 'running' by a process that died as failed (call with the writer lock
    held). A run whose process is alive on this host is fetching, not dead: it is left alone."""
    running = con.execute("SELECT run_id, pid, host FROM sync_runs WHERE status = ?",
                          [str(RunStatus.RUNNING)]).fetchall()
    dead = [run_id for run_id, pid, host in running if not _still_running(run_id, pid, host)]
    for run_id in dead:
        con.execute(
            "UPDATE sync_runs SET status = ?, finished_at = ?, error = 'interrupted: the process stopped "
            "before the run finished (killed or crashed); nothing it was loading was kept' "
            "WHERE run_id = ? AND status = ?", [str(RunStatus.FAILED), utcnow(), run_id, str(RunStatus.RUNNING)])
    return len(dead)


_OWN_RUNS: set[int] = set()  # runs this process has started and not yet finished


def _still_running(run_id: int, pid: int | None, host: str | None) -> bool:
    """Whether the process that started a 'running' attempt is still at it. Only this host's
    processes can be asked; an attempt from another host (or from before migration 4) is
    taken as dead, as every 'running' row was before syncs fetched outside the lock."""
    if pid is None or host != HOST:
        return False
    if pid == os.getpid():
        return run_id in _OWN_RUNS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
