"""Where a release goes, and browsing it: TARGET/<id>/ written once, latest.json moved forward,
a local TARGET kept clear of the warehouse's own paths, an S3 round trip against a real
S3-compatible server (moto's, on 127.0.0.1), and Datasette serving the release's SQLite copy."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ringwatch.scrapers.errors import OutputRefused, WarehouseError
from ringwatch.warehouse.presentation.publish import store
from ringwatch.warehouse.presentation.publish.sqlite_copy import write_sqlite
from ringwatch.warehouse.presentation.publish.store import (
    Published,
    ReleaseExists,
    latest_release,
    list_releases,
    upload_release,
)

CC_BY = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
         "path": "https://creativecommons.org/licenses/by/4.0/"}
ATLAS = {"title": "EFF Atlas of Surveillance", "path": "https://atlasofsurveillance.org"}
RING = {"title": "Ring's law-enforcement transparency reports", "path": "https://ring.com/law-enforcement-guidelines"}

# (agency_id, name, state, joined, active, share): a comma and a quote, an empty name, a NULL
# date and share, text beyond ASCII.
AGENCIES = [
    (1, 'Springfield Police Department, "PD"', "IL", date(2019, 4, 1), True, 0.25),
    (2, "", "NM", None, False, None),
    (3, "Peñasco Sheriff's Office", "NM", date(2021, 1, 15), True, 1.5),
]
AGENCY_FIELDS = [
    {"name": "agency_id", "type": "integer", "description": "The agency's id."},
    {"name": "name", "type": "string", "description": "The agency's name as the source gives it."},
    {"name": "state", "type": "string", "description": "Two-letter state code."},
    {"name": "joined", "type": "date", "description": "When the agency joined, if the source says."},
    {"name": "active", "type": "boolean", "description": "On the latest map."},
    {"name": "share", "type": "number"},
]


def stage(folder: Path, quarter: str, *, requests: int = 7) -> Path:
    """A small staged release: data/*.parquet and data/*.csv (written by DuckDB's COPY), a
    datapackage.json describing them, and a README."""
    data = folder / "data"
    data.mkdir(parents=True)
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE agencies (agency_id INTEGER, name VARCHAR, state VARCHAR, joined DATE, "
                    "active BOOLEAN, share DOUBLE)")
        con.executemany("INSERT INTO agencies VALUES (?, ?, ?, ?, ?, ?)", AGENCIES)
        con.execute("CREATE TABLE figures (quarter VARCHAR, agency_id INTEGER, requests INTEGER)")
        con.executemany("INSERT INTO figures VALUES (?, ?, ?)", [(quarter, 1, requests), (quarter, 3, None)])
        for name in ("agencies", "figures"):
            con.execute(f"COPY (SELECT * FROM {name} ORDER BY agency_id) TO '{data / name}.parquet' "
                        f"(FORMAT parquet)")
            con.execute(f"COPY (SELECT * FROM {name} ORDER BY agency_id) TO '{data / name}.csv' (FORMAT csv, HEADER)")
    finally:
        con.close()
    package = {
        "name": "ringwatch-test", "title": "A test release", "version": quarter,
        "description": "Made by the test.",
        "licenses": [CC_BY], "sources": [ATLAS],
        "resources": [
            {"name": "agencies", "path": "data/agencies.csv", "format": "csv", "title": "Agencies",
             "description": "One row per agency.",
             "schema": {"fields": AGENCY_FIELDS, "primaryKey": ["agency_id"]}},
            {"name": "figures", "path": "data/figures.csv", "format": "csv", "title": "Figures",
             "licenses": [], "sources": [RING],
             "schema": {"fields": [{"name": "quarter", "type": "string", "description": "The quarter."},
                                   {"name": "agency_id", "type": "integer"},
                                   {"name": "requests", "type": "integer", "description": "Requests made."}],
                        "primaryKey": ["quarter", "agency_id"],
                        "foreignKeys": [{"fields": ["agency_id"],
                                         "reference": {"resource": "agencies", "fields": ["agency_id"]}}]}},
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(package, indent=2), encoding="utf-8")
    (folder / "README.md").write_text(f"# Release {quarter}\n", encoding="utf-8")
    return folder


def staged_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its sha256, and every folder: what must stay as it was."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def expected_agencies() -> list[dict[str, Any]]:
    """AGENCIES as the SQLite copy holds them: dates as ISO text, booleans as 1 and 0."""
    return [{"agency_id": a, "name": n, "state": s, "joined": j.isoformat() if j else None,
             "active": int(act), "share": sh} for a, n, s, j, act, sh in AGENCIES]


# --- a local TARGET ------------------------------------------------------------------------------

def test_a_local_release_is_written_whole_with_its_marker_and_the_latest_pointer(tmp_path: Path) -> None:
    staging = stage(tmp_path / "staging", "2025Q2")
    target = tmp_path / "releases"
    published = upload_release(staging, str(target), "2025Q2-aaaaaaaa")
    files = staged_files(staging)
    assert published == Published("2025Q2-aaaaaaaa", str(target), str(target / "2025Q2-aaaaaaaa"), len(files), True)
    release = target / "2025Q2-aaaaaaaa"
    assert staged_files(release) == sorted([*files, store.COMPLETE])
    assert all((release / f).read_bytes() == (staging / f).read_bytes() for f in files)
    marker = json.loads((release / store.COMPLETE).read_text(encoding="utf-8"))
    assert marker["release"] == "2025Q2-aaaaaaaa"
    assert {e["path"]: e["sha256"] for e in marker["files"]} == {
        f: hashlib.sha256((staging / f).read_bytes()).hexdigest() for f in files}
    assert json.loads((target / "latest.json").read_text(encoding="utf-8"))["release"] == "2025Q2-aaaaaaaa"
    assert sorted(p.name for p in target.iterdir()) == ["2025Q2-aaaaaaaa", "latest.json"]  # no hidden leftovers
    assert list_releases(str(target)) == ["2025Q2-aaaaaaaa"]
    assert latest_release(str(target)) == "2025Q2-aaaaaaaa"


def test_a_release_is_never_written_over(tmp_path: Path) -> None:
    target = tmp_path / "releases"
    upload_release(stage(tmp_path / "first", "2025Q2"), str(target), "2025Q2-aaaaaaaa")
    before = tree(target)
    with pytest.raises(ReleaseExists, match="already published") as refused:
        upload_release(stage(tmp_path / "second", "2025Q2", requests=99), str(target), "2025Q2-aaaaaaaa")
    assert refused.value.complete and isinstance(refused.value, OutputRefused)
    assert tree(target) == before


def test_latest_moves_to_the_newer_release_and_never_back_to_an_older_quarter(tmp_path: Path) -> None:
    target = str(tmp_path / "releases")
    assert upload_release(stage(tmp_path / "q2", "2025Q2"), target, "2025Q2-aaaaaaaa").latest
    assert upload_release(stage(tmp_path / "q3", "2025Q3"), target, "2025Q3-bbbbbbbb").latest
    assert latest_release(target) == "2025Q3-bbbbbbbb"
    # A later publish of an older quarter is kept, but `latest` stays on the newer quarter.
    older = upload_release(stage(tmp_path / "q1", "2025Q1"), target, "2025Q1-cccccccc")
    assert not older.latest and latest_release(target) == "2025Q3-bbbbbbbb"
    # The same quarter published again with other data (a corrected sync) becomes `latest`.
    assert upload_release(stage(tmp_path / "q3b", "2025Q3", requests=8), target, "2025Q3-00000000").latest
    assert latest_release(target) == "2025Q3-00000000"
    assert list_releases(target) == ["2025Q1-cccccccc", "2025Q2-aaaaaaaa", "2025Q3-bbbbbbbb", "2025Q3-00000000"]


@pytest.mark.parametrize("where", ["inside the captures folder", "the folder holding the database"])
def test_a_local_target_clear_of_the_warehouse_is_required(tmp_path: Path, where: str) -> None:
    home = tmp_path / "home"
    (home / "ringwatch.captures" / "ab").mkdir(parents=True)
    (home / "ringwatch.captures" / "ab" / "cdef").write_bytes(b"a capture")
    (home / "ringwatch.duckdb").write_bytes(b"not really a database")
    target = home / "ringwatch.captures" / "releases" if where.startswith("inside") else home
    staging = stage(tmp_path / "staging", "2025Q2")
    before = tree(home)
    with pytest.raises(OutputRefused, match="captures folder" if where.startswith("inside") else "the database"):
        upload_release(staging, str(target), "2025Q2-aaaaaaaa", db_path=home / "ringwatch.duckdb")
    assert tree(home) == before


def test_nothing_already_in_the_target_is_deleted_or_replaced(tmp_path: Path) -> None:
    target = tmp_path / "releases"
    upload_release(stage(tmp_path / "q2", "2025Q2"), str(target), "2025Q2-aaaaaaaa")
    (target / "notes.txt").write_text("the newsroom's own notes\n", encoding="utf-8")
    (target / "2025Q2-aaaaaaaa" / "annotations.txt").write_text("added by hand\n", encoding="utf-8")
    before = tree(target)
    upload_release(stage(tmp_path / "q3", "2025Q3"), str(target), "2025Q3-bbbbbbbb")
    after = tree(target)
    assert {k: v for k, v in after.items() if k in before and k != "latest.json"} == {
        k: v for k, v in before.items() if k != "latest.json"}
    assert set(before) <= set(after)


def test_a_folder_of_other_files_or_someone_elses_latest_json_is_refused(tmp_path: Path) -> None:
    staging = stage(tmp_path / "staging", "2025Q2")
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.docx").write_bytes(b"someone's work")
    with pytest.raises(OutputRefused, match="thesis.docx"):
        upload_release(staging, str(other), "2025Q2-aaaaaaaa")
    (other / "thesis.docx").unlink()
    (other / "latest.json").write_text('{"version": 3}', encoding="utf-8")
    before = tree(other)
    with pytest.raises(OutputRefused, match="latest.json is in the way"):
        upload_release(staging, str(other), "2025Q2-aaaaaaaa")
    assert tree(other) == before


def test_a_failed_copy_leaves_the_target_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "releases"
    upload_release(stage(tmp_path / "q2", "2025Q2"), str(target), "2025Q2-aaaaaaaa")
    before = tree(target)
    real_copy, copied = shutil.copyfile, []

    def copy_then_fail(src: Any, dst: Any) -> Any:
        if copied:
            raise OSError(28, "No space left on device")
        copied.append(dst)
        return real_copy(src, dst)

    monkeypatch.setattr(shutil, "copyfile", copy_then_fail)
    with pytest.raises(WarehouseError, match="No space left on device"):
        upload_release(stage(tmp_path / "q3", "2025Q3"), str(target), "2025Q3-bbbbbbbb")
    assert copied and tree(target) == before  # the hidden partial copy is gone too
    monkeypatch.undo()
    assert upload_release(stage(tmp_path / "q3b", "2025Q3"), str(target), "2025Q3-bbbbbbbb").latest


# --- S3, against moto's server on 127.0.0.1 ------------------------------------------------------

def objects(fs: Any, prefix: str) -> dict[str, bytes]:
    fs.invalidate_cache()
    return {path: fs.cat_file(path) for path in sorted(fs.find(prefix))}


def test_s3_publish_list_latest_immutability_and_read_back_with_duckdb(s3: tuple[Any, str], tmp_path: Path) -> None:
    fs, bucket = s3
    target = f"s3://{bucket}/ringwatch"
    q2, q3 = stage(tmp_path / "q2", "2025Q2"), stage(tmp_path / "q3", "2025Q3", requests=11)
    first = upload_release(q2, target, "2025Q2-aaaaaaaa")
    assert first == Published("2025Q2-aaaaaaaa", target, f"{target}/2025Q2-aaaaaaaa", len(staged_files(q2)), True)
    assert upload_release(q3, target, "2025Q3-bbbbbbbb").latest
    stored = objects(fs, f"{bucket}/ringwatch")
    release = f"{bucket}/ringwatch/2025Q3-bbbbbbbb/"
    assert sorted(p.removeprefix(release) for p in stored if p.startswith(release)) == sorted(
        [*staged_files(q3), store.COMPLETE])
    assert all(stored[release + f] == (q3 / f).read_bytes() for f in staged_files(q3))
    assert json.loads(stored[f"{bucket}/ringwatch/latest.json"])["release"] == "2025Q3-bbbbbbbb"
    assert list_releases(target) == ["2025Q2-aaaaaaaa", "2025Q3-bbbbbbbb"]
    assert latest_release(target) == "2025Q3-bbbbbbbb"

    with pytest.raises(ReleaseExists, match="already published"):
        upload_release(stage(tmp_path / "again", "2025Q3", requests=12), target, "2025Q3-bbbbbbbb")
    assert objects(fs, f"{bucket}/ringwatch") == stored

    con = duckdb.connect()
    try:
        con.register_filesystem(fs)
        read = con.execute(f"SELECT * FROM read_parquet('s3://{release}data/agencies.parquet') "
                           "ORDER BY agency_id").fetchall()
        figures = con.execute(f"SELECT requests FROM read_parquet('s3://{release}data/figures.parquet') "
                              "WHERE agency_id = 1").fetchall()
    finally:
        con.close()
    assert read == AGENCIES and figures == [(11,)]


def test_s3_leftover_of_an_interrupted_upload_is_refused_and_not_listed(s3: tuple[Any, str], tmp_path: Path) -> None:
    fs, bucket = s3
    target = f"s3://{bucket}/ringwatch"
    upload_release(stage(tmp_path / "q2", "2025Q2"), target, "2025Q2-aaaaaaaa")
    fs.pipe_file(f"{bucket}/ringwatch/2025Q3-bbbbbbbb/data/agencies.csv", b"half an upload")
    before = objects(fs, bucket)
    with pytest.raises(ReleaseExists, match="not a whole release") as refused:
        upload_release(stage(tmp_path / "q3", "2025Q3"), target, "2025Q3-bbbbbbbb")
    assert not refused.value.complete
    assert objects(fs, bucket) == before
    assert list_releases(target) == ["2025Q2-aaaaaaaa"] and latest_release(target) == "2025Q2-aaaaaaaa"


# --- the SQLite copy and Datasette ---------------------------------------------------------------

def sqlite_rows(db: Path, table: str) -> list[dict[str, Any]]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f'SELECT * FROM "{table}" ORDER BY rowid')]
    finally:
        con.close()


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def test_the_sqlite_copy_has_typed_columns_keys_and_the_csv_rows(tmp_path: Path) -> None:
    staging = stage(tmp_path / "staging", "2025Q2")
    db, meta = write_sqlite(staging)
    assert (db, meta) == (staging / "ringwatch.sqlite", staging / "metadata.json")
    assert sorted(p.name for p in staging.iterdir()) == ["README.md", "data", "datapackage.json", "metadata.json",
                                                         "ringwatch.sqlite"]
    con = sqlite3.connect(db)
    try:
        columns = {r[1]: (r[2], r[5]) for r in con.execute("PRAGMA table_info(agencies)")}
        assert columns == {"agency_id": ("INTEGER", 1), "name": ("TEXT", 0), "state": ("TEXT", 0),
                           "joined": ("TEXT", 0), "active": ("INTEGER", 0), "share": ("REAL", 0)}
        assert [(r[1], r[5]) for r in con.execute("PRAGMA table_info(figures)") if r[5]] == [
            ("quarter", 1), ("agency_id", 2)]
        assert [(r[2], r[3], r[4]) for r in con.execute("PRAGMA foreign_key_list(figures)")] == [
            ("agencies", "agency_id", "agency_id")]
    finally:
        con.close()
    rows = sqlite_rows(db, "agencies")
    assert rows == expected_agencies()
    # The CSV says the same, value for value (csv reads NULL and "" alike as an empty field).
    assert [[("" if v is None else str(v)) for v in r.values()] for r in rows] == [
        [c.replace("true", "1").replace("false", "0") if i == 4 else c for i, c in enumerate(row)]
        for row in csv_rows(staging / "data" / "agencies.csv")]
    assert sqlite_rows(db, "figures") == [{"quarter": "2025Q2", "agency_id": 1, "requests": 7},
                                          {"quarter": "2025Q2", "agency_id": 3, "requests": None}]
    # Without the Parquet files the copy is made from the CSVs, and holds the same rows ("" is not NULL).
    for parquet in (staging / "data").glob("*.parquet"):
        parquet.unlink()
    write_sqlite(staging)
    assert sqlite_rows(db, "agencies") == rows


def test_the_datasette_metadata_credits_each_table_by_its_own_licence_and_source(tmp_path: Path) -> None:
    _, meta = write_sqlite(stage(tmp_path / "staging", "2025Q2"))
    metadata = json.loads(meta.read_text(encoding="utf-8"))
    tables = metadata["databases"]["ringwatch"]["tables"]
    assert tables["agencies"]["license"] == CC_BY["title"] and tables["agencies"]["license_url"] == CC_BY["path"]
    assert tables["agencies"]["source"] == ATLAS["title"] and tables["agencies"]["source_url"] == ATLAS["path"]
    assert tables["agencies"]["columns"]["joined"] == "When the agency joined, if the source says."
    # figures declares no licence and its own source: Datasette must not show the package's for it.
    assert "license" not in tables["figures"] and "license" not in metadata and "license_url" not in metadata
    assert tables["figures"]["source"] == RING["title"] and "source" not in metadata


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(opener: urllib.request.OpenerDirector, url: str) -> Any:
    with opener.open(url, timeout=5) as response:
        return json.loads(response.read())


def test_datasette_serves_the_sqlite_copy(tmp_path: Path) -> None:
    pytest.importorskip("datasette")
    staging = stage(tmp_path / "staging", "2025Q2")
    db, meta = write_sqlite(staging)
    port = free_port()
    log = (tmp_path / "datasette.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", str(db), "--metadata", str(meta), "-h", "127.0.0.1",
         "-p", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 never through a proxy
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "datasette.log").read_text(errors="replace")
            with contextlib.suppress(urllib.error.URLError, ConnectionError):
                get_json(opener, f"{base}/-/versions.json")
                break
            assert time.monotonic() < deadline, "datasette did not answer within 30 s"
            time.sleep(0.1)
        rows = get_json(opener, f"{base}/ringwatch/agencies.json?_shape=array")
        served_metadata = get_json(opener, f"{base}/-/metadata.json")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    assert rows == expected_agencies()
    assert [[("" if v is None else str(v)) for v in r.values()] for r in rows] == [
        [c.replace("true", "1").replace("false", "0") if i == 4 else c for i, c in enumerate(row)]
        for row in csv_rows(staging / "data" / "agencies.csv")]
    table = served_metadata["databases"]["ringwatch"]["tables"]["agencies"]
    assert (table["license"], table["license_url"]) == (CC_BY["title"], CC_BY["path"])
