"""A small warehouse for report tests, written through the real loaders: five agency-map
quarters with one missing (2023Q3), joins and departures, a state that shrinks, four origins, logged runs,
per-agency video-request counts in the two archived quarters, and two transparency reports (the 2020 post
and a 2021 half-year page)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ringwatch.scrapers.records import Agency, Capture, Snapshot
from ringwatch.scrapers.transparency import parse_report_page
from ringwatch.warehouse.captures import BlobStore, blob_dir_for, store_capture
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.load import load_agency_snapshot
from ringwatch.warehouse.load_transparency import ParsedReport, load_reports
from ringwatch.warehouse.runs import finish_run, start_run
from tests.conftest import read_fixture

STATES = ("CA", "TX", "FL", "NY", "WA", "OH", "GA")
TYPES = ("police", "police", "sheriff", "fire", "other", "police")
# quarter -> (origin, agency numbers on the map): 2023Q3 is not held.
MEMBERS: dict[str, tuple[str, list[int]]] = {
    "2023Q1": ("wayback", list(range(0, 20))),
    "2023Q2": ("wayback", [i for i in range(0, 26) if i != 3] + [70, 71]),
    "2023Q4": ("atlas", [i for i in range(0, 33) if i not in (3, 7)] + [70, 71]),
    "2024Q1": ("file", [i for i in range(0, 40) if i not in (3, 7, 11)] + [70, 71]),
    "2024Q2": ("live", [i for i in range(0, 52) if i not in (3, 7, 11, 12)] + [60, 70]),
}
LATEST = "2024Q2"
REPORTS = (
    ("https://blog.ring.com/2021/01/20/law-enforcement-information-requests-in-2020", "report_2020_table_rows.html"),
    ("https://ring.com/law-enforcement-information-requests", "requests_page_h1_2021.html"),
)


# The two archived quarters carry the 2020-era per-agency count of video requests.
VIDEO_FIELD = {"2023Q1": "Video Requests (Q1 2023)", "2023Q2": "Video Requests (Q2 2023)"}


def agency(n: int, quarter: str = "") -> Agency:
    # Agency 60 names no state; one of Vermont's two agencies leaves in 2024Q2, so one state shrinks.
    state = None if n == 60 else "VT" if n >= 70 else STATES[(n * 3) % len(STATES)]
    kind = TYPES[n % len(TYPES)]
    return Agency(agency_id=f"a{n:03d}", name=f"Agency {n:03d} {kind.title()}", agency_type=kind, type_basis="name",
                  layer=None, address=f"1 Main St, Town {n}, {state or ''}", city=f"Town {n}", state=state,
                  active_date=date(2019, 1, 1) + timedelta(days=45 * n), latitude=30.0, longitude=-90.0,
                  profile_url=None, position=n,
                  data_fields=((VIDEO_FIELD[quarter], f"{(n * 37) % 500:,}"),) if quarter in VIDEO_FIELD else ())


def observed_at(quarter: str) -> datetime:
    year, number = int(quarter[:4]), int(quarter[-1])
    end_month = 3 * number
    return datetime(year, end_month, 28, 12, tzinfo=UTC)


def build_report_db(path: Path) -> Path:
    con = connect(path)
    store = BlobStore(blob_dir_for(path))
    try:
        for quarter, (origin, members) in MEMBERS.items():
            when = observed_at(quarter)
            mode = "live" if origin == "live" else origin
            run_id = start_run(con, source="agency_map", mode=mode, flow_run_id=None, url="https://example.org/map")
            capture_id = store_capture(con, store, Capture("agency_map", "https://example.org/map", when, 200,
                                                           "application/vnd.google-earth.kml+xml",
                                                           quarter.encode(), origin=origin), run_id=run_id)
            snapshot = Snapshot("agency_map", quarter, when, tuple(agency(n, quarter) for n in members))
            load_agency_snapshot(con, snapshot, capture_id=capture_id, origin=origin, run_id=run_id)
            finish_run(con, run_id, status="success", quarter=quarter, rows_loaded=len(members),
                       capture_id=capture_id)
        run_id = start_run(con, source="transparency", mode="live", flow_run_id=None, url=REPORTS[0][0])
        parsed = []
        for number, (url, fixture) in enumerate(REPORTS):
            body = read_fixture(f"transparency/{fixture}")
            when = datetime(2021, 8, 1 + number, tzinfo=UTC)
            capture_id = store_capture(con, store, Capture("transparency", url, when, 200, "text/html", body),
                                       run_id=run_id)
            parsed.append(ParsedReport(parse_report_page(body, source_url=url), capture_id, when))
        load_reports(con, parsed)
        finish_run(con, run_id, status="success", quarter="2021Q3", rows_loaded=sum(len(p.page.figures)
                                                                                   for p in parsed))
    finally:
        con.close()
    return path
