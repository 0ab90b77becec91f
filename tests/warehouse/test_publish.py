"""ringwatch publish: a release that validates as a Frictionless Data Package, says where every
row came from and who to credit, holds nothing of the machine that made it, and is never
overwritten.

One warehouse is built per module, through the real loaders and the command line: the
report database of tests/report_db.py (four origins with web addresses, two transparency
reports), then saved maps and an EFF Atlas export loaded from files in a folder with a space
in its name, and a failed sync whose error names that file. Its runs record a made-up host
name and process id (markers no release may hold), and it is published once through the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from ringwatch.flows.cli import cli
from ringwatch.warehouse.captures import blob_dir_for
from ringwatch.warehouse.presentation.publish.provenance import ATLAS_CREDIT, CC_BY_4_URL
from ringwatch.warehouse.presentation.publish.relations import RELATIONS
from ringwatch.warehouse.presentation.publish.scrub import file_name, scrub_html, scrub_text, web_url
from tests.conftest import FIXTURES
from tests.report_db import build_report_db

frictionless = pytest.importorskip("frictionless")

MARKER_HOST = "publish-test-host-7c1e9a"
MARKER_PID = 918273645
ATLAS_FIXTURE = FIXTURES / "identity" / "Atlas of Surveillance-20200807.csv"
RELEASE_ID = re.compile(r"^(\d{4}Q[1-4])-([0-9a-f]{8})$")


@dataclass(frozen=True)
class Built:
    db: Path
    saved: Path  # the folder the saved maps and the Atlas export were loaded from
    target: Path
    release: Path  # target/<release id>
    release_id: str
    output: str  # what `ringwatch publish` printed


def ringwatch(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def load(db: Path, *args: str) -> Result:
    result = ringwatch(*args, "--db", str(db))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("publish")
    saved = folder / "Saved pages"
    saved.mkdir()
    for name in ("map_2020-06-28_layer.kml", "map_2021-12-29_profiles.kml"):
        shutil.copyfile(FIXTURES / "identity" / name, saved / name)
    shutil.copyfile(ATLAS_FIXTURE, saved / ATLAS_FIXTURE.name)
    (saved / "broken map.kml").write_text("<html><body>Sign in</body></html>", encoding="utf-8")
    db = folder / "ringwatch.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ringwatch.warehouse.runs.HOST", MARKER_HOST)
        build_report_db(db)  # 2023Q1-2024Q2: wayback, atlas, file and live origins, web addresses
        load(db, "sync", "--from-file", str(saved / "map_2020-06-28_layer.kml"), "--observed-at", "2020-06-28")
        load(db, "import-atlas", str(saved / ATLAS_FIXTURE.name), "--observed-at", "2020-09-30")
        load(db, "sync", "--from-file", str(saved / "map_2021-12-29_profiles.kml"), "--observed-at", "2021-12-29")
        failed = ringwatch("sync", "--from-file", str(saved / "broken map.kml"), "--observed-at", "2022-03-30",
                           "--db", str(db))
        assert failed.exit_code == 1 and "broken%20map.kml" in failed.output
    con = duckdb.connect(str(db))
    con.execute("UPDATE sync_runs SET pid = ?", [MARKER_PID])
    # What the release must leave out is there to leave out.
    marked, runs = con.execute("SELECT count(*) FILTER (WHERE host = ? AND pid = ?), count(*) FROM sync_runs",
                               [MARKER_HOST, MARKER_PID]).fetchone()  # type: ignore[misc]
    assert marked == runs == 10
    assert con.execute("SELECT count(*) FROM captures WHERE url LIKE 'file://%'").fetchone() == (4,)
    assert con.execute("SELECT count(*) FROM sync_runs WHERE error LIKE '%file://%'").fetchone() == (1,)
    con.close()
    target = folder / "releases"
    result = ringwatch("publish", "--out", str(target), "--db", str(db))
    assert result.exit_code == 0, result.output
    [release_id] = re.findall(r"published release (\S+) ", result.output)
    return Built(db, saved, target, target / release_id, release_id, result.output)


def package(built: Built) -> dict:
    return json.loads((built.release / "datapackage.json").read_text(encoding="utf-8"))


def rows(built: Built, name: str) -> list[dict]:
    con = duckdb.connect()
    try:
        result = con.execute("SELECT * FROM read_parquet(?)", [str(built.release / "data" / f"{name}.parquet")])
        columns = [d[0] for d in result.description]
        return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def test_the_cli_says_what_it_published_and_latest_names_it(built: Built) -> None:
    assert RELEASE_ID.match(built.release_id)
    files = sorted(p for p in built.release.rglob("*") if p.is_file() and p.name != "_complete")
    assert f"published release {built.release_id} (" in built.output
    assert f"to {built.release}: {len(files)} files." in built.output
    assert json.loads((built.target / "latest.json").read_text(encoding="utf-8"))["release"] == built.release_id
    names = {p.relative_to(built.release).as_posix() for p in files}
    assert {"datapackage.json", "README.md", "CITATION.cff", "CHANGES.md", "report.html", "ringwatch.sqlite",
            "metadata.json"} <= names
    assert any(n.startswith("charts/") and n.endswith(".png") for n in names)
    for relation in RELATIONS:
        assert {f"data/{relation.name}.csv", f"data/{relation.name}.parquet"} <= names, relation.name


def test_the_release_validates_as_a_frictionless_data_package(built: Built) -> None:
    report = frictionless.validate(str(built.release / "datapackage.json"))
    errors = [(t.name, e.type, e.note) for t in report.tasks for e in t.errors] + [e.note for e in report.errors]
    assert report.valid, errors[:10]
    assert len(report.tasks) == len(RELATIONS)


def test_the_release_id_is_the_latest_quarter_and_a_hash_of_the_data_files(built: Built) -> None:
    quarter, digest = RELEASE_ID.match(built.release_id).groups()  # type: ignore[union-attr]
    con = duckdb.connect(str(built.db), read_only=True)
    latest = con.execute("SELECT arg_max(quarter, quarter_start) FROM snapshots").fetchone()
    con.close()
    assert latest == (quarter,) == ("2024Q2",)
    lines = sorted(f"{p.relative_to(built.release).as_posix()} {hashlib.sha256(p.read_bytes()).hexdigest()}\n"
                   for p in (built.release / "data").iterdir())
    assert hashlib.sha256("".join(lines).encode()).hexdigest()[:8] == digest
    meta = package(built)
    assert meta["version"] == built.release_id and meta["ringwatch"]["quarter"] == quarter


def test_every_table_has_a_schema_with_descriptions_and_the_keys_the_data_holds(built: Built) -> None:
    meta = package(built)
    resources = {r["name"]: r for r in meta["resources"]}
    assert list(resources) == [r.name for r in RELATIONS]
    assert "Keys not declared" not in (built.release / "README.md").read_text(encoding="utf-8")
    con = duckdb.connect()
    for relation in RELATIONS:
        resource = resources[relation.name]
        schema = resource["schema"]
        assert resource["title"] and len(resource["description"]) > 30, relation.name
        assert all(f.get("description") for f in schema["fields"]), relation.name
        assert schema.get("primaryKey", []) == list(relation.primary_key), relation.name
        declared = {(tuple(k["fields"]), k["reference"]["resource"] or relation.name) for k in schema.get(
            "foreignKeys", [])}
        assert {(k.fields, k.resource) for k in relation.foreign_keys} <= declared, relation.name
        if "source_name" in {f["name"] for f in schema["fields"]} and relation.name != "data_sources":
            assert (("source_name",), "data_sources") in declared, relation.name
        # Checked here too, on the Parquet file, not only by frictionless on the CSV.
        path = str(built.release / "data" / f"{relation.name}.parquet")
        if relation.primary_key:
            cols = ", ".join(f'"{c}"' for c in relation.primary_key)
            total, distinct = con.execute(f"SELECT count(*), count(DISTINCT ({cols})) FROM read_parquet(?)",
                                          [path]).fetchone()  # type: ignore[misc]
            assert total == distinct, relation.name
    con.close()
    # Every table the warehouse describes has its words in the release, column for column.
    con = duckdb.connect(str(built.db), read_only=True)
    comment = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'agency_snapshots' "
                          "AND column_name = 'active_date'").fetchone()
    con.close()
    fields = {f["name"]: f for f in resources["agency_snapshots"]["schema"]["fields"]}
    assert comment is not None and fields["active_date"]["description"] == comment[0]
    assert fields["active_date"]["type"] == "date" and fields["observed_at"]["type"] == "datetime"
    assert fields["latitude"]["type"] == "number" and fields["capture_id"]["type"] == "integer"
    assert resources["agencies"]["schema"]["primaryKey"] == ["agency_id"]


def test_agency_and_figure_rows_say_where_they_came_from(built: Built) -> None:
    con = duckdb.connect(str(built.db), read_only=True)
    held = dict(con.execute("SELECT quarter, origin FROM snapshots WHERE source = 'agency_map'").fetchall())
    fetched = dict(con.execute("SELECT capture_id, url FROM captures").fetchall())
    by_origin = dict(con.execute("SELECT s.origin, count(*) FROM agency_snapshots AS a JOIN snapshots AS s "
                                 "ON s.source = 'agency_map' AND s.quarter = a.quarter GROUP BY 1").fetchall())
    con.close()
    assert set(by_origin) == {"live", "file", "wayback", "atlas"}
    snapshots = rows(built, "agency_snapshots")
    published: dict[str, int] = {}
    for row in snapshots:
        assert row["origin"] == held[row["quarter"]]
        assert re.fullmatch(r"[0-9a-f]{64}", row["capture_sha256"])
        assert row["observed_on"] == row["observed_at"].date()
        url = fetched[row["capture_id"]]
        assert row["source_url"] == (url if url.startswith("https://") else None)
        published[row["origin"]] = published.get(row["origin"], 0) + 1
    assert published == by_origin
    # Both kinds are there: web addresses kept, files (saved maps, the Atlas export) without one.
    assert {r["origin"] for r in snapshots if r["source_url"] is None} == {"file", "atlas"}
    assert {r["origin"] for r in snapshots if r["source_url"]} == {"live", "wayback", "file", "atlas"}
    figures = rows(built, "le_request_counts")
    assert figures and all(f["source_url"].startswith("https://") and f["source_name"] ==
                           "Ring law-enforcement transparency reports" and f["license"] == "none known"
                           for f in figures)
    counts = rows(built, "agency_counts_by_quarter")
    assert {c["quarter"]: c["origin"] for c in counts} == held
    captures = {c["capture_id"]: c for c in rows(built, "captures")}
    assert {c["file_name"] for c in captures.values() if c["url"] is None} == {
        "map_2020-06-28_layer.kml", "map_2021-12-29_profiles.kml", ATLAS_FIXTURE.name, "broken map.kml"}


def test_atlas_rows_credit_eff_and_ring_rows_say_no_licence_is_known(built: Built) -> None:
    snapshots = rows(built, "agency_snapshots")
    atlas = [r for r in snapshots if r["origin"] == "atlas"]
    ring = [r for r in snapshots if r["origin"] != "atlas"]
    assert len(atlas) > 10 and ring
    assert {(r["source_name"], r["license"]) for r in atlas} == {("EFF Atlas of Surveillance", "CC-BY-4.0")}
    assert {(r["source_name"], r["license"]) for r in ring} == {("Ring Active Agency Map", "none known")}
    sources = {s["source_name"]: s for s in rows(built, "data_sources")}
    assert sources["EFF Atlas of Surveillance"]["credit"] == ATLAS_CREDIT
    assert sources["EFF Atlas of Surveillance"]["license_url"] == CC_BY_4_URL
    resources = {r["name"]: r for r in package(built)["resources"]}
    licences = {x["name"]: x for x in resources["agency_snapshots"]["licenses"]}
    assert licences["CC-BY-4.0"]["path"] == CC_BY_4_URL and "notspecified" in licences
    assert {"EFF Atlas of Surveillance", "Ring Active Agency Map"} <= {
        s["title"] for s in resources["agency_snapshots"]["sources"]}
    assert [x["name"] for x in resources["le_request_counts"]["licenses"]] == ["notspecified"]
    assert {x["name"] for x in package(built)["licenses"]} == {"CC-BY-4.0", "notspecified"}
    readme = (built.release / "README.md").read_text(encoding="utf-8")
    assert ATLAS_CREDIT in readme and "No licence granted by Ring is known" in readme
    assert "check the exact credit wording against atlasofsurveillance.org before print" in readme
    import yaml

    citation = yaml.safe_load((built.release / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["version"] == built.release_id
    assert citation["authors"] and citation["message"] and citation["title"]
    atlas_reference = next(r for r in citation["references"] if r["title"] == "Atlas of Surveillance")
    assert atlas_reference["license"] == "CC-BY-4.0" and atlas_reference["notes"] == ATLAS_CREDIT


def _forbidden(built: Built) -> dict[str, bytes]:
    """What no file of the release may contain, each with what it is."""
    found = {
        "the folder the files were loaded from": str(built.saved).encode(),
        "the test's temporary folder": str(built.db.parent).encode(),
        "the database path": str(built.db).encode(),
        "the fixtures folder": str(FIXTURES).encode(),
        "the home folder": (str(Path.home()) + os.sep).encode(),
        "the system's temporary folder": (tempfile.gettempdir().rstrip(os.sep) + os.sep).encode(),
        "a file URL": b"file:/",
        "the runs' host name": MARKER_HOST.encode(),
        "the runs' process id": str(MARKER_PID).encode(),
    }
    return found


def test_no_file_of_the_release_holds_a_local_path_a_host_name_or_a_process_id(built: Built) -> None:
    forbidden = _forbidden(built)
    files = [p for p in built.target.rglob("*") if p.is_file()]
    assert len(files) > 70
    for path in files:
        content = path.read_bytes()
        for what, needle in forbidden.items():
            assert needle not in content, f"{path.relative_to(built.target)} holds {what}"
    # Parquet compresses its text: read every value back.
    con = duckdb.connect()
    for path in (built.release / "data").glob("*.parquet"):
        text = json.dumps(con.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall(), default=str)
        for what, needle in forbidden.items():
            assert needle.decode() not in text, f"{path.name} holds {what}"
    con.close()
    runs = rows(built, "sync_runs")
    assert "host" not in runs[0] and "pid" not in runs[0]
    assert {r["file_name"] for r in runs if r["status"] == "failed"} == {"broken map.kml"}
    [failed] = [r for r in runs if r["status"] == "failed"]
    assert "broken map.kml returned an HTML page" in failed["error"]
    real = (socket.gethostname(), str(os.getpid()))
    for row in runs:
        assert not set(real) & {str(v) for v in row.values()}


@pytest.mark.parametrize(("text", "expected"), [
    ("agency_map: file:///tmp/x/my%20exports/broken%20map.kml returned an HTML page",
     "agency_map: broken map.kml returned an HTML page"),
    ("cannot read /home/alice/maps/2024.kml: no such file.", "cannot read 2024.kml: no such file."),
    ("see /srv/ringwatch/exports/a.csv.", "see a.csv."),
    ("'~/Downloads/Atlas of Surveillance-20200807.csv'", "'Atlas of Surveillance-20200807.csv'"),
    ("read C:\\Users\\bob\\maps\\map.kml today", "read map.kml today"),
    ("file:/var/data/x.kml", "x.kml"),
    # Left alone: web addresses, relative paths, fractions, dates, prose with slashes.
    ("https://web.archive.org/web/2020/https://www.google.com/maps/d/kml?mid=1",
     "https://web.archive.org/web/2020/https://www.google.com/maps/d/kml?mid=1"),
    ("data/agencies.csv and/or 1/2 of 2020/01/02", "data/agencies.csv and/or 1/2 of 2020/01/02"),
    ("Subpoenas / Requests received", "Subpoenas / Requests received"),
])
def test_scrub_text_keeps_a_local_file_by_its_base_name_only(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_scrub_text_replaces_known_roots_with_spaces_first() -> None:
    root = "/home/Jane Smith"
    assert scrub_text(f"failed on {root}/My Maps/map 1.kml", [root]) == "failed on ~/My Maps/map 1.kml"
    assert "Jane" in scrub_text(f"failed on {root}/My Maps/map 1.kml")  # why the roots are given
    # A root's letters inside a web address are not a path.
    assert scrub_text("https://example.org/tmp/x/y and /tmp/my dir/c.kml", ["/tmp"]) == (
        "https://example.org/tmp/x/y and ~/my dir/c.kml")


def test_scrub_html_keeps_inlined_images_whole() -> None:
    image = "data:image/png;base64,iVBORw0KGgo/AAAA/BBBB+/CCCC/DDDD=="
    page = f'<p>failed: file:///srv/x/map%201.kml and /srv/y/z.kml</p><img src="{image}"><p>/a/b/c.png</p>'
    assert scrub_html(page) == f'<p>failed: map 1.kml and z.kml</p><img src="{image}"><p>c.png</p>'
    assert scrub_text(image) != image  # what would happen to it otherwise


def test_urls_are_kept_only_when_they_are_web_addresses() -> None:
    assert web_url("https://example.org/a") == "https://example.org/a"
    assert web_url("file:///tmp/a.kml") is None and web_url("/tmp/a.kml") is None and web_url(None) is None
    assert file_name("file:///tmp/my%20dir/a%20b.kml") == "a b.kml"
    assert file_name("/tmp/x/Atlas.csv") == "Atlas.csv" and file_name("relative/b.kml") == "b.kml"
    assert file_name("https://example.org/a.kml") is None and file_name(None) is None


def test_publishing_the_same_data_again_writes_nothing(built: Built) -> None:
    before = {p: p.stat().st_mtime_ns for p in built.target.rglob("*")}
    result = ringwatch("publish", "--out", str(built.target), "--db", str(built.db))
    assert result.exit_code == 0, result.output
    assert f"release {built.release_id} is already published at {built.target}/{built.release_id}" in result.output
    assert "Nothing was written" in result.output
    assert {p: p.stat().st_mtime_ns for p in built.target.rglob("*")} == before


def test_a_target_in_the_way_of_the_database_is_refused_before_anything_is_written(built: Built) -> None:
    for target in (built.db.parent, blob_dir_for(built.db) / "releases"):
        result = ringwatch("publish", "--out", str(target), "--db", str(built.db))
        assert result.exit_code == 1 and "will not write the release to" in result.output, result.output
    assert not (blob_dir_for(built.db) / "releases").exists()
    assert not (built.db.parent / "latest.json").exists()


def test_a_missing_or_unsupported_target_is_bad_usage(built: Built, tmp_path: Path) -> None:
    result = ringwatch("publish", "--db", str(built.db))
    assert result.exit_code == 2 and "no publish target: give --out TARGET, or set [publish] target" in result.output
    result = ringwatch("publish", "--out", "ftp://example.org/releases", "--db", str(built.db))
    assert result.exit_code == 2 and "does not publish to ftp:// URLs" in result.output
    config = tmp_path / "settings.toml"
    config.write_text('[publish]\ntarget = "gs://bucket/x"\n', encoding="utf-8")
    result = ringwatch("status", "--config", str(config), "--db", str(built.db))
    assert result.exit_code == 2 and f"{config}: [publish] target = 'gs://bucket/x'" in result.output


def test_new_data_makes_a_second_release_beside_the_first_and_latest_names_it(
        built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing from the settings' [publish] target. The report is drawn by the first
    publish (checked above); here a one-line page stands in for it, to keep the test fast."""
    from ringwatch.warehouse.presentation.publish import release as release_module
    from ringwatch.warehouse.presentation.publish.store import latest_release, list_releases
    from ringwatch.warehouse.presentation.report.build import ReportFiles

    def quick_report(db_path: Path, out: Path, **kwargs: object) -> ReportFiles:
        out.write_text("<html>report</html>", encoding="utf-8")
        return ReportFiles(out, (), 0, (), False)

    monkeypatch.setattr(release_module, "build_report", quick_report)
    db = shutil.copyfile(built.db, tmp_path / "copy.duckdb")
    first = {p.relative_to(built.release): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in built.release.rglob("*") if p.is_file()}
    target = tmp_path / "releases"
    shutil.copytree(built.target, target)
    load(db, "sync", "--from-file", str(FIXTURES / "agency_map" / "active_agency_map_2024-01-15.kmz"),
         "--observed-at", "2024-09-29", "--force")  # 8 agencies after 51: past the drop gate
    config = tmp_path / "settings.toml"
    config.write_text(f'[publish]\ntarget = "{target}"\n', encoding="utf-8")
    result = ringwatch("publish", "--config", str(config), "--db", str(db))
    assert result.exit_code == 0, result.output
    [second] = re.findall(r"published release (\S+) ", result.output)
    assert second != built.release_id and second.startswith("2024Q3-")
    assert list_releases(str(target)) == [built.release_id, second]
    assert latest_release(str(target)) == second
    assert f"latest.json in {target} now names {second}." in result.output
    assert {p.relative_to(target / built.release_id): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (target / built.release_id).rglob("*") if p.is_file()} == first


@pytest.mark.prefect
def test_the_sync_flow_publishes_after_a_successful_sync(prefect_server: None, tmp_path: Path) -> None:
    from ringwatch.flows.orchestration.sync import sync
    from ringwatch.warehouse.presentation.publish.store import latest_release, list_releases

    target = tmp_path / "releases"
    config = tmp_path / "settings.toml"
    config.write_text(f'[publish]\ntarget = "{target}"\n', encoding="utf-8")
    db = tmp_path / "r.duckdb"
    sync(source="agency_map", from_file=str(FIXTURES / "identity" / "map_2021-12-29_profiles.kml"),
         quarter="2021Q4", db_path=str(db), config_path=str(config))
    [release] = list_releases(str(target))
    assert release.startswith("2021Q4-") and latest_release(str(target)) == release
