"""Read-only access for `ringwatch query` and `ringwatch status`, and a fetch's stored validators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ringwatch.scrapers.errors import DatabaseBusy, WarehouseError
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import SOURCES
from ringwatch.warehouse.captures import CaptureStore, previous_responses
from ringwatch.warehouse.changes import ChangeSummary, summarize_changes
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.lock import holder_of
from ringwatch.warehouse.staleness import StalenessPolicy, stale_reasons


def open_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return connect(db_path, read_only=True)
    except DatabaseBusy as exc:
        raise WarehouseError(
            f"the database {db_path} is being written by another ringwatch process "
            f"(pid {holder_of(db_path)}); DuckDB lets no one read while a sync writes. "
            "Try again when it finishes."
        ) from exc


def previous_responses_if_free(db_path: str | Path, store: CaptureStore, source: str) -> dict[str, Capture]:
    """previous_responses from a read-only opening, taking no writer lock: {} when there is no
    warehouse yet, or another process has it open (a writer), or it cannot be read. For a fetch
    that starts before its run gets the writer slot; without validators it is unconditional."""
    try:
        con = connect(db_path, read_only=True)
    except WarehouseError:
        return {}
    try:
        return previous_responses(con, store, source)
    except (duckdb.Error, WarehouseError):
        return {}
    finally:
        con.close()


QUERY_EXAMPLE = 'ringwatch query "SELECT * FROM agency_counts_by_quarter"'


@dataclass(frozen=True, slots=True)
class StatementResult:
    """One statement's answer. `sql` is the statement as DuckDB split it from the query; a
    statement that returns no table (BEGIN, PREPARE) has no columns and no rows."""

    sql: str
    columns: list[str]
    rows: list[tuple[Any, ...]]

    @property
    def first_line(self) -> str:
        """The statement's first line, to name it in a header or an error."""
        lines = [line.strip() for line in self.sql.strip().splitlines() if line.strip()]
        first = lines[0].rstrip(";").rstrip() if lines else ""
        return first if len(lines) <= 1 else f"{first} ..."


def run_query(db_path: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One statement's columns and rows, for callers that want one table; a query of several
    statements is refused before it runs (`run_statements` answers each of them)."""
    statements = _split(sql)
    if len(statements) > 1:
        raise WarehouseError(f"query failed: {len(statements)} statements given where one was expected; "
                             "give one statement.")
    [result] = _run(db_path, statements)
    return result.columns, result.rows


def run_statements(db_path: Path, sql: str) -> list[StatementResult]:
    """Every statement of `sql`, in order, each with its own result.

    DuckDB would run them all and hand back the last result alone, which hides what the
    others said; so the query is split with DuckDB's own parser and each statement runs on
    its own. An empty, blank or comment-only query is an error, never a silent nothing.
    """
    return _run(db_path, _split(sql))


def _split(sql: str) -> list[duckdb.Statement]:
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError as exc:  # bytes the shell passed that are not UTF-8 (surrogate-escaped)
        raise WarehouseError(f"query failed: the SQL is not valid UTF-8 (at character {exc.start + 1}, after "
                             f"{sql[max(exc.start - 20, 0):exc.start]!r}); write it in UTF-8.") from exc
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise WarehouseError(f"query failed: {_full(exc)}") from exc
    if not statements:
        given = (f"the query {sql.strip()[:40]!r} holds no statement, only comments (-- or /* */) or ';'"
                 if sql.strip() else "the query is blank")
        raise WarehouseError(f"no SQL given: {given}. Give one or more statements, for example: {QUERY_EXAMPLE}")
    return list(statements)


def _run(db_path: Path, statements: list[duckdb.Statement]) -> list[StatementResult]:
    """Run the statements on a read-only connection that reads the warehouse and nothing else:
    no writes, no COPY ... TO, no reading or attaching other files, no extensions (DuckDB's
    enable_external_access, then lock_configuration so the query cannot turn it back on)."""
    con = open_read_only(db_path)
    try:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        results = []
        for k, statement in enumerate(statements, 1):
            result = StatementResult(statement.query, [], [])
            where = f"statement {k} of {len(statements)} ({result.first_line}): " if len(statements) > 1 else ""
            try:
                cursor = con.execute(statement)
                # No cursor (some DuckDB versions for an empty statement) or no table: nothing to show.
                if cursor is not None and cursor.description is not None:
                    result = StatementResult(statement.query, [d[0] for d in cursor.description], cursor.fetchall())
            except duckdb.Error as exc:
                raise _query_error(exc, db_path, where) from exc
            results.append(result)
        return results
    finally:
        con.close()


def _query_error(exc: duckdb.Error, db_path: Path, where: str) -> WarehouseError:
    text = _full(exc)
    if isinstance(exc, duckdb.PermissionException) or "configuration option" in text:
        return WarehouseError(
            "ringwatch query reads the warehouse and nothing else (no files, COPY, ATTACH, INSTALL or "
            f"LOAD): {where}{text.splitlines()[0].rstrip('.')}. To take the data elsewhere, use "
            "'ringwatch export --out DIR'."
        )
    if "read-only" in text or "read only" in text:
        return WarehouseError(
            f"ringwatch query is read-only and cannot change {db_path}: {where}{text.splitlines()[0]}")
    return WarehouseError(f"query failed: {where}{text}")


def _full(exc: duckdb.Error) -> str:
    """DuckDB's whole message: its hints ("Did you mean ...?") and the LINE 1 caret are on the
    lines after the first."""
    return str(exc).strip()


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: str
    last_success_at: datetime | None
    last_success_quarter: str | None
    last_attempt_at: datetime | None
    last_attempt_status: str | None
    last_attempt_error: str | None
    quarters: tuple[str, ...]
    latest_rows: int | None
    holdings: str | None = None  # what the source's own tables hold, in a few words
    last_other_load: str | None = None  # the last file, atlas, wayback or reparse load
    stale: tuple[str, ...] = ()  # why the source looks stale, if it does


def source_status(db_path: Path, *, policy: StalenessPolicy | None = None,
                  now: datetime | None = None) -> list[SourceStatus]:
    con = open_read_only(db_path)
    try:
        return statuses_from(con, policy=policy, now=now)
    finally:
        con.close()


def statuses_from(con: duckdb.DuckDBPyConnection, *, policy: StalenessPolicy | None = None,
                  now: datetime | None = None) -> list[SourceStatus]:
    """The status of every source, on a connection the caller already holds."""
    return [_status_of(con, source, policy or StalenessPolicy(), now or utcnow()) for source in SOURCES]


def _status_of(con: duckdb.DuckDBPyConnection, source: str, policy: StalenessPolicy,
               now: datetime) -> SourceStatus:
    # Backfills, imports and reparses load history; they must not look like a fresh sync.
    success = con.execute(
        "SELECT finished_at, quarter FROM sync_runs WHERE source = ? AND mode = 'live' "
        "AND status IN ('success', 'unchanged') ORDER BY run_id DESC LIMIT 1", [source],
    ).fetchone()
    other = con.execute(
        "SELECT finished_at, mode, quarter FROM sync_runs WHERE source = ? AND mode <> 'live' "
        "AND status IN ('success', 'unchanged') ORDER BY run_id DESC LIMIT 1", [source],
    ).fetchone()
    attempt = con.execute(
        "SELECT started_at, status, error FROM sync_runs WHERE source = ? "
        "ORDER BY run_id DESC LIMIT 1", [source],
    ).fetchone()
    held = con.execute(
        "SELECT quarter, rows_loaded FROM snapshots WHERE source = ? ORDER BY quarter_start", [source],
    ).fetchall()
    return SourceStatus(
        source=source,
        last_success_at=success[0] if success else None,
        last_success_quarter=success[1] if success else None,
        last_attempt_at=attempt[0] if attempt else None,
        last_attempt_status=attempt[1] if attempt else None,
        last_attempt_error=attempt[2] if attempt else None,
        quarters=tuple(q for q, _ in held),
        latest_rows=held[-1][1] if held else None,
        holdings=_holdings(con, source),
        last_other_load=f"{other[0]:%Y-%m-%d %H:%M} UTC, {other[1]} ({other[2]})" if other else None,
        stale=tuple(stale_reasons(con, source, last_live_sync=success[0] if success else None, now=now,
                                  policy=policy)),
    )


def _holdings(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    if source != "transparency":
        return None
    row = con.execute(
        "SELECT (SELECT count(*) FROM transparency_reports), count(*), "
        "count(DISTINCT (period_start, period_end)), min(period_start), max(period_end) "
        "FROM le_request_counts_current").fetchone()
    if not row or not row[0]:
        return "no reports yet"
    return (f"{row[0]} report(s), {row[1]:,} current figures over {row[2]} period(s) "
            f"from {row[3]} to {row[4]}")


def read_changes(db_path: Path, quarter: str | None = None) -> ChangeSummary:
    """What changed in a quarter (default: the latest), from a read-only connection."""
    con = open_read_only(db_path)
    try:
        return summarize_changes(con, quarter)
    finally:
        con.close()
