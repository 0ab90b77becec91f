"""Plan a backfill: which archived capture stands for which past quarter.

For each quarter, the capture nearest the quarter's last day within the window, by the same
quarter rule as live syncs (a capture that the rule gives to another quarter is not used), ties
to the later capture. Pure: captures and quarters in, a plan out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from ringwatch.scrapers.wayback import ArchivedCapture
from ringwatch.warehouse.quarters import Quarter, days_from_end, quarter_for


@dataclass(frozen=True, slots=True)
class PlannedQuarter:
    quarter: str
    capture: ArchivedCapture | None
    reason: str | None = None  # why there is no capture


def quarters_between(since: Quarter, until: Quarter) -> list[Quarter]:
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    found, current = [], since
    while current <= until:
        found.append(current)
        current = current.next()
    return found


def pick(captures: list[ArchivedCapture], quarter: Quarter, *, window_days: int,
         exclude: frozenset[str] = frozenset()) -> ArchivedCapture | None:
    best: ArchivedCapture | None = None
    for capture in captures:
        if capture.timestamp in exclude or quarter_for(capture.moment) != quarter:
            continue
        distance = days_from_end(capture.moment, quarter)
        if distance > window_days:
            continue
        if best is None or (distance, -capture.moment.timestamp()) < (
                days_from_end(best.moment, quarter), -best.moment.timestamp()):
            best = capture
    return best


def plan_quarters(captures: list[ArchivedCapture], quarters: list[Quarter], *,
                  window_days: int) -> list[PlannedQuarter]:
    plan = []
    for quarter in quarters:
        chosen = pick(captures, quarter, window_days=window_days)
        plan.append(PlannedQuarter(str(quarter), chosen,
                                   None if chosen else f"no capture within {window_days} days"))
    return plan


def stored_capture(con: duckdb.DuckDBPyConnection, url: str, *,
                   fetched_after: datetime | None = None) -> tuple[int, str, str | None] | None:
    """(capture_id, sha256, content_type) of a complete capture already made of this exact URL
    (an archive id_ URL is unique per timestamp), so a rerun or a resumed run fetches nothing it
    already has. `fetched_after` bounds how old a cached answer may be (for CDX queries)."""
    row = con.execute(
        "SELECT capture_id, sha256, content_type FROM captures WHERE url = ? AND complete "
        "AND http_status = 200 AND (CAST(? AS TIMESTAMP) IS NULL OR fetched_at >= ?) "
        "ORDER BY capture_id DESC LIMIT 1",
        [url, fetched_after, fetched_after]).fetchone()
    return (int(row[0]), str(row[1]), row[2]) if row else None


def snapshot_capture_sha(con: duckdb.DuckDBPyConnection, source: str, quarter: str) -> str | None:
    row = con.execute(
        "SELECT c.sha256 FROM snapshots s JOIN captures c USING (capture_id) "
        "WHERE s.source = ? AND s.quarter = ?", [source, quarter]).fetchone()
    return str(row[0]) if row else None
