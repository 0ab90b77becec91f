"""Identity across the map's eras and the backfill origins, on fixtures written by other hands.

The fixtures (tests/fixtures/identity/) are one set of agencies as three sources wrote them:
a 2020 map export (old namespace, names and spelled-out states, no profiles), a late-2021
export (profiles, two layers, names retyped) and an EFF Atlas CSV (EFF's own names; a sheriff
filed under its county seat). Every load goes through the real parse -> validate -> load core.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.atlas import parse_atlas_csv
from ringwatch.warehouse.aliases import parse_aliases
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.identity import AliasDecision
from ringwatch.warehouse.load import LoadResult, load_agency_snapshot, reference_count
from ringwatch.warehouse.quality import GatePolicy, validate_agency_snapshot
from tests.conftest import FIXTURES, fresh_warehouse

IDENTITY = FIXTURES / "identity"
MAP_2020 = ("map_2020-06-28_layer.kml", "2020Q2", datetime(2020, 6, 28, tzinfo=UTC), "wayback")
ATLAS_2020 = ("Atlas of Surveillance-20200807.csv", "2020Q3", datetime(2020, 8, 7, tzinfo=UTC), "atlas")
MAP_2021 = ("map_2021-12-29_profiles.kml", "2021Q4", datetime(2021, 12, 29, tzinfo=UTC), "live")

ALIASES = """decision,key_a,key_b,note
# EFF wrote the county police without "Department"; the map never did.
same,name:St. Louis County Police|St. Louis|MO,name:St. Louis County Police Department|St. Louis|MO,EFF's name
same,name:Ventura County Sheriff's Office|Simi Valley|CA,uuid:ad37749c-0ae2-4398-8e7b-6480bf9d09e9,county seat
"""


def load_source(con: duckdb.DuckDBPyConnection, source: tuple[str, str, datetime, str], *,
                aliases: Sequence[AliasDecision] | None = None, body: bytes | None = None) -> LoadResult:
    name, quarter, observed, origin = source
    data = body if body is not None else (IDENTITY / name).read_bytes()
    parser = parse_atlas_csv if name.endswith(".csv") else parse_agency_map
    agencies = parser(data, source_url=name)
    count, previous = reference_count(con, "agency_map", quarter)
    snapshot = validate_agency_snapshot(agencies, source="agency_map", url=name, quarter=quarter,
                                        observed_at=observed, previous_count=count, previous_quarter=previous,
                                        policy=GatePolicy(), force=True)
    return load_agency_snapshot(con, snapshot, capture_id=1, origin=origin, run_id=1, aliases=aliases)


def results(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[object, ...]]]:
    """Everything a reader sees of agency identity."""
    return {q: con.execute(sql).fetchall() for q, sql in {
        "counts": "SELECT * FROM agency_counts_by_quarter",
        "changes": "SELECT quarter, change, agency_id, name FROM agency_changes ORDER BY ALL",
        "snapshots": "SELECT quarter, agency_id, name FROM agency_snapshots ORDER BY ALL",
        "agencies": "SELECT * FROM agencies ORDER BY ALL",
        "keys": "SELECT * FROM agency_keys ORDER BY ALL",
        "review": "SELECT * FROM agency_identity_review ORDER BY ALL",
    }.items()}


def changes(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, list[str]]:
    rows = con.execute("SELECT change, name || ', ' || state FROM agency_changes WHERE quarter = ? ORDER BY 2",
                       [quarter]).fetchall()
    return {kind: [n for c, n in rows if c == kind] for kind in ("joined", "left")}


@pytest.fixture
def aliases() -> tuple[AliasDecision, ...]:
    return parse_aliases(ALIASES, file="agency_aliases.csv")


def test_the_same_agencies_across_the_2021_format_change_give_no_departures(con: duckdb.DuckDBPyConnection) -> None:
    load_source(con, MAP_2020)
    load_source(con, MAP_2021)
    assert changes(con, "2021Q4") == {"joined": ["Fort Myers Police Department, FL"], "left": []}
    assert con.execute("SELECT agencies, joined, \"left\" FROM agency_counts_by_quarter WHERE quarter = '2021Q4'"
                       ).fetchone() == (12, 1, 0)
    # The 2020 rows now carry the profile uuid their agency was later seen with.
    greenfield_wi = con.execute("SELECT DISTINCT agency_id FROM agency_snapshots WHERE name ILIKE 'greenfield%' "
                                "AND state = 'WI'").fetchall()
    assert greenfield_wi == [("335b1bf0-c2c7-4bc9-8447-db59655691c7",)]


def test_renamed_with_common_abbreviations_stays_one_agency(con: duckdb.DuckDBPyConnection) -> None:
    load_source(con, MAP_2020)
    load_source(con, MAP_2021)
    names = con.execute(
        "SELECT agency_id, list(name ORDER BY first_quarter) FROM agency_name_history GROUP BY agency_id "
        "HAVING count(*) > 1 ORDER BY 2").fetchall()
    assert sorted(n for _, n in names) == sorted([
        ["Cary FD", "Cary Fire Department"],
        ["Greenfield PD", "Greenfield Police Department"],
        ["Greenfield Police Dept.", "Greenfield Police Department"],
        ["Mt. Pleasant Twp. Police Dept.", "Mount Pleasant Township Police Department"],
        ["St. Louis County Police Dept.", "St Louis County Police Department"],
        ["Springfield Police Department", "Springfield PD"],
        ["Springfield Police Department", "Springfield Police Dept"],
        ["THE VILLAGES PUBLIC SAFETY DEPT", "The Villages Public Safety Department"],
        ["Ventura Co. Sheriff's Office", "Ventura County Sheriff’s Office"],
    ])
    # The display name is the latest one.
    assert con.execute("SELECT name FROM agencies WHERE agency_id = 'e2e329b5-bc6f-459d-a49e-a36fc3e186c5'"
                       ).fetchone() == ("St Louis County Police Department",)


def test_same_names_in_other_cities_or_states_stay_apart(con: duckdb.DuckDBPyConnection) -> None:
    load_source(con, MAP_2020)
    load_source(con, ATLAS_2020)
    load_source(con, MAP_2021)
    by_state = con.execute(
        "SELECT state, count(DISTINCT agency_id) FROM agency_snapshots WHERE name ILIKE '%field p%' "
        "GROUP BY state ORDER BY state").fetchall()
    assert by_state == [("CA", 1), ("IL", 1), ("MO", 1), ("WI", 1)]
    # And the Atlas's Ventura sheriff, filed under Simi Valley, is not joined to the map's Ventura one by name.
    ventura = con.execute("SELECT count(DISTINCT agency_id) FROM agency_snapshots WHERE name ILIKE 'ventura%'"
                          ).fetchone()
    assert ventura == (2,)


def test_an_agency_known_only_by_name_in_an_atlas_export_finds_its_profile(con: duckdb.DuckDBPyConnection) -> None:
    load_source(con, ATLAS_2020)
    load_source(con, MAP_2021)
    atlas_ids = dict(con.execute("SELECT name || ', ' || state, agency_id FROM agency_snapshots "
                                 "WHERE quarter = '2020Q3'").fetchall())
    assert atlas_ids["Madison Police Department, WI"] == "ab6f8f65-1ef7-4682-b17a-b0acc7b14318"
    assert atlas_ids["Cary Fire Department, NC"] == "4ba1481d-df6f-4106-91bb-a64ebe7f18cb"
    # EFF's two differently written agencies are the ones left unlinked, and offered for review.
    assert changes(con, "2021Q4")["left"] == ["St. Louis County Police, MO", "Ventura County Sheriff's Office, CA"]
    review = con.execute("SELECT left_name, joined_name, reason FROM agency_identity_review ORDER BY 1").fetchall()
    assert review == [
        ("St. Louis County Police", "St Louis County Police Department", "similar name, same city"),
        ("Ventura County Sheriff's Office", "Ventura County Sheriff’s Office", "same name, another city"),
    ]
    keys = con.execute("SELECT key_kind, key, agency_id, first_seen_quarter, origin FROM agency_keys "
                       "WHERE key IN ('AOS2210', 'ab6f8f65-1ef7-4682-b17a-b0acc7b14318') ORDER BY 1").fetchall()
    assert keys == [("aos", "AOS2210", "ab6f8f65-1ef7-4682-b17a-b0acc7b14318", "2020Q3", "atlas"),
                    ("uuid", "ab6f8f65-1ef7-4682-b17a-b0acc7b14318", "ab6f8f65-1ef7-4682-b17a-b0acc7b14318",
                     "2021Q4", "live")]


@pytest.mark.parametrize("with_aliases", [False, True], ids=["no aliases", "aliases"])
def test_loading_order_changes_no_result(with_aliases: bool, aliases: tuple[AliasDecision, ...],
                                         warehouse_template: Path) -> None:
    """Live then backfill, backfill then live, Atlas first: every order gives the same tables."""
    outcomes = {}
    for order in itertools.permutations((MAP_2020, ATLAS_2020, MAP_2021)):
        con = fresh_warehouse(warehouse_template)  # as connect(":memory:") makes it, without migrating
        for source in order:
            load_source(con, source, aliases=aliases if with_aliases else ())
        outcomes[tuple(s[1] for s in order)] = results(con)
        con.close()
    first = next(iter(outcomes.values()))
    assert all(outcome == first for outcome in outcomes.values())
    expected = ([("2020Q2", 11, None, None, None), ("2020Q3", 11, 0, 0, "2020Q2"), ("2021Q4", 12, 1, 0, "2020Q3")]
                if with_aliases else
                [("2020Q2", 11, None, None, None), ("2020Q3", 11, 2, 2, "2020Q2"), ("2021Q4", 12, 3, 2, "2020Q3")])
    assert first["counts"] == expected


def test_an_alias_joins_two_keys_and_a_different_entry_keeps_them_apart(con: duckdb.DuckDBPyConnection,
                                                                        aliases: tuple[AliasDecision, ...]) -> None:
    load_source(con, ATLAS_2020, aliases=aliases)
    load_source(con, MAP_2021, aliases=aliases)
    assert changes(con, "2021Q4") == {"joined": ["Fort Myers Police Department, FL"], "left": []}
    assert con.execute("SELECT count(*) FROM agency_identity_review").fetchone() == (0,)

    different = parse_aliases(
        ALIASES + "different,name:Madison Police Department|Madison|WI,"
                  "uuid:https://agency.ring.com/agencies/ab6f8f65-1ef7-4682-b17a-b0acc7b14318,two departments\n",
        file="agency_aliases.csv")
    result = load_source(con, MAP_2021, aliases=different)  # a reload applies the new file
    assert changes(con, "2021Q4") == {"joined": ["Fort Myers Police Department, FL", "Madison Police Department, WI"],
                                      "left": ["Madison Police Department, WI"]}
    assert [w.kind for w in result.identity_warnings] == ["identity_conflict"]
    assert "aliases file says" in result.identity_warnings[0].detail
    madison_ids = con.execute("SELECT DISTINCT agency_id FROM agency_snapshots WHERE name LIKE 'Madison%' "
                              "ORDER BY 1").fetchall()
    assert len(madison_ids) == 2
    # The review view leaves out the pair a person already called different.
    assert con.execute("SELECT count(*) FROM agency_identity_review").fetchone() == (0,)


MADISON_2022 = b"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Active Agency Map</name>
<Folder><name>Law Enforcement</name>
<Placemark><name>Madison Police Department</name><address>Madison, WI</address><ExtendedData>
<Data name="Active Date"><value>11/20/2019</value></Data>
<Data name="Agency Profile"><value>https://agency.ring.com/agencies/ab6f8f65-1ef7-4682-b17a-b0acc7b14318</value></Data>
</ExtendedData></Placemark>
<Placemark><name>Madison Police Department</name><address>Madison, Wisconsin</address><ExtendedData>
<Data name="Active Date"><value>2/1/2022</value></Data>
<Data name="Agency Profile"><value>https://agency.ring.com/agencies/0b6e27e5-58bf-439c-bca1-bdea37c8d816</value></Data>
</ExtendedData></Placemark>
</Folder></Document></kml>
"""


def test_one_name_with_two_profiles_in_one_city_stays_two_agencies_with_a_warning(
        con: duckdb.DuckDBPyConnection) -> None:
    load_source(con, MAP_2020)
    madison = ("madison_2022.kml", "2022Q1", datetime(2022, 3, 30, tzinfo=UTC), "live")
    result = load_source(con, madison, body=MADISON_2022)
    assert result.rows_loaded == 2
    ids = con.execute("SELECT quarter, agency_id FROM agency_snapshots WHERE name LIKE 'Madison%' ORDER BY ALL"
                      ).fetchall()
    profiles = {"ab6f8f65-1ef7-4682-b17a-b0acc7b14318", "0b6e27e5-58bf-439c-bca1-bdea37c8d816"}
    assert {i for q, i in ids if q == "2022Q1"} == profiles
    # The 2020 row, known only by the shared name, is not given to either profile.
    (old,) = [i for q, i in ids if q == "2020Q2"]
    assert old.startswith("h-")
    kinds = [(w.kind, w.subject) for w in result.identity_warnings]
    assert kinds == [("ambiguous_identity", "name:madison police department|madison|WI")]
    assert "2 different Ring profiles" in result.identity_warnings[0].detail


def test_rows_of_one_snapshot_that_resolve_to_one_agency_are_merged_with_a_warning(
        con: duckdb.DuckDBPyConnection) -> None:
    same_twice = MADISON_2022.replace(b"0b6e27e5-58bf-439c-bca1-bdea37c8d816", b"").replace(
        b"<address>Madison, Wisconsin</address>", b"<address>Madison, WI</address>")
    result = load_source(con, ("m.kml", "2022Q1", datetime(2022, 3, 30, tzinfo=UTC), "live"), body=same_twice)
    assert result.rows_loaded == 1
    assert [w.kind for w in result.identity_warnings] == ["merged_by_identity"]
    assert con.execute("SELECT rows_loaded FROM snapshots").fetchone() == (1,)
    assert con.execute("SELECT profile_url IS NOT NULL FROM agency_snapshots").fetchone() == (True,)


def test_the_real_atlas_export_links_to_a_later_map_by_name(con: duckdb.DuckDBPyConnection) -> None:
    """The real EFF export of 2020-10-07, then a map that carries profiles for a few of its agencies."""
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "aos_ring_neighbors_20201007.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent (shared/research/data)")
    atlas = ("Atlas of Surveillance-20201007.csv", "2020Q3", datetime(2020, 10, 7, tzinfo=UTC), "atlas")
    first = load_source(con, atlas, body=path.read_bytes())
    later = _profiles_map_for(path, limit=25)
    load_source(con, ("map.kml", "2021Q4", datetime(2021, 12, 29, tzinfo=UTC), "live"), body=later)
    counts = con.execute("SELECT agencies, joined, \"left\" FROM agency_counts_by_quarter WHERE quarter = '2021Q4'"
                         ).fetchone()
    assert counts == (25, 0, first.rows_loaded - 25)
    linked = con.execute("SELECT count(*) FROM agency_keys WHERE key_kind = 'aos' AND agency_id NOT LIKE 'h-%'"
                         ).fetchone()
    assert linked == (25,)


def _profiles_map_for(path: Path, *, limit: int) -> bytes:
    """A 2021-style map of the first agencies of the export, names retyped the map's way."""
    import csv
    import uuid

    rows = [r for r in csv.DictReader(path.open(encoding="utf-8-sig"))][:limit]
    marks = []
    for n, row in enumerate(rows):
        name = row["Agency"].replace("Department", "Dept.").replace("Sheriff's Office", "SO")
        marks.append(
            f"<Placemark><name>{name}</name><address>{row['City']}, {row['State']}</address><ExtendedData>"
            f"<Data name=\"Agency Profile\"><value>https://agency.ring.com/agencies/"
            f"{uuid.UUID(int=n + 1)}</value></Data></ExtendedData></Placemark>")
    body = "".join(marks).replace("&", "&amp;")
    return (f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>Law Enforcement</name>{body}'
            "</Folder></Document></kml>").encode()


def test_an_old_database_heals_to_the_ids_of_a_fresh_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database written before migration 3, opened by this version, ends with a fresh load's ids."""
    from tests.old_database import make_old_database

    sources = [MAP_2020, ATLAS_2020, MAP_2021]
    path = tmp_path / "old.duckdb"
    make_old_database(path, [(IDENTITY / s[0], s[1], s[2], s[3]) for s in sources], monkeypatch)
    old = duckdb.connect(str(path), read_only=True)
    before = old.execute("SELECT \"left\" FROM agency_counts_by_quarter WHERE quarter = '2021Q4'").fetchone()
    old.close()
    assert before == (11,)  # the false exodus of the old ids: every 2020 agency "left"

    healed = connect(path)
    fresh = connect(":memory:")
    for source in sources:
        load_source(fresh, source)
    try:
        assert results(healed)["snapshots"] == results(fresh)["snapshots"]
        assert results(healed)["counts"] == results(fresh)["counts"]
        assert results(healed)["keys"] == results(fresh)["keys"]
        fields = "SELECT quarter, agency_id, field_name, value_text FROM agency_snapshot_fields ORDER BY ALL"
        assert healed.execute(fields).fetchall() == fresh.execute(fields).fetchall()
        # video requests; AOSNUMBER and County; Link 1 (11 rows) and Summary (4), kept since issue 22
        assert len(healed.execute(fields).fetchall()) == 11 + 2 * 11 + 11 + 4
        checks = [c.name for c in db_checks() if healed.execute(c.text).fetchall()]
        assert checks == []
    finally:
        healed.close()
        fresh.close()


def db_checks() -> list:  # the warehouse's own column checks
    from ringwatch.warehouse.sql import sql_files

    return sql_files("checks")


def test_what_changed_counts_the_pairs_to_review(con: duckdb.DuckDBPyConnection) -> None:
    from ringwatch.warehouse.changes import summarize_changes
    from ringwatch.warehouse.presentation.render import changes_markdown

    load_source(con, ATLAS_2020)
    load_source(con, MAP_2021)
    summary = summarize_changes(con, "2021Q4")
    assert summary.identity_review == 2
    assert "Possibly one agency under two ids: **2** pair(s) to review" in changes_markdown(summary)
    load_source(con, MAP_2021, aliases=parse_aliases(ALIASES, file="a.csv"))
    assert summarize_changes(con, "2021Q4").identity_review == 0
    assert "Possibly one agency" not in changes_markdown(summarize_changes(con, "2021Q4"))
