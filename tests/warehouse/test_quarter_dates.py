"""A held quarter's first and last days as DATE columns (snapshots.quarter_start, quarter_end;
migration 8): old databases get them, every load writes them, they cannot disagree with the
label, and the views and read-side queries order and compare quarters by them, not by the label."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from ringwatch.scrapers.sources import Source
from ringwatch.warehouse import db
from ringwatch.warehouse.captures import snapshot_captures
from ringwatch.warehouse.changes import summarize_changes
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.load import reference_count
from ringwatch.warehouse.quarters import Quarter
from ringwatch.warehouse.read import statuses_from
from ringwatch.warehouse.sql import SqlFile, named_queries, sql_files
from tests.old_database import make_old_database
from tests.warehouse.test_identity_eras import ATLAS_2020, IDENTITY, MAP_2020, MAP_2021, load_source
from tests.warehouse.test_video_requests import kml

WAREHOUSE = Path(__file__).resolve().parents[2] / "warehouse"
DATES = "SELECT quarter, quarter_start, quarter_end FROM snapshots ORDER BY quarter"


def dates_of(*labels: str) -> list[tuple[str, date, date]]:
    """What the two columns must hold for these quarters, by the Quarter type's own arithmetic."""
    return [(q, Quarter.parse(q).first_day, Quarter.parse(q).last_day) for q in sorted(labels)]


def load_names(con: duckdb.DuckDBPyConnection, quarter: str, names: list[str],
               fields: dict[str, list[tuple[str, str]]] | None = None) -> None:
    """A snapshot of police departments in Wisconsin towns (the first word of each name), through
    the real parse, gate and load."""
    body = kml([(f"{n} Police Department", f"{n.split()[0]}, WI", (fields or {}).get(n, [])) for n in names])
    observed = datetime.combine(Quarter.parse(quarter).last_day, datetime.min.time(), tzinfo=UTC)
    load_source(con, (f"{quarter}.kml", quarter, observed, "file"), body=body)


def comments(con: duckdb.DuckDBPyConnection) -> list[tuple[str | None, str | None]]:
    table = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'snapshots'").fetchall()
    columns = con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'snapshots' "
                          "ORDER BY column_index").fetchall()
    return [(None, table[0][0]), *columns]


def open_at_version(path: Path, version: int, monkeypatch: pytest.MonkeyPatch) -> duckdb.DuckDBPyConnection:
    """The database as this code opens it with only the migrations up to `version` and no views
    (today's views read columns an older schema lacks; every view is created again on upgrade)."""
    original = db.sql_files

    def up_to(folder: str) -> list[SqlFile]:
        files = original(folder)
        if folder == "migrations":
            return [f for f in files if int(f.name.split("_", 1)[0]) <= version]
        return [] if folder == "views" else files

    with monkeypatch.context() as patch:
        patch.setattr(db, "sql_files", up_to)
        return connect(path)


# -- (a) a database of the previous version gets its dates -------------------------------------


def test_a_version_7_database_gets_the_dates_of_every_quarter_held(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v7.duckdb"
    old = open_at_version(path, 7, monkeypatch)
    assert old.execute("SELECT max(version) FROM schema_migrations").fetchone() == (7,)
    labels = ["2019Q1", "2019Q2", "2019Q3", "2019Q4", "2024Q1", "2000Q4"]  # every quarter number; a leap Q1
    for n, label in enumerate(labels, 1):
        at = datetime(2025, 1, n, 12)
        old.execute("INSERT INTO snapshots VALUES ('agency_map', ?, ?, 'file', ?, 0, ?, ?)", [label, at, n, n, at])
    rest = "SELECT source, quarter, observed_at, origin, capture_id, rows_loaded, run_id, loaded_at FROM snapshots"
    before = old.execute(rest + " ORDER BY quarter").fetchall()
    assert "quarter_start" not in {r[0] for r in old.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'snapshots'").fetchall()}
    old.close()

    con = connect(path)  # applies migration 8
    fresh = connect(":memory:")
    try:
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (8,)
        assert con.execute(DATES).fetchall() == dates_of(*labels)
        assert con.execute(DATES).fetchall()[:2] == [("2000Q4", date(2000, 10, 1), date(2000, 12, 31)),
                                                     ("2019Q1", date(2019, 1, 1), date(2019, 3, 31))]
        assert con.execute(rest + " ORDER BY quarter").fetchall() == before  # nothing else changed
        nullable = con.execute("SELECT column_name, is_nullable FROM information_schema.columns "
                               "WHERE table_name = 'snapshots' AND column_name LIKE 'quarter%' "
                               "ORDER BY ordinal_position").fetchall()
        assert nullable == [("quarter", "NO"), ("quarter_start", "NO"), ("quarter_end", "NO")]
        # (d) the rebuilt table keeps every comment, and the new columns have theirs
        assert comments(con) == comments(fresh)
        assert all(comment for _, comment in comments(con))
        # the views, created again on upgrade, read the dates
        assert con.execute("SELECT quarter, compared_with FROM agency_counts_by_quarter").fetchall() == [
            ("2000Q4", None), ("2019Q1", "2000Q4"), ("2019Q2", "2019Q1"), ("2019Q3", "2019Q2"),
            ("2019Q4", "2019Q3"), ("2024Q1", "2019Q4")]
    finally:
        con.close()
        fresh.close()


def test_a_database_from_before_identity_heals_and_gets_its_dates(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Migrations 3 to 8 in one opening: the heal of migration 3 runs before the dates exist."""
    sources = [MAP_2020, ATLAS_2020, MAP_2021]
    path = tmp_path / "v2.duckdb"
    make_old_database(path, [(IDENTITY / s[0], s[1], s[2], s[3]) for s in sources], monkeypatch)
    healed = connect(path)
    fresh = connect(":memory:")
    for source in reversed(sources):  # loaded newest first: the dates, not the loading order, decide
        load_source(fresh, source)
    try:
        assert healed.execute(DATES).fetchall() == dates_of("2020Q2", "2020Q3", "2021Q4")
        assert fresh.execute(DATES).fetchall() == healed.execute(DATES).fetchall()
        for view in ("agency_counts_by_quarter", "agency_changes", "agency_name_history", "states_without_agencies"):
            assert healed.execute(f"SELECT * FROM {view}").fetchall() == \
                fresh.execute(f"SELECT * FROM {view}").fetchall(), view
        assert healed.execute("SELECT * FROM agencies ORDER BY ALL").fetchall() == \
            fresh.execute("SELECT * FROM agencies ORDER BY ALL").fetchall()
    finally:
        healed.close()
        fresh.close()


# -- (b) new loads fill them, and they cannot disagree with the label ---------------------------


def test_every_load_writes_the_dates_of_its_quarter(con: duckdb.DuckDBPyConnection) -> None:
    labels = ["2023Q4", "2024Q1", "2024Q2", "2024Q3"]
    for label in labels:
        load_names(con, label, ["Ames", "Boone"])
    assert con.execute(DATES).fetchall() == dates_of(*labels)
    assert dates_of("2024Q1")[0][2] == date(2024, 3, 31) and dates_of("2024Q2")[0][1:] == (date(2024, 4, 1),
                                                                                          date(2024, 6, 30))
    load_names(con, "2024Q2", ["Ames"])  # a reload replaces the row, dates and all
    assert con.execute(DATES).fetchall() == dates_of(*labels)
    assert con.execute("SELECT rows_loaded FROM snapshots WHERE quarter = '2024Q2'").fetchone() == (1,)


@pytest.mark.parametrize(("label", "start", "end"), [
    ("2024Q2", date(2024, 1, 1), date(2024, 3, 31)),  # another quarter's dates
    ("2024Q2", date(2024, 4, 2), date(2024, 7, 1)),  # not the first day
    ("2024Q2", date(2024, 4, 1), date(2024, 6, 29)),  # not the last day
    ("2024q2", date(2024, 4, 1), date(2024, 6, 30)),  # a label not written YYYYQn
])
def test_dates_that_disagree_with_the_label_are_refused(con: duckdb.DuckDBPyConnection, label: str,
                                                        start: date, end: date) -> None:
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO snapshots VALUES ('agency_map', ?, ?, ?, now()::TIMESTAMP, 'file', 1, 0, 1, "
                    "now()::TIMESTAMP)", [label, start, end])
    con.execute("INSERT INTO snapshots VALUES ('agency_map', '2024Q2', ?, ?, now()::TIMESTAMP, 'file', 1, 0, 1, "
                "now()::TIMESTAMP)", [date(2024, 4, 1), date(2024, 6, 30)])


# -- (c) views and read-side queries order and compare by the dates ----------------------------

# Three quarters held. Dows and Dows City (one town, similar names) swap places twice, for
# agency_identity_review; Ames's count for H2 2020 differs in each, for video_requests_by_period;
# Boone's count names no period, so it counts its snapshot's quarter; Ames and Clive have Active
# Dates, for agency_joins_by_quarter.
HELD = {"2021Q1": ["Ames", "Boone", "Dows"], "2020Q3": ["Ames", "Dows City"],
        "2019Q4": ["Ames", "Boone", "Clive", "Dows"]}
H2_COUNT = {"2021Q1": "10", "2020Q3": "20", "2019Q4": "30"}


def load_held(con: duckdb.DuckDBPyConnection) -> None:
    for quarter, names in HELD.items():  # newest first: out of order
        load_names(con, quarter, names, {
            "Ames": [("Active Date", "1/2/2019"), ("Video Requests (H2 2020)", H2_COUNT[quarter])],
            "Boone": [("Video Requests", "5")], "Clive": [("Active Date", "8/1/2020")]})


def test_quarters_loaded_out_of_order_are_compared_with_the_one_held_before(con: duckdb.DuckDBPyConnection) -> None:
    load_held(con)
    assert con.execute("SELECT * FROM agency_counts_by_quarter").fetchall() == [
        ("2019Q4", 4, None, None, None), ("2020Q3", 2, 1, 3, "2019Q4"), ("2021Q1", 3, 2, 1, "2020Q3")]
    assert con.execute("SELECT quarter, compared_with, change, name FROM agency_changes").fetchall() == [
        ("2020Q3", "2019Q4", "joined", "Dows City Police Department"),
        ("2020Q3", "2019Q4", "left", "Boone Police Department"),
        ("2020Q3", "2019Q4", "left", "Clive Police Department"),
        ("2020Q3", "2019Q4", "left", "Dows Police Department"),
        ("2021Q1", "2020Q3", "joined", "Boone Police Department"),
        ("2021Q1", "2020Q3", "joined", "Dows Police Department"),
        ("2021Q1", "2020Q3", "left", "Dows City Police Department")]
    assert con.execute("SELECT name, first_seen_quarter, last_seen_quarter FROM agencies ORDER BY name").fetchall() == [
        ("Ames Police Department", "2019Q4", "2021Q1"), ("Boone Police Department", "2019Q4", "2021Q1"),
        ("Clive Police Department", "2019Q4", "2019Q4"), ("Dows City Police Department", "2020Q3", "2020Q3"),
        ("Dows Police Department", "2019Q4", "2021Q1")]
    assert reference_count(con, Source.AGENCY_MAP, Quarter(2020, 4)) == (2, Quarter(2020, 3))
    assert reference_count(con, Source.AGENCY_MAP, Quarter(2019, 3)) == (None, None)
    assert summarize_changes(con).quarter == "2021Q1"


def swap_dates(con: duckdb.DuckDBPyConnection, starts: dict[str, date]) -> None:
    """Give the quarters held other dates, in an order their labels do not sort in. The table's
    CHECK forbids that, so the test puts an unchecked copy in its place: then only a query that
    reads the dates (not the labels) can follow the new order."""
    con.execute("CREATE TABLE unchecked AS SELECT * FROM snapshots")
    con.execute("DROP TABLE snapshots")
    con.execute("ALTER TABLE unchecked RENAME TO snapshots")
    for quarter, start in starts.items():
        con.execute("UPDATE snapshots SET quarter_start = ?, quarter_end = last_day(? + INTERVAL 2 MONTH) "
                    "WHERE quarter = ?", [start, start, quarter])


def test_the_views_and_read_queries_follow_the_dates_not_the_labels(con: duckdb.DuckDBPyConnection) -> None:
    load_held(con)
    # By date: 2021Q1, then 2020Q3, then 2019Q4 (the labels sort the other way round).
    swap_dates(con, {"2021Q1": date(2001, 1, 1), "2020Q3": date(2002, 1, 1), "2019Q4": date(2003, 1, 1)})
    order = ["2021Q1", "2020Q3", "2019Q4"]

    assert con.execute("SELECT * FROM agency_counts_by_quarter").fetchall() == [
        ("2021Q1", 3, None, None, None), ("2020Q3", 2, 1, 2, "2021Q1"), ("2019Q4", 4, 3, 1, "2020Q3")]
    assert con.execute("SELECT quarter, compared_with, change, name FROM agency_changes").fetchall() == [
        ("2020Q3", "2021Q1", "joined", "Dows City Police Department"),
        ("2020Q3", "2021Q1", "left", "Boone Police Department"),
        ("2020Q3", "2021Q1", "left", "Dows Police Department"),
        ("2019Q4", "2020Q3", "joined", "Boone Police Department"),
        ("2019Q4", "2020Q3", "joined", "Clive Police Department"),
        ("2019Q4", "2020Q3", "joined", "Dows Police Department"),
        ("2019Q4", "2020Q3", "left", "Dows City Police Department")]
    assert con.execute("SELECT quarter, compared_with, left_name, joined_name FROM agency_identity_review"
                       ).fetchall() == [
        ("2020Q3", "2021Q1", "Dows Police Department", "Dows City Police Department"),
        ("2019Q4", "2020Q3", "Dows City Police Department", "Dows Police Department")]
    assert con.execute("SELECT name, first_seen_quarter, last_seen_quarter FROM agencies ORDER BY name").fetchall() == [
        ("Ames Police Department", "2021Q1", "2019Q4"), ("Boone Police Department", "2021Q1", "2019Q4"),
        ("Clive Police Department", "2019Q4", "2019Q4"), ("Dows City Police Department", "2020Q3", "2020Q3"),
        ("Dows Police Department", "2021Q1", "2019Q4")]
    assert con.execute("SELECT name, first_quarter, last_quarter FROM agency_name_history "
                       "WHERE name LIKE 'Ames%'").fetchall() == [("Ames Police Department", "2021Q1", "2019Q4")]
    for view in ("agency_counts_by_state", "agency_counts_by_type", "states_without_agencies", "agency_metrics",
                 "agency_video_requests", "video_requests_by_state"):
        quarters = [r[0] for r in con.execute(f"SELECT quarter FROM {view}").fetchall()]
        assert list(dict.fromkeys(quarters)) == order, view
    # Active Dates are read from the latest snapshot by date (2019Q4, which holds Clive)
    joins = con.execute("SELECT quarter, joined, cumulative FROM agency_joins_by_quarter").fetchall()
    assert (joins[0], joins[-1], len(joins)) == (("2019Q1", 1, 1), ("2020Q3", 1, 2), 7)
    # a count whose field names no period counts its snapshot's quarter, from its dates
    assert con.execute("SELECT quarter, name, period_start, period_end, requests FROM agency_video_requests"
                       ).fetchall() == [
        ("2021Q1", "Boone Police Department", date(2001, 1, 1), date(2001, 3, 31), 5),
        ("2021Q1", "Ames Police Department", date(2020, 7, 1), date(2020, 12, 31), 10),
        ("2020Q3", "Ames Police Department", date(2020, 7, 1), date(2020, 12, 31), 20),
        ("2019Q4", "Boone Police Department", date(2003, 1, 1), date(2003, 3, 31), 5),
        ("2019Q4", "Ames Police Department", date(2020, 7, 1), date(2020, 12, 31), 30)]
    # a count repeated by several snapshots is taken from the latest by date
    assert con.execute("SELECT period_start, period_label, requests FROM video_requests_by_period").fetchall() == [
        (date(2001, 1, 1), "2021Q1", 5), (date(2003, 1, 1), "2019Q4", 5), (date(2020, 7, 1), "H2 2020", 30)]

    report = named_queries("presentation/report/queries.sql")
    assert [r[0] for r in con.execute(report["quarters_held"]).fetchall()] == order
    assert [r[0] for r in con.execute(report["agencies_observed"]).fetchall()] == order
    assert list(dict.fromkeys(r[0] for r in con.execute(report["agencies_by_type"]).fetchall())) == order
    assert con.execute(report["snapshot_origins"]).fetchall() == [("file", 3, "2021Q1", "2019Q4")]
    assert con.execute(report["top_video_requesters"], {"top": 5}).fetchall() == [
        ("Ames Police Department", "Ames", "WI", 30, "H2 2020", "2019Q4")]  # and the quarter its count comes from

    # the latest quarter held is the latest by date
    assert summarize_changes(con).quarter == "2019Q4"
    assert [str(q) for q, _ in snapshot_captures(con, Source.AGENCY_MAP, None)] == order
    status = next(s for s in statuses_from(con) if s.source == "agency_map")
    assert list(status.quarters) == order and status.latest_rows == 4
    # the drop gate's reference is the latest quarter whose first day is not after the new one's
    assert reference_count(con, Source.AGENCY_MAP, Quarter(2002, 2)) == (2, Quarter(2020, 3))
    assert reference_count(con, Source.AGENCY_MAP, Quarter(2000, 4)) == (None, None)


# Columns that hold a quarter's label: ordering, min/max, <, > or substrings of them compare text.
LABEL_COLUMNS = {"quarter", "compared_with", "first_quarter", "last_quarter", "first_seen_quarter",
                 "last_seen_quarter"}


def label_uses(sql: str) -> list[str]:
    """Where `sql` orders by, takes the least or greatest of, compares with < or >, or cuts up a
    quarter label."""
    text = "\n".join(line.split("--")[0] for line in sql.splitlines())
    found = []
    for match in re.finditer(r"ORDER BY\s+([^;)\n]+)", text, re.I):
        for item in match[1].split(","):
            column = re.sub(r"\s+(ASC|DESC|NULLS|LIMIT)\b.*", "", item.strip(), flags=re.I)
            if column.split(".")[-1].strip('"').lower() in LABEL_COLUMNS:
                found.append(match[0].strip())
    label = r"(?:\w+\.)?(?:" + "|".join(sorted(LABEL_COLUMNS)) + r")\b"
    for pattern in (rf"\b(?:min|max)\s*\(\s*{label}\s*\)", rf"\barg_(?:min|max)\s*\([^()]*,\s*{label}\s*\)",
                    rf"\b(?:left|right|substr|substring)\s*\(\s*{label}", rf"\b{label}\s*(?:<=|>=|<(?!>)|>)"):
        found += [m[0] for m in re.finditer(pattern, text, re.I)]
    return found


def test_the_label_scan_finds_what_the_views_did_before_migration_8() -> None:
    assert label_uses("SELECT quarter, lag(quarter) OVER (ORDER BY quarter) AS compared_with FROM snapshots") == [
        "ORDER BY quarter"]
    assert label_uses("SELECT * FROM final ORDER BY agency_id, first_quarter, name;") != []
    assert label_uses("SELECT min(quarter) AS a, arg_max(name, s.quarter) AS b FROM t") == ["min(quarter)",
                                                                                            "arg_max(name, s.quarter)"]
    assert label_uses("make_date(CAST(left(f.quarter, 4) AS INTEGER), 1, 1)") == ["left(f.quarter"]
    assert label_uses("WHERE source = ? AND quarter <= ?") == ["quarter <="]
    assert label_uses("WHERE quarter = ? AND quarter <> $q ORDER BY quarter_start DESC, state") == []


def test_no_view_or_read_query_orders_compares_or_parses_quarter_labels() -> None:
    # The one left on labels: agency_joins_by_quarter's quarters are those of Active Dates, with
    # no row in snapshots to give their dates (the view builds its labels from dates). Not scanned:
    # identity.sql, whose queries also run in migration 3's data step, on a schema without dates.
    allowed = {("presentation/report/queries.sql", "agencies_reconstructed"): ["ORDER BY quarter"]}
    found = {(f"views/{v.name}", ""): label_uses(v.text) for v in sql_files("views")}
    for path in ("removal.sql", "presentation/report/queries.sql"):
        found |= {(path, name): label_uses(sql) for name, sql in named_queries(path).items()}
    for module in ("read.py", "changes.py", "load.py", "captures.py", "staleness.py", "backfill.py", "removal.py",
                   "presentation/export.py"):
        found[(module, "")] = label_uses((WAREHOUSE / module).read_text(encoding="utf-8"))
    assert {k: v for k, v in found.items() if v} == allowed
