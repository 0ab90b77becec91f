"""What changed in a quarter: joins, departures, new states, new or restated report periods.

Read from the database only, so `ringwatch changes` and the artifacts of a sync say the same.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from ringwatch.scrapers.quarter import Quarter
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.quarters import quarter_for

_COUNTS = "SELECT agencies, joined, \"left\", compared_with FROM agency_counts_by_quarter WHERE quarter = ?"
_CHANGED = ("SELECT change, name, city, state, agency_type FROM agency_changes WHERE quarter = ? "
            "ORDER BY change, state, name")
_REVIEW = "SELECT count(*) FROM agency_identity_review WHERE quarter = ?"
_STATES_ADDED = """
SELECT DISTINCT state FROM agency_snapshots
WHERE quarter = $quarter AND state IS NOT NULL
  AND state NOT IN (SELECT state FROM agency_snapshots WHERE quarter = $previous AND state IS NOT NULL)
ORDER BY state
"""
_UNREAD_PAGES = """
SELECT url, unplaced, numbers_seen FROM report_pages_read WHERE unplaced > 0 ORDER BY url
"""
_UNREAD_PAGES_OF_RUNS = """
SELECT r.url, l.unplaced, l.numbers_seen
FROM report_ledgers AS l
JOIN captures AS c USING (capture_id)
JOIN transparency_reports AS r ON r.report_id = l.report_id
WHERE l.unplaced > 0
  AND (c.run_id IN (SELECT unnest($runs::BIGINT[]))
       OR l.capture_id IN (SELECT capture_id FROM sync_runs WHERE run_id IN (SELECT unnest($runs::BIGINT[]))))
ORDER BY r.url
"""
_UNPLACED_OF_RUNS = """
SELECT detail FROM quality_warnings
WHERE kind = 'unplaced_number' AND run_id IN (SELECT unnest($runs::BIGINT[]))
ORDER BY run_id, recorded_at
"""
_OBSERVATIONS = """
SELECT f.period_label, f.period_start, f.period_end, f.country, f.request_type, f.outcome, f.value, f.value_low,
       f.value_high, f.observed_at, c.run_id
FROM le_request_counts AS f
LEFT JOIN captures AS c USING (capture_id)
ORDER BY f.observed_at, f.capture_id
"""


@dataclass(frozen=True, slots=True)
class AgencyChange:
    change: str  # joined | left
    name: str
    city: str | None
    state: str | None
    agency_type: str


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    quarter: str | None
    compared_with: str | None = None
    agencies: int | None = None
    joined: int | None = None
    left: int | None = None
    changes: tuple[AgencyChange, ...] = ()
    states_added: tuple[str, ...] = ()
    new_periods: tuple[str, ...] = ()
    restated_periods: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    identity_review: int = 0  # pairs in agency_identity_review for the quarter
    # A transparency load's own summary: the periods it added or restated, and no map quarter.
    reports_only: bool = False
    # Report pages whose latest capture holds numbers the parser could not place: (url,
    # unplaced, numbers seen); with runs given, only the pages those runs parsed.
    unread_pages: tuple[tuple[str, int, int], ...] = ()
    # With runs given: each unplaced number those runs found, as its warning quotes it.
    unplaced_numbers: tuple[str, ...] = ()


def summarize_changes(con: duckdb.DuckDBPyConnection, quarter: str | None = None, *,
                      report_runs: Collection[int] = ()) -> ChangeSummary:
    """The changes of `quarter` (default: the latest agency-map quarter held).

    The transparency periods are those first observed (or restated) in the quarter, or, given
    `report_runs`, those these runs added or restated: a sync tells what it changed, not what
    a map quarter saw.
    """
    if quarter is None:
        row = con.execute(
            "SELECT arg_max(quarter, quarter_start) FROM snapshots WHERE source = 'agency_map'").fetchone()
        quarter = row[0] if row else None
    new, restated = _report_periods(con, quarter, report_runs)
    unread, unplaced = _unread(con, report_runs)
    counts = con.execute(_COUNTS, [quarter]).fetchone() if quarter else None
    if counts is None:
        return ChangeSummary(quarter=None if quarter is None else quarter, new_periods=new,
                             restated_periods=restated,
                             notes=(f"no agency-map snapshot for {quarter}",) if quarter else (),
                             unread_pages=unread, unplaced_numbers=unplaced)
    agencies, joined, left, previous = counts
    changes = tuple(AgencyChange(*r) for r in con.execute(_CHANGED, [quarter]).fetchall())
    states = tuple(r[0] for r in con.execute(_STATES_ADDED, {"quarter": quarter, "previous": previous}).fetchall()) \
        if previous else ()
    review = con.execute(_REVIEW, [quarter]).fetchone()
    return ChangeSummary(quarter=quarter, compared_with=previous, agencies=agencies, joined=joined, left=left,
                         changes=changes, states_added=states, new_periods=new, restated_periods=restated,
                         identity_review=int(review[0]) if review else 0, unread_pages=unread,
                         unplaced_numbers=unplaced)


def summarize_report_changes(con: duckdb.DuckDBPyConnection, report_runs: Collection[int]) -> ChangeSummary:
    """What transparency runs changed, alone: a report load says nothing of any map quarter."""
    new, restated = _report_periods(con, None, report_runs)
    unread, unplaced = _unread(con, report_runs)
    return ChangeSummary(quarter=None, new_periods=new, restated_periods=restated, reports_only=True,
                         unread_pages=unread, unplaced_numbers=unplaced)


def _unread(con: duckdb.DuckDBPyConnection,
            report_runs: Collection[int]) -> tuple[tuple[tuple[str, int, int], ...], tuple[str, ...]]:
    """Pages not read completely (every page held, or those the runs parsed) and, for runs,
    the numbers they could not place."""
    if not report_runs:
        pages = con.execute(_UNREAD_PAGES).fetchall()
        return tuple((str(u), int(n), int(s)) for u, n, s in pages), ()
    runs = {"runs": sorted(report_runs)}
    pages = con.execute(_UNREAD_PAGES_OF_RUNS, runs).fetchall()
    details = con.execute(_UNPLACED_OF_RUNS, runs).fetchall()
    return tuple((str(u), int(n), int(s)) for u, n, s in pages), tuple(str(d[0]) for d in details)


def read_sync_changes(db_path: Path, *, quarter: Quarter | None, report_runs: Collection[int]) -> ChangeSummary:
    """What a sync changed, read-only: the map quarter it loaded (else the latest held) with the
    periods its transparency runs added or restated; the periods alone when no map was loaded."""
    con = connect(db_path, read_only=True)
    try:
        if quarter is None and report_runs:
            return summarize_report_changes(con, report_runs)
        return summarize_changes(con, None if quarter is None else str(quarter), report_runs=report_runs)
    finally:
        con.close()


def _report_periods(con: duckdb.DuckDBPyConnection, quarter: str | None,
                    report_runs: Collection[int] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Periods first observed in the quarter (or by the runs), and periods whose figures changed
    in it (or with them)."""
    if quarter is None and not report_runs:
        return (), ()
    runs = set(report_runs)
    seen: dict[tuple[date, date], str] = {}
    last: dict[tuple[object, ...], tuple[object, ...]] = {}
    new: list[str] = []
    restated: list[str] = []
    for label, start, end, country, rtype, outcome, value, low, high, observed, run_id in con.execute(
            _OBSERVATIONS).fetchall():
        in_quarter = run_id in runs if runs else str(quarter_for(_as_datetime(observed))) == quarter
        period = (start, end)
        if period not in seen:
            seen[period] = label
            if in_quarter and label not in new:
                new.append(label)
        key = (start, end, country, rtype, outcome)
        figure = (value, low, high)
        if key in last and last[key] != figure and in_quarter and label not in restated and label not in new:
            restated.append(label)
        last[key] = figure
    return tuple(new), tuple(restated)


def _as_datetime(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value
