"""Video requests read from the map's Data fields, states without agencies, the export, and
a query that reads the warehouse and nothing else."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.errors import WarehouseError
from ringwatch.scrapers.metric_periods import counts_requests, period_of_field
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.presentation.export import export_warehouse
from ringwatch.warehouse.quality import unread_counts
from ringwatch.warehouse.read import run_query
from tests.warehouse.test_identity_eras import load_source


@pytest.mark.parametrize(("name", "label", "start", "end"), [
    ("Video Requests (Q3 2020)", "Q3 2020", date(2020, 7, 1), date(2020, 9, 30)),
    ("Video Requests 2020 Q4", "2020 Q4", date(2020, 10, 1), date(2020, 12, 31)),
    ("Requests Jul-Sep 2020", "Jul-Sep 2020", date(2020, 7, 1), date(2020, 9, 30)),
    ("Video requests, H2 2020", "H2 2020", date(2020, 7, 1), date(2020, 12, 31)),
    ("Video Requests 2019", "2019", date(2019, 1, 1), date(2019, 12, 31)),
    ("Video Requests (January 1 - March 31, 2021)", "January 1 - March 31, 2021", date(2021, 1, 1),
     date(2021, 3, 31)),
])
def test_absolute_periods_in_field_names(name: str, label: str, start: date, end: date) -> None:
    period = period_of_field(name)
    assert (period.label, period.start, period.end, period.days, period.months) == (label, start, end, None, None)
    assert counts_requests(name)


@pytest.mark.parametrize(("name", "days", "months"), [
    ("Video requests (past 90 days)", 90, None), ("Requests, last 2 weeks", 14, None),
    ("Video requests in the previous 3 months", None, 3), ("Requests past quarter", None, 3),
])
def test_relative_periods_in_field_names(name: str, days: int | None, months: int | None) -> None:
    period = period_of_field(name)
    assert (period.start, period.end, period.days, period.months) == (None, None, days, months)


def test_fields_that_are_not_request_counts() -> None:
    assert not counts_requests("Active Since") and not counts_requests("AOSNUMBER")
    assert period_of_field("Video Requests").label is None


def kml(placemarks: list[tuple[str, str, list[tuple[str, str]]]]) -> bytes:
    marks = "".join(
        f"<Placemark><name>{name}</name><address>{address}</address><ExtendedData>"
        + "".join(f'<Data name="{k}"><value>{v}</value></Data>' for k, v in fields)
        + "</ExtendedData></Placemark>" for name, address, fields in placemarks)
    return f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{marks}</Document></kml>'.encode()


H2_2020 = kml([
    ("Milwaukee Police Department", "Milwaukee, WI", [("Video Requests (H2 2020)", "431")]),
    ("Greenfield Police Department", "Greenfield, WI", [("Video Requests (H2 2020)", "37")]),
    ("Houston Police Department", "Houston, Texas", [("Video Requests (H2 2020)", "212")]),
    ("Dallas Police Department", "Dallas, TX", [("Video Requests (H2 2020)", "1,204")]),
    ("Miami Police Department", "Miami, FL", [("Video Requests (H2 2020)", "0"), ("Active Since", "2019")]),
    ("Anchorage Fire Department", "Anchorage, AK", [("Video Requests (past 90 days)", "5")]),
    ("Cary Police Department", "Cary, NC", [("Video Requests", "12")]),
])


@pytest.fixture
def video_db(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    load_source(con, ("h2.kml", "2020Q4", datetime(2020, 12, 31, tzinfo=UTC), "wayback"), body=H2_2020)
    return con


def test_each_count_gets_its_period(video_db: duckdb.DuckDBPyConnection) -> None:
    rows = dict((r[0], r[1:]) for r in video_db.execute(
        "SELECT name, period_label, period_start, period_end, requests FROM agency_video_requests").fetchall())
    assert rows["Milwaukee Police Department"] == ("H2 2020", date(2020, 7, 1), date(2020, 12, 31), 431)
    assert rows["Dallas Police Department"] == ("H2 2020", date(2020, 7, 1), date(2020, 12, 31), 1204)
    assert rows["Anchorage Fire Department"] == ("past 90 days", date(2020, 10, 3), date(2020, 12, 31), 5)
    assert rows["Cary Police Department"] == ("2020Q4", date(2020, 10, 1), date(2020, 12, 31), 12)
    assert "Miami Police Department" in rows and rows["Miami Police Department"][3] == 0  # a zero the map wrote


ODD_COUNTS = kml([
    ("Dallas Police Department", "Dallas, TX", [("Video Requests (H2 2020)", "1.204"), ("Active Since", "about 2019")]),
    ("Houston Police Department", "Houston, TX", [("Video Requests (H2 2020)", "~1,200")]),
    ("Austin Police Department", "Austin, TX", [("Video Requests (H2 2020)", "12 (est.)")]),
    ("Plano Police Department", "Plano, TX", [("Video Requests (H2 2020)", "-3")]),
    ("Waco Police Department", "Waco, TX", [("Video Requests (H2 2020)", "N/A")]),
    ("Frisco Police Department", "Frisco, TX", [("Video Requests (H2 2020)", "1,204")]),
    ("Allen Police Department", "Allen, TX", [("Video Requests (H2 2020)", "0")]),
])


def test_a_count_the_map_did_not_write_as_a_whole_count_is_warned_about_and_not_counted(
        con: duckdb.DuckDBPyConnection) -> None:
    """'1.204' is not 1 request (it read as 1 once, without a word), nor are '~1,200' and '12 (est.)'
    12 and 1,200: they stay text, uncounted, and one warning names the field and quotes them."""
    result = load_source(con, ("odd.kml", "2020Q4", datetime(2020, 12, 31, tzinfo=UTC), "wayback"), body=ODD_COUNTS)
    counted = dict(con.execute("SELECT name, requests FROM agency_video_requests").fetchall())
    assert counted == {"Frisco Police Department": 1204, "Allen Police Department": 0}
    assert result.status == "loaded"
    (warning,) = unread_counts(parse_agency_map(ODD_COUNTS, source_url="odd.kml"), url="odd.kml")
    assert (warning.kind, warning.subject) == ("count_unread", "Video Requests (H2 2020)")
    assert "holds 5 value(s) that are not a whole count (e.g. '1.204', '~1,200', '12 (est.)')" in warning.detail


def test_the_top_requester_and_state_sums_equal_independent_sql(video_db: duckdb.DuckDBPyConnection) -> None:
    top = video_db.execute("SELECT name, requests FROM agency_video_requests WHERE period_label = 'H2 2020' "
                           "ORDER BY requests DESC LIMIT 1").fetchone()
    independent = video_db.execute(
        "SELECT s.name, f.value_number::BIGINT FROM agency_snapshot_fields f JOIN agency_snapshots s "
        "USING (quarter, agency_id) WHERE f.field_name = 'Video Requests (H2 2020)' "
        "ORDER BY f.value_number DESC LIMIT 1").fetchone()
    assert top == independent == ("Dallas Police Department", 1204)
    states = dict(video_db.execute("SELECT state, requests FROM video_requests_by_state "
                                   "WHERE period_label = 'H2 2020'").fetchall())
    by_hand = dict(video_db.execute(
        "SELECT s.state, sum(f.value_number)::BIGINT FROM agency_snapshot_fields f JOIN agency_snapshots s "
        "USING (quarter, agency_id) WHERE f.field_name = 'Video Requests (H2 2020)' GROUP BY 1").fetchall())
    assert states == by_hand == {"WI": 468, "TX": 1416, "FL": 0}
    period = video_db.execute("SELECT agencies_reporting, requests FROM video_requests_by_period "
                              "WHERE period_label = 'H2 2020'").fetchone()
    assert period == (5, 431 + 37 + 212 + 1204 + 0)


def test_a_count_seen_again_in_a_later_snapshot_is_counted_once(video_db: duckdb.DuckDBPyConnection) -> None:
    load_source(video_db, ("again.kml", "2021Q1", datetime(2021, 3, 31, tzinfo=UTC), "wayback"), body=H2_2020)
    period = video_db.execute("SELECT agencies_reporting, requests FROM video_requests_by_period "
                              "WHERE period_label = 'H2 2020'").fetchone()
    assert period == (5, 1884)


def test_states_without_agencies(video_db: duckdb.DuckDBPyConnection) -> None:
    missing = [r[0] for r in video_db.execute(
        "SELECT state FROM states_without_agencies WHERE quarter = '2020Q4'").fetchall()]
    present = {"WI", "TX", "FL", "AK", "NC"}
    all_states = [r[0] for r in video_db.execute("SELECT usps FROM us_states ORDER BY usps").fetchall()]
    assert len(all_states) == 51 and "DC" in all_states and "PR" not in all_states
    assert missing == [s for s in all_states if s not in present]
    assert video_db.execute("SELECT state_name FROM states_without_agencies WHERE state = 'MT'").fetchone() == (
        "Montana",)


def test_the_export_round_trips_every_table_and_view(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    con = connect(db)
    load_source(con, ("h2.kml", "2020Q4", datetime(2020, 12, 31, tzinfo=UTC), "wayback"), body=H2_2020)
    con.close()
    result = export_warehouse(db, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    check = duckdb.connect(str(db), read_only=True)
    files = duckdb.connect()
    names = {r[0] for r in check.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal UNION SELECT view_name FROM duckdb_views() "
        "WHERE NOT internal AND schema_name = 'main'").fetchall()}
    assert {f["name"] for f in manifest["files"]} == names == {f.name for f in result.files}
    for entry in manifest["files"]:
        path = tmp_path / "out" / entry["file"]
        count = check.execute(f'SELECT count(*) FROM "{entry["name"]}"').fetchone()
        exported = files.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()
        assert count == exported == (entry["rows"],), entry["name"]
    hash_sql = "SELECT hash(list(t ORDER BY t)) FROM (SELECT * FROM {} ) AS t"
    in_db = check.execute(hash_sql.format("agency_observations")).fetchone()
    in_file = files.execute(hash_sql.format(f"read_parquet('{tmp_path / 'out' / 'agency_observations.parquet'}')")
                            ).fetchone()
    assert in_db == in_file
    columns = next(f for f in manifest["files"] if f["name"] == "agency_video_requests")["columns"]
    assert columns[-1] == {"name": "requests", "type": "BIGINT",
                           "comment": "Requests the agency made in the period, as the map gave them."}
    assert manifest["quarters_held"] == ["2020Q4"] and manifest["schema_version"] >= 5
    check.close()
    export_warehouse(db, tmp_path / "out", fmt="csv")  # replaces the earlier export whole
    assert not list((tmp_path / "out").glob("*.parquet")) and (tmp_path / "out" / "agencies.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


@pytest.mark.parametrize("sql", [
    "COPY (SELECT * FROM agencies) TO '{tmp}/leak.csv'",
    "SELECT * FROM read_csv('{tmp}/other.csv')",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
])
def test_query_reads_the_warehouse_and_nothing_else(tmp_path: Path, sql: str) -> None:
    db = tmp_path / "w.duckdb"
    connect(db).close()
    (tmp_path / "other.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(WarehouseError, match="reads the warehouse and nothing else.*ringwatch export"):
        run_query(db, sql.format(tmp=tmp_path))
    assert not (tmp_path / "leak.csv").exists()
    assert run_query(db, "SELECT count(*) AS n FROM us_states") == (["n"], [(51,)])
