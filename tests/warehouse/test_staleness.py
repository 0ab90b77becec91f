from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from click.testing import CliRunner

from ringwatch.flows.cli import cli
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.staleness import StalenessPolicy, quarters_unchanged, stale_reasons

NOW = datetime(2025, 6, 1, 12)


def live_run(con: duckdb.DuckDBPyConnection, quarter: str, sha: str, finished: datetime,
             source: str = "agency_map", mode: str = "live") -> None:
    capture = con.execute(
        "INSERT INTO captures (source, url, fetched_at, http_status, sha256, size_bytes, origin, complete) "
        "VALUES (?, 'https://x', ?, 200, ?, 1, 'live', true) RETURNING capture_id", [source, finished, sha]).fetchone()
    con.execute("INSERT INTO sync_runs (source, mode, quarter, started_at, finished_at, status, capture_id) "
                "VALUES (?, ?, ?, ?, ?, 'success', ?)", [source, mode, quarter, finished, finished, capture[0]])


def reasons(con: duckdb.DuckDBPyConnection, last: datetime | None, source: str = "agency_map") -> list[str]:
    return stale_reasons(con, source, last_live_sync=last, now=NOW, policy=StalenessPolicy())


def test_an_old_last_live_sync_is_stale(con: duckdb.DuckDBPyConnection) -> None:
    assert reasons(con, NOW - timedelta(days=30)) == []
    assert reasons(con, NOW - timedelta(days=106)) == []  # a quarter (92) and 14 days of grace
    assert reasons(con, NOW - timedelta(days=107)) == [
        "the last live sync is 107 days old, more than a quarter and 14 days"]
    assert reasons(con, None) == ["no live sync has succeeded yet"]


def test_unchanged_content_for_two_quarters_is_stale(con: duckdb.DuckDBPyConnection) -> None:
    live_run(con, "2024Q3", "aaa", NOW - timedelta(days=270))
    live_run(con, "2024Q4", "bbb", NOW - timedelta(days=180))
    live_run(con, "2025Q1", "bbb", NOW - timedelta(days=90))
    assert reasons(con, NOW - timedelta(days=1)) == []  # unchanged for one quarter only
    live_run(con, "2025Q2", "bbb", NOW - timedelta(days=1))
    assert reasons(con, NOW - timedelta(days=1)) == [
        "its content (sha256) has not changed for 2 quarters: the map may no longer be updated"]
    assert reasons(con, NOW - timedelta(days=1), source="transparency") == []  # reports are expected to stay


def test_quarters_unchanged_counts_distinct_quarters() -> None:
    assert quarters_unchanged([]) == 0
    assert quarters_unchanged([("2025Q2", "b"), ("2025Q2", "b"), ("2025Q1", "b"), ("2024Q4", "a")]) == 1
    assert quarters_unchanged([("2025Q2", "b"), ("2025Q1", "a"), ("2024Q4", "b")]) == 0


def test_status_check_exits_1_only_when_stale(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    con = connect(db)
    for source in ("agency_map", "transparency"):
        live_run(con, "2025Q1", f"{source}-sha", utcnow() - timedelta(days=2), source=source)
    con.close()
    fresh = CliRunner().invoke(cli, ["status", "--check", "--db", str(db)])
    assert fresh.exit_code == 0, fresh.output
    assert "STALE" not in fresh.output
    con = connect(db)
    con.execute("UPDATE sync_runs SET finished_at = finished_at - INTERVAL 200 DAY WHERE source = 'transparency'")
    con.close()
    stale = CliRunner().invoke(cli, ["status", "--check", "--db", str(db)])
    assert stale.exit_code == 1
    assert "STALE:          the last live sync is 202 days old" in stale.output
    assert CliRunner().invoke(cli, ["status", "--db", str(db)]).exit_code == 0  # without --check
