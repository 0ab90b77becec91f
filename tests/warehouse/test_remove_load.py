"""ringwatch remove-load: one mistaken load goes, its captures stay, and the views read as if
it had never been loaded."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from ringwatch.flows.cli import cli
from ringwatch.warehouse.captures import blob_dir_for
from ringwatch.warehouse.sql import sql_files
from tests.conftest import FIXTURES

MAP_2020 = ("--from-file", str(FIXTURES / "agency_map/direct_layer_2020-07-01.kml"), "--observed-at", "2020-07-01")
MAP_2024 = ("--from-file", str(FIXTURES / "agency_map/active_agency_map_2024-01-15.kmz"),
            "--observed-at", "2024-01-15")
REPORT_2020 = ("--from-file", str(FIXTURES / "transparency/report_2020_table_rows.html"),
               "--observed-at", "2021-01-20")
ATLAS_HEADER = (Path(FIXTURES / "identity/Atlas of Surveillance-20200807.csv")
                .read_text(encoding="utf-8").splitlines()[0])
# A mistaken Atlas export between the two map quarters (2021Q4), with a duplicate row and one
# record number given to two agencies: it makes Lakeland (2020 map, no profile) and Raleigh
# (2024 map, a profile) one agency, which re-identifies the 2020 rows; only resolving identity
# again after the removal takes them apart.
ATLAS_ROWS = [
    "AOS1,Lakeland,Polk County,FL,Lakeland Police Department,Police,,Municipal,"
    "Ring/Neighbors Partnership,Ring,,,,,5/1/19,,,,,,,,,,",
    "AOS1,Raleigh,Wake County,NC,Raleigh Police Department,Police,,Municipal,"
    "Ring/Neighbors Partnership,Ring,,,,,3/3/20,,,,,,,,,,",
    "AOS3,Boise,Ada County,ID,Boise Police Department,Police,,Municipal,"
    "Ring/Neighbors Partnership,Ring,,,,,1/2/20,,,,,,,,,,",
    "AOS3,Boise,Ada County,ID,Boise Police Department,Police,,Municipal,"
    "Ring/Neighbors Partnership,Ring,,,,,,,,,,,,,,,",
]
# Columns that name a capture or a run, which a second database numbers differently.
NUMBERED = {"capture_id", "run_id"}
TABLES = {  # what must read the same, beyond the views: columns left out that necessarily differ
    "agency_observations": ("capture_id",), "agency_observation_fields": (), "agency_keys": (),
    "snapshots": ("capture_id", "run_id", "loaded_at"), "metric_fields": (),
    "le_request_counts": ("capture_id",), "transparency_reports": ("capture_id",),
    "quality_warnings": ("run_id", "recorded_at"),
    "report_ledgers": ("capture_id", "parsed_at"),
}
VIEW_TIMES = {"report_pages_read": ("fetched_at", "parsed_at")}  # when, not what


def ringwatch(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def load(db: Path, *args: str) -> Result:
    result = ringwatch("sync", "--db", str(db), *args)
    assert result.exit_code == 0, result.output
    return result


def import_atlas(db: Path, folder: Path) -> Result:
    path = folder / "Atlas of Surveillance-20220105.csv"
    path.write_text("\n".join([ATLAS_HEADER, *ATLAS_ROWS]) + "\n", encoding="utf-8")
    result = ringwatch("import-atlas", str(path), "--db", str(db))
    assert result.exit_code == 0, result.output
    return result


def run_ids(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {f"{mode} {quarter}": run_id for run_id, mode, quarter in con.execute(
            "SELECT run_id, mode, quarter FROM sync_runs WHERE status = 'success'").fetchall()}
    finally:
        con.close()


def contents(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every view, and the tables identity and the views read, minus the columns that number
    captures and runs (or stamp the time of loading): sorted rows, comparable across files."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out: dict[str, list[tuple[object, ...]]] = {}
        relations = {v.name.removesuffix(".sql"): VIEW_TIMES.get(v.name.removesuffix(".sql"), ())
                     for v in sql_files("views")} | TABLES
        for name, excluded in relations.items():
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                [name]).fetchall()]
            kept = [c for c in columns if c not in NUMBERED and c not in excluded]
            assert kept, name
            quoted = ", ".join(f'"{c}"' for c in kept)
            rows = con.execute(f"SELECT {quoted} FROM {name}").fetchall()
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def everything(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table as it is, numbered columns included: a dry run must leave it all."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()]
        return {n: sorted(con.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}
    finally:
        con.close()


@pytest.fixture
def wanted(tmp_path: Path) -> Path:
    """A database holding only the loads that were meant."""
    db = tmp_path / "wanted.duckdb"
    for args in (MAP_2020, MAP_2024, REPORT_2020):
        load(db, *args)
    return db


def test_removing_a_mistaken_atlas_import_leaves_the_views_as_if_it_never_happened(
        tmp_path: Path, wanted: Path) -> None:
    db = tmp_path / "mistaken.duckdb"
    load(db, *MAP_2020)
    import_atlas(db, tmp_path)
    load(db, *MAP_2024)
    load(db, *REPORT_2020)
    before, expected = contents(db), contents(wanted)
    differ = {name for name in before if before[name] != expected[name]}
    # The mistake reaches identity, the comparisons and the counts: the test can fail.
    assert {"agency_counts_by_quarter", "agency_changes", "agencies", "agency_snapshots", "agency_keys"} <= differ
    atlas_run = run_ids(db)["atlas 2021Q4"]

    listed = ringwatch("remove-load", "--db", str(db))
    assert listed.exit_code == 0
    assert any(line.split()[:4] == [str(atlas_run), "agency_map", "2021Q4", "atlas"]
               for line in listed.output.splitlines())

    dry = ringwatch("remove-load", str(atlas_run), "--db", str(db))
    assert dry.exit_code == 0, dry.output
    assert f"would remove run {atlas_run}: agency_map 2021Q4 (origin atlas, from " in dry.output
    assert "2 agencies (3 rows)" in dry.output and "--yes" in dry.output
    assert contents(db) == before

    done = ringwatch("remove-load", str(atlas_run), "--yes", "--db", str(db))
    assert done.exit_code == 0, done.output
    assert f"removed run {atlas_run}: agency_map 2021Q4 (origin atlas" in done.output
    assert "2 agencies (3 rows) and 2 warning(s)" in done.output  # a duplicate row; Lakeland = Raleigh
    assert "capture(s) (2) are kept" in done.output
    after = contents(db)
    assert {name for name in after if after[name] != expected[name]} == set()
    assert after["agency_counts_by_quarter"] == [("2020Q2", 3, None, None, None), ("2023Q4", 8, 8, 3, "2020Q2")]

    # The raw capture stays, row and bytes.
    con = duckdb.connect(str(db), read_only=True)
    sha = con.execute("SELECT sha256 FROM captures WHERE run_id = ?", [atlas_run]).fetchone()
    removed = con.execute("SELECT source, quarter, origin, agencies, figures, warnings FROM removed_loads").fetchall()
    con.close()
    assert sha is not None and (blob_dir_for(db) / sha[0][:2] / sha[0]).is_file()
    assert removed == [("agency_map", "2021Q4", "atlas", 2, None, 2)]

    again = ringwatch("remove-load", str(atlas_run), "--yes", "--db", str(db))
    assert again.exit_code == 1
    assert f"Error: run {atlas_run} (agency_map 2021Q4) was already removed on " in again.output
    assert contents(db) == expected


def test_a_dry_run_changes_nothing_at_all(wanted: Path) -> None:
    before = everything(wanted)
    result = ringwatch("remove-load", str(run_ids(wanted)["file 2023Q4"]), "--db", str(wanted))
    assert result.exit_code == 0 and "Nothing was changed: add --yes" in result.output
    assert everything(wanted) == before


def test_removing_a_transparency_load(tmp_path: Path, wanted: Path) -> None:
    maps_only = tmp_path / "maps.duckdb"
    load(maps_only, *MAP_2020)
    load(maps_only, *MAP_2024)
    run = run_ids(wanted)["file 2020Q4"]
    done = ringwatch("remove-load", str(run), "--yes", "--db", str(wanted))
    assert done.exit_code == 0, done.output
    assert f"removed run {run}: transparency 2020Q4 (origin file, from " in done.output
    assert "21 figures of 1 report(s), periods 2020" in done.output
    assert contents(wanted) == contents(maps_only)
    # A later load brings it back from the same file.
    reloaded = load(wanted, *REPORT_2020)
    assert "loaded 21 figures" in reloaded.output


def test_runs_that_loaded_nothing_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    load(db, *REPORT_2020)
    unchanged = load(db, *REPORT_2020[:3], "2021-02-01")
    assert "1 report(s) unchanged" in unchanged.output
    broken = tmp_path / "broken.kml"
    broken.write_text("<kml>no placemarks</kml>", encoding="utf-8")
    assert ringwatch("sync", "--db", str(db), "--from-file", str(broken)).exit_code == 1
    before = everything(db)
    for run, says in ((2, "run 2 (transparency 2020Q4, file) loaded nothing to remove: it was unchanged"),
                      (3, "run 3 (agency_map "), (99, "there is no run 99 in this database")):
        for yes in ((), ("--yes",)):
            result = ringwatch("remove-load", str(run), *yes, "--db", str(db))
            assert result.exit_code == 1, result.output
            assert result.output.startswith(f"Error: {says}") and result.output.count("\n") == 1
    assert "loaded nothing to remove: it failed" in ringwatch("remove-load", "3", "--db", str(db)).output
    assert everything(db) == before


def test_a_replaced_snapshot_is_named_and_not_restored(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    load(db, *MAP_2024)
    load(db, *MAP_2024[:3], "2023-12-31")  # nearer the quarter's end: replaces run 1
    refused = ringwatch("remove-load", "1", "--yes", "--db", str(db))
    assert refused.exit_code == 1
    assert "the 2023Q4 snapshot now held was loaded by run 2 (file); remove that run instead" in refused.output
    done = ringwatch("remove-load", "2", "--yes", "--db", str(db))
    assert done.exit_code == 0, done.output
    assert "The snapshot of 2023Q4 that this load replaced (run 1) is not restored" in done.output
    assert ringwatch("remove-load", "--db", str(db)).output.startswith(f"{db} holds no load")
    assert ringwatch("query", "SELECT count(*) AS n FROM agency_snapshots", "--db", str(db)).output.split()[2] == "0"


def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    db = tmp_path / "none.duckdb"
    for args in (("1",), ("1", "--yes"), ()):
        result = ringwatch("remove-load", *args, "--db", str(db))
        assert result.exit_code == 1 and "no ringwatch database at" in result.output
    assert not db.exists()
