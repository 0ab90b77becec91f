"""Everything the trend report shows, read once from a read-only connection into typed records.

The charts and tables are drawn from these records only, so a number in the report is
always a number some view gives (`queries.sql` reads the documented views).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from ringwatch.scrapers.errors import WarehouseError
from ringwatch.warehouse.changes import ChangeSummary, summarize_changes
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.quarters import Quarter
from ringwatch.warehouse.read import SourceStatus, open_read_only, statuses_from
from ringwatch.warehouse.sql import named_queries
from ringwatch.warehouse.staleness import StalenessPolicy

GROWTH_WINDOW_QUARTERS = 4
GROWTH_TOP = 10
TOP_REQUESTERS = 10


@dataclass(frozen=True, slots=True)
class QuarterCount:
    quarter: str
    agencies: int
    joined: int | None  # None for the first quarter held
    left: int | None
    compared_with: str | None


@dataclass(frozen=True, slots=True)
class ReconstructedCount:
    quarter: str
    joined: int
    cumulative: int


@dataclass(frozen=True, slots=True)
class JoinDates:
    """The latest snapshot's agencies by whether they give an Active Date: the reconstruction
    counts the dated ones; the undated joined on no known date and are in no quarter of it."""

    quarter: str
    dated: int
    undated: int


@dataclass(frozen=True, slots=True)
class TypeCount:
    quarter: str
    agency_type: str
    agencies: int


@dataclass(frozen=True, slots=True)
class StateCount:
    state: str
    agencies: int


@dataclass(frozen=True, slots=True)
class StateGrowth:
    state: str
    agencies_before: int
    agencies_after: int
    growth: int


@dataclass(frozen=True, slots=True)
class PeriodRequests:
    period_label: str
    period_start: date
    period_end: date
    request_type: str
    received: int | None
    full_response: int | None
    partial_response: int | None
    no_response: int | None
    complied_share: float | None


@dataclass(frozen=True, slots=True)
class RequestRange:
    """A figure the report gave only as a range, such as national-security requests."""

    period_start: date
    period_end: date
    request_type: str
    outcome: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class Origin:
    source: str
    origin: str
    detail: str  # what it supplied, in a few words


@dataclass(frozen=True, slots=True)
class VideoPeriod:
    start: date
    end: date
    label: str
    agencies_reporting: int
    requests: int


@dataclass(frozen=True, slots=True)
class VideoRequester:
    name: str
    city: str | None
    state: str | None
    requests: int
    period_label: str
    quarter: str | None = None  # the snapshot the count was taken from


@dataclass(frozen=True, slots=True)
class StateTile:
    state: str
    name: str
    row: int
    col: int
    agencies: int


@dataclass(frozen=True, slots=True)
class ReportData:
    db_path: Path
    made_at: datetime
    statuses: tuple[SourceStatus, ...]
    origins: tuple[Origin, ...]
    quarters_held: tuple[str, ...]
    observed: tuple[QuarterCount, ...]
    reconstructed: tuple[ReconstructedCount, ...]
    by_type: tuple[TypeCount, ...]
    by_state: tuple[StateCount, ...]  # in the latest quarter held, most first
    without_state: int  # agencies of the latest quarter whose address named no state
    growth_baseline: str | None  # the quarter the growth is measured from
    growth: tuple[StateGrowth, ...]
    requests: tuple[PeriodRequests, ...]
    ranges: tuple[RequestRange, ...]
    changes: ChangeSummary  # the latest quarter's joins and departures
    video_periods: tuple[VideoPeriod, ...] = ()
    top_requesters: tuple[VideoRequester, ...] = ()  # in the latest period with counts, most first
    tiles: tuple[StateTile, ...] = ()  # every state and DC, agencies in the latest quarter
    join_dates: JoinDates | None = None  # None when no snapshot is held
    quarter_origins: tuple[tuple[str, str], ...] = ()  # (quarter, origin) per quarter held, oldest first
    video_quarters: tuple[str, ...] = ()  # the snapshots the video-request counts are taken from

    @property
    def latest_quarter(self) -> str | None:
        return self.quarters_held[-1] if self.quarters_held else None

    @property
    def is_empty(self) -> bool:
        return not self.quarters_held and not self.requests and not self.ranges


def read_report_data(db_path: Path, *, now: datetime | None = None,
                     policy: StalenessPolicy | None = None) -> ReportData:
    """Read the report's data; the database is opened read-only and never changed."""
    con = open_read_only(db_path)
    try:
        statuses = tuple(statuses_from(con, policy=policy, now=now))
        return _read(con, db_path, statuses, now or utcnow())
    except duckdb.CatalogException as exc:
        raise WarehouseError(
            f"the database {db_path} lacks a table or view the report reads ({str(exc).splitlines()[0]}); "
            "it was made by an older ringwatch: run any writing command once (e.g. 'ringwatch reparse') "
            "to bring its schema up to date."
        ) from exc
    finally:
        con.close()


def _read(con: duckdb.DuckDBPyConnection, db_path: Path, statuses: tuple[SourceStatus, ...],
          made_at: datetime) -> ReportData:
    q = named_queries("presentation/report/queries.sql")
    held = tuple(r[0] for r in con.execute(q["quarters_held"]).fetchall())
    latest = held[-1] if held else None
    baseline = growth_baseline(held)
    by_state: tuple[StateCount, ...] = ()
    without_state = 0
    growth: tuple[StateGrowth, ...] = ()
    join_dates: JoinDates | None = None
    if latest is not None:
        by_state = tuple(StateCount(*r) for r in con.execute(q["agencies_by_state"], {"quarter": latest}).fetchall())
        without_state = int(_one(con, q["agencies_without_state"], {"quarter": latest}))
        dated, undated = con.execute(q["join_dates"], {"quarter": latest}).fetchone() or (0, 0)
        join_dates = JoinDates(latest, int(dated), int(undated))
    if latest is not None and baseline is not None:
        growth = tuple(StateGrowth(*r) for r in con.execute(
            q["state_growth"], {"latest": latest, "baseline": baseline, "top": GROWTH_TOP}).fetchall())
    origins = tuple(Origin("agency_map", origin, f"{n} quarter{'s' if n != 1 else ''}: {first} to {last}"
                           if n != 1 else f"1 quarter: {first}")
                    for origin, n, first, last in con.execute(q["snapshot_origins"]).fetchall())
    origins += tuple(Origin("transparency", origin, f"{n:,} current figures for periods from {first} to {last}")
                     for origin, n, first, last in con.execute(q["figure_origins"]).fetchall())
    return ReportData(
        db_path=db_path,
        made_at=made_at,
        statuses=statuses,
        origins=origins,
        quarters_held=held,
        observed=tuple(QuarterCount(*r) for r in con.execute(q["agencies_observed"]).fetchall()),
        reconstructed=tuple(ReconstructedCount(*r) for r in con.execute(q["agencies_reconstructed"]).fetchall()),
        by_type=tuple(TypeCount(*r) for r in con.execute(q["agencies_by_type"]).fetchall()),
        by_state=by_state,
        without_state=without_state,
        growth_baseline=baseline,
        growth=growth,
        requests=tuple(_period_requests(r) for r in con.execute(q["requests_by_period"]).fetchall()),
        ranges=tuple(RequestRange(*r) for r in con.execute(q["request_ranges"]).fetchall()),
        changes=summarize_changes(con, latest),
        video_periods=tuple(VideoPeriod(*r) for r in con.execute(q["video_requests_by_period"]).fetchall()),
        top_requesters=tuple(VideoRequester(*r) for r in con.execute(q["top_video_requesters"],
                                                                     {"top": TOP_REQUESTERS}).fetchall()),
        tiles=tuple(StateTile(*r) for r in con.execute(q["state_tiles"], {"quarter": latest}).fetchall()),
        join_dates=join_dates,
        quarter_origins=tuple((quarter, origin) for quarter, origin in con.execute(q["quarter_origins"]).fetchall()),
        video_quarters=tuple(r[0] for r in con.execute(q["video_quarters"]).fetchall()),
    )


def growth_baseline(held: tuple[str, ...]) -> str | None:
    """The quarter state growth is measured from: the latest held at least four quarters
    before the latest one; if none is that old, the oldest held before it (a shorter window,
    which the chart's title names); None with fewer than two quarters held."""
    if len(held) < 2:
        return None
    latest = Quarter.parse(held[-1])
    target = latest
    for _ in range(GROWTH_WINDOW_QUARTERS):
        target = target.previous()
    earlier = [Quarter.parse(h) for h in held[:-1]]
    old_enough = [h for h in earlier if h <= target]
    return str(max(old_enough) if old_enough else min(earlier))


def _period_requests(row: tuple[Any, ...]) -> PeriodRequests:
    label, start, end, request_type, received, full, partial, none, share = row
    return PeriodRequests(label, start, end, request_type, received, full, partial, none,
                          None if share is None else float(share))


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> Any:
    row = con.execute(sql, params).fetchone()
    return row[0] if row else None
