from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.records import Agency, Snapshot
from ringwatch.warehouse.db import connect, migrate
from ringwatch.warehouse.load import load_agency_snapshot, reference_count
from ringwatch.warehouse.sql import SqlFile, sql_files
from tests.conftest import fresh_warehouse, read_fixture

OBSERVED = datetime(2024, 1, 15, 12, tzinfo=UTC)


def uid(label: str) -> str:
    """A Ring-profile-shaped uuid for a test label."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, label))


def agency(label: str, *, name: str | None = None, state: str = "CA",
           active: date | None = date(2020, 1, 2), position: int = 0,
           data_fields: tuple[tuple[str, str], ...] = ()) -> Agency:
    return Agency(agency_id=uid(label), name=name or f"{label} Police Department",
                  agency_type="police", type_basis="name", layer="L", address=f"X, {state}",
                  city="X", state=state, active_date=active, latitude=1.0, longitude=2.0,
                  profile_url=f"https://agency.ring.com/agencies/{uid(label)}", data_fields=data_fields,
                  position=position)


def snapshot(quarter: str, ids: list[str], observed: datetime = OBSERVED) -> Snapshot:
    return Snapshot(source="agency_map", quarter=quarter, observed_at=observed,
                    agencies=tuple(agency(i, position=n) for n, i in enumerate(ids)))


def load(con: duckdb.DuckDBPyConnection, snap: Snapshot, capture_id: int = 1) -> str:
    return load_agency_snapshot(con, snap, capture_id=capture_id, origin="live", run_id=1).status


def dump(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    tables = ["agency_snapshots", "agency_snapshot_fields", "agencies", "snapshots"]
    return {t: con.execute(f"SELECT * EXCLUDE (loaded_at) FROM {t} ORDER BY ALL" if t == "snapshots"
                           else f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def test_migrations_are_recorded_and_not_reapplied(con: duckdb.DuckDBPyConnection) -> None:
    versions = con.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert versions == [(1, "001_agency_map.sql"), (2, "002_transparency.sql"), (3, "003_agency_identity.sql"),
                        (4, "004_run_process.sql"), (5, "005_video_requests_and_states.sql"),
                        (6, "006_removed_loads.sql"), (7, "007_report_ledgers.sql"),
                        (8, "008_quarter_dates.sql")]
    assert migrate(con) == []


def test_every_table_view_and_column_has_a_comment(con: duckdb.DuckDBPyConnection) -> None:
    missing_tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND comment IS NULL").fetchall()
    missing_views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' "
        "AND comment IS NULL").fetchall()
    missing_columns = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal "
        "AND schema_name = 'main' AND comment IS NULL").fetchall()
    assert (missing_tables, missing_views, missing_columns) == ([], [], [])


def test_every_view_file_creates_its_view(con: duckdb.DuckDBPyConnection) -> None:
    views = {r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall()}
    files = {f.name.removesuffix(".sql") for f in sql_files("views")}
    assert files == views
    assert {"agency_counts_by_quarter", "agency_counts_by_state", "agency_joins_by_quarter"} <= views


def test_loading_the_same_snapshot_twice_leaves_identical_tables(con: duckdb.DuckDBPyConnection) -> None:
    agencies = parse_agency_map(read_fixture("agency_map/active_agency_map_2024-01-15.kml"), source_url="u")
    snap = Snapshot("agency_map", "2023Q4", OBSERVED, tuple(agencies))
    load(con, snap)
    first = dump(con)
    load(con, snap)
    assert dump(con) == first
    assert len(first["agency_snapshots"]) == 8
    assert len(first["agency_snapshot_fields"]) == 1


def test_a_nearer_observation_replaces_a_farther_one_never_the_reverse(con: duckdb.DuckDBPyConnection) -> None:
    far = datetime(2025, 5, 10, tzinfo=UTC)
    near = datetime(2025, 4, 1, 6, tzinfo=UTC)
    assert load(con, snapshot("2025Q1", ["a", "b"], far)) == "loaded"
    assert load(con, snapshot("2025Q1", ["a", "b", "c"], near)) == "loaded"
    assert load(con, snapshot("2025Q1", ["a"], far)) == "kept_existing"
    rows = con.execute("SELECT count(*), max(observed_at) FROM agency_snapshots").fetchone()
    assert rows == (3, near.replace(tzinfo=None))
    assert con.execute("SELECT count(*) FROM snapshots").fetchone() == (1,)


def test_views_count_joins_and_departures(con: duckdb.DuckDBPyConnection) -> None:
    load(con, snapshot("2024Q1", ["a", "b", "c"]))
    load(con, snapshot("2024Q2", ["a", "b", "d", "e"]))
    load(con, snapshot("2024Q4", ["a", "e"]))  # 2024Q3 missing: compared with Q2
    rows = con.execute("SELECT * FROM agency_counts_by_quarter").fetchall()
    assert rows == [("2024Q1", 3, None, None, None), ("2024Q2", 4, 2, 1, "2024Q1"),
                    ("2024Q4", 2, 0, 2, "2024Q2")]
    changes = con.execute("SELECT quarter, change, agency_id FROM agency_changes").fetchall()
    assert changes == [("2024Q2", "joined", uid("d")), ("2024Q2", "joined", uid("e")), ("2024Q2", "left", uid("c")),
                       ("2024Q4", "left", uid("b")), ("2024Q4", "left", uid("d"))]
    agencies = dict(con.execute(
        "SELECT agency_id, first_seen_quarter || '-' || last_seen_quarter FROM agencies").fetchall())
    assert agencies == {uid("a"): "2024Q1-2024Q4", uid("b"): "2024Q1-2024Q2", uid("c"): "2024Q1-2024Q1",
                        uid("d"): "2024Q2-2024Q2", uid("e"): "2024Q2-2024Q4"}


def test_counts_by_state(con: duckdb.DuckDBPyConnection) -> None:
    snap = Snapshot("agency_map", "2024Q1", OBSERVED, (
        agency("a", state="CA"), agency("b", state="CA", position=1), agency("c", state="TX", position=2)))
    load(con, snap)
    assert con.execute("SELECT * FROM agency_counts_by_state").fetchall() == [
        ("2024Q1", "CA", 2), ("2024Q1", "TX", 1)]


def test_joins_are_reconstructed_from_active_dates_of_the_latest_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    load(con, Snapshot("agency_map", "2023Q4", OBSERVED, (agency("old", active=date(2018, 1, 5)),)))
    load(con, Snapshot("agency_map", "2024Q1", OBSERVED, (
        agency("a", active=date(2019, 2, 1)), agency("b", active=date(2019, 3, 31), position=1),
        agency("c", active=date(2019, 10, 1), position=2), agency("d", active=None, position=3))))
    assert con.execute("SELECT * FROM agency_joins_by_quarter").fetchall() == [
        ("2019Q1", 2, 2), ("2019Q2", 0, 2), ("2019Q3", 0, 2), ("2019Q4", 1, 3)]


def test_metrics_view_holds_numeric_fields_only(con: duckdb.DuckDBPyConnection) -> None:
    load(con, Snapshot("agency_map", "2020Q2", OBSERVED, (
        agency("a", data_fields=(("Video Requests Q2 2020", "1,204"), ("Notes", "x"))),)))
    assert con.execute("SELECT metric, value FROM agency_metrics").fetchall() == [
        ("Video Requests Q2 2020", 1204.0)]
    assert con.execute("SELECT value_text FROM agency_snapshot_fields ORDER BY field_name").fetchall() == [
        ("x",), ("1,204",)]


def test_reference_count_is_the_same_quarter_else_the_latest_before(con: duckdb.DuckDBPyConnection) -> None:
    assert reference_count(con, "agency_map", "2024Q2") == (None, None)
    load(con, snapshot("2024Q1", ["a", "b", "c"]))
    assert reference_count(con, "agency_map", "2024Q2") == (3, "2024Q1")
    load(con, snapshot("2024Q2", ["a"]))
    assert reference_count(con, "agency_map", "2024Q2") == (1, "2024Q2")
    assert reference_count(con, "agency_map", "2023Q4") == (None, None)


def test_a_failing_load_leaves_nothing_behind(con: duckdb.DuckDBPyConnection) -> None:
    load(con, snapshot("2024Q1", ["a", "b"]))
    before = dump(con)
    broken = Snapshot("agency_map", "2024Q1", OBSERVED,
                      (replace(agency("a"), agency_type="not-a-type"),))  # violates a CHECK
    with pytest.raises(duckdb.ConstraintException):
        load(con, broken)
    assert dump(con) == before


def test_column_checks_return_no_rows(con: duckdb.DuckDBPyConnection) -> None:
    load(con, snapshot("2024Q1", ["a", "b"]))
    load(con, snapshot("2024Q2", ["b", "c"]))
    for check in sql_files("checks"):
        assert con.execute(check.text).fetchall() == [], check.name


def test_column_checks_can_fail(con: duckdb.DuckDBPyConnection) -> None:
    load(con, snapshot("2024Q1", ["a", "b"]))
    con.execute("UPDATE agency_observations SET represents_agency = NULL WHERE agency_id = ?", [uid("a")])
    failing = [c.name for c in sql_files("checks") if con.execute(c.text).fetchall()]
    assert failing == ["agency_observations_resolved.sql", "agency_snapshots_have_a_snapshot_row.sql"]


# The catalog of a warehouse, as far as the tests can see it (the times of migrations aside).
CATALOG = [
    "SELECT table_name, comment, sql FROM duckdb_tables() WHERE database_name = current_database() ORDER BY ALL",
    "SELECT table_name, column_name, column_index, data_type, column_default, is_nullable, comment "
    "FROM duckdb_columns() WHERE database_name = current_database() ORDER BY ALL",
    "SELECT table_name, constraint_type, constraint_text, constraint_column_names FROM duckdb_constraints() "
    "WHERE database_name = current_database() ORDER BY ALL",
    "SELECT view_name, comment, sql FROM duckdb_views() WHERE database_name = current_database() AND NOT internal "
    "ORDER BY ALL",
    "SELECT sequence_name, start_value, increment_by, last_value FROM duckdb_sequences() "
    "WHERE database_name = current_database() ORDER BY ALL",
    "SELECT index_name, table_name, sql FROM duckdb_indexes() WHERE database_name = current_database() ORDER BY ALL",
    "SELECT type_name, logical_type, labels FROM duckdb_types() WHERE database_name = current_database() "
    "AND NOT internal ORDER BY ALL",
    "SELECT function_name, function_type, macro_definition FROM duckdb_functions() "
    "WHERE database_name = current_database() AND NOT internal ORDER BY ALL",
    "SELECT version, name, sha256 FROM schema_migrations ORDER BY ALL",
    "SELECT sha256 FROM schema_views",
]


def test_the_con_fixture_is_the_warehouse_connect_makes(con: duckdb.DuckDBPyConnection) -> None:
    """`con` is a copy of a template migrated once per session (tests/conftest.py), not a fresh
    migration: the copy has the catalog and the rows of `connect(":memory:")`."""
    fresh = connect(":memory:")
    for sql in CATALOG:
        assert con.execute(sql).fetchall() == fresh.execute(sql).fetchall(), sql
    tables = [t for (t,) in fresh.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = "
                                          "current_database() AND table_name NOT LIKE 'schema_%'").fetchall()]
    assert "us_states" in tables
    for table in tables:
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert con.execute(sql).fetchall() == fresh.execute(sql).fetchall(), table
    fresh.close()


names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, layer=st.none() | names, lat=st.none() | st.floats(-90, 90),
       active=st.none() | st.dates(date(2018, 1, 1), date(2030, 1, 1)),
       field_value=names)
def test_records_survive_a_load_select_round_trip(warehouse_template: Path, name: str, layer: str | None,
                                                  lat: float | None, active: date | None, field_value: str) -> None:
    con = fresh_warehouse(warehouse_template)  # connect(":memory:"), without migrating 40 times
    record = replace(agency("x"), name=name, layer=layer, latitude=lat, active_date=active,
                     data_fields=(("F", field_value),))
    load(con, Snapshot("agency_map", "2024Q1", OBSERVED, (record,)))
    row = con.execute("SELECT name, layer, latitude, active_date FROM agency_snapshots").fetchone()
    assert row == (name, layer, lat, active)
    assert con.execute("SELECT value_text FROM agency_snapshot_fields").fetchone() == (field_value,)
    con.close()


def test_an_edited_migration_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ringwatch.scrapers.errors import WarehouseError
    from ringwatch.warehouse import db

    path = tmp_path / "r.duckdb"
    connect(path).close()
    original = db.sql_files

    def edited(folder: str) -> list[SqlFile]:
        files = original(folder)
        if folder == "migrations":
            files[0] = SqlFile(files[0].name, files[0].text + "\n-- edited")
        return files

    monkeypatch.setattr(db, "sql_files", edited)
    with pytest.raises(WarehouseError, match="changed after it was applied"):
        connect(path)


def test_views_are_recreated_when_a_view_file_changes_and_only_then(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from ringwatch.warehouse import db

    path = tmp_path / "v.duckdb"
    connect(path).close()
    original = db.sql_files

    def watched(folder: str) -> list[SqlFile]:
        files = original(folder)
        if folder == "views":
            files = [SqlFile(f.name, f.text.replace("Each name an agency was listed under", "Every name"))
                     if f.name == "agency_name_history.sql" else f for f in files]
        return files

    def comment() -> str:
        con = duckdb.connect(str(path), read_only=True)
        row = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'agency_name_history'").fetchone()
        con.close()
        return str(row[0]) if row else ""

    assert comment().startswith("Each name an agency")
    monkeypatch.setattr(db, "sql_files", watched)
    connect(path).close()  # a view file changed: recreated
    assert comment().startswith("Every name")
    con = connect(path)  # nothing changed since: the views stay as they are
    con.execute("COMMENT ON VIEW agency_name_history IS 'left alone'")
    con.close()
    connect(path).close()
    assert comment() == "left alone"
