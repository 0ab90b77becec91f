"""What changed in a quarter: joins, departures, new states, new or restated report periods.

Read from the database only, so `ringwatch changes` and the artifacts of a sync say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

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
_OBSERVATIONS = """
SELECT period_label, period_start, period_end, country, request_type, outcome, value, value_low, value_high,
       observed_at
FROM le_request_counts
ORDER BY observed_at, capture_id
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


def summarize_changes(con: duckdb.DuckDBPyConnection, quarter: str | None = None) -> ChangeSummary:
    """The changes of `quarter` (default: the latest agency-map quarter held)."""
    if quarter is None:
        row = con.execute("SELECT max(quarter) FROM snapshots WHERE source = 'agency_map'").fetchone()
        quarter = row[0] if row else None
    new, restated = _report_periods(con, quarter)
    counts = con.execute(_COUNTS, [quarter]).fetchone() if quarter else None
    if counts is None:
        return ChangeSummary(quarter=None if quarter is None else quarter, new_periods=new,
                             restated_periods=restated,
                             notes=(f"no agency-map snapshot for {quarter}",) if quarter else ())
    agencies, joined, left, previous = counts
    changes = tuple(AgencyChange(*r) for r in con.execute(_CHANGED, [quarter]).fetchall())
    states = tuple(r[0] for r in con.execute(_STATES_ADDED, {"quarter": quarter, "previous": previous}).fetchall()) \
        if previous else ()
    review = con.execute(_REVIEW, [quarter]).fetchone()
    return ChangeSummary(quarter=quarter, compared_with=previous, agencies=agencies, joined=joined, left=left,
                         changes=changes, states_added=states, new_periods=new, restated_periods=restated,
                         identity_review=int(review[0]) if review else 0)


def _report_periods(con: duckdb.DuckDBPyConnection, quarter: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Periods first observed in the quarter, and periods whose figures changed in it."""
    if quarter is None:
        return (), ()
    seen: dict[tuple[date, date], str] = {}
    last: dict[tuple[object, ...], tuple[object, ...]] = {}
    new: list[str] = []
    restated: list[str] = []
    for label, start, end, country, rtype, outcome, value, low, high, observed in con.execute(_OBSERVATIONS).fetchall():
        in_quarter = str(quarter_for(_as_datetime(observed))) == quarter
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
