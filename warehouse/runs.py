"""The run log: every sync attempt is recorded, and a failure keeps its one-line reason."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import duckdb

from ringwatch.scrapers.errors import RingwatchError
from ringwatch.scrapers.records import QualityWarning
from ringwatch.warehouse.clock import utcnow


class RunStatus(StrEnum):
    """sync_runs.status."""

    RUNNING = "running"
    SUCCESS = "success"
    UNCHANGED = "unchanged"
    FAILED = "failed"


HOST = socket.gethostname()


def start_run(con: duckdb.DuckDBPyConnection, *, source: str, mode: str,
              flow_run_id: str | None, url: str | None) -> int:
    row = con.execute(
        "INSERT INTO sync_runs (flow_run_id, source, mode, started_at, status, url, pid, host) "
        "VALUES (?, ?, ?, ?, 'running', ?, ?, ?) RETURNING run_id",
        [flow_run_id, source, mode, utcnow(), url, os.getpid(), HOST],
    ).fetchone()
    assert row is not None
    _OWN_RUNS.add(int(row[0]))
    return int(row[0])


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, *, status: str,
               quarter: str | None = None, rows_loaded: int | None = None,
               error: str | None = None, capture_id: int | None = None) -> None:
    con.execute(
        "UPDATE sync_runs SET status = ?, finished_at = ?, quarter = coalesce(?, quarter), "
        "rows_loaded = ?, error = ?, capture_id = coalesce(?, capture_id) WHERE run_id = ?",
        [status, utcnow(), quarter, rows_loaded, error, capture_id, run_id],
    )
    _OWN_RUNS.discard(run_id)


def record_warnings(con: duckdb.DuckDBPyConnection, run_id: int, *, source: str,
                    quarter: str | None, warnings: Iterable[QualityWarning]) -> int:
    rows = [(run_id, source, quarter, w.kind, w.subject, w.detail, utcnow()) for w in warnings]
    for row in rows:
        con.execute("INSERT INTO quality_warnings VALUES (?, ?, ?, ?, ?, ?, ?)", list(row))
    return len(rows)


@dataclass
class RunHandle:
    """What a running sync has learned so far, for the row written when it ends."""

    run_id: int
    quarter: str | None = None
    capture_id: int | None = None


@contextmanager
def recorded_run(con: duckdb.DuckDBPyConnection, *, source: str, mode: str,
                 flow_run_id: str | None, url: str | None) -> Iterator[RunHandle]:
    """Record the attempt; on any exception mark it failed with its one-line reason.

    The caller marks success itself with finish_run, since only it knows the outcome.
    """
    handle = RunHandle(start_run(con, source=source, mode=mode, flow_run_id=flow_run_id,
                                 url=url))
    try:
        yield handle
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, RingwatchError) else (
            f"unexpected {type(exc).__name__}: {exc}")
        finish_run(con, handle.run_id, status="failed", quarter=handle.quarter,
                   error=reason, capture_id=handle.capture_id)
        raise


def close_interrupted_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark runs left 'running' by a process that died as failed (call with the writer lock
    held). A run whose process is alive on this host is fetching, not dead: it is left alone."""
    running = con.execute("SELECT run_id, pid, host FROM sync_runs WHERE status = 'running'").fetchall()
    dead = [run_id for run_id, pid, host in running if not _still_running(run_id, pid, host)]
    for run_id in dead:
        con.execute(
            "UPDATE sync_runs SET status = 'failed', finished_at = ?, error = 'interrupted: the process stopped "
            "before the run finished (killed or crashed); nothing it was loading was kept' "
            "WHERE run_id = ? AND status = 'running'", [utcnow(), run_id])
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
