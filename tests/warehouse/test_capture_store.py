"""The capture store: raw bytes beside the database by default, or on any fsspec URL (S3 here,
moto's server on 127.0.0.1); a sync writes there, a reparse reads back from there, and bytes
that were changed or removed are a clear error, never data."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from ringwatch.flows.cli import cli
from ringwatch.flows.core.settings import load_settings
from ringwatch.scrapers.errors import SettingsError, WarehouseError
from ringwatch.scrapers.records import Capture
from ringwatch.warehouse.captures import BlobStore, RemoteBlobStore, blob_dir_for, open_capture_store
from tests.conftest import FIXTURES

MAP = FIXTURES / "agency_map" / "active_agency_map_2024-01-15.kml"


def ringwatch(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def sync_map(db: Path) -> Result:
    return ringwatch("sync", "--from-file", str(MAP), "--observed-at", "2024-01-15", "--db", str(db))


def held(db: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT c.sha256, s.quarter, s.rows_loaded FROM captures c JOIN snapshots s "
                           "USING (capture_id) ORDER BY c.capture_id").fetchall()
    finally:
        con.close()


def test_by_default_the_bytes_are_beside_the_database_and_a_changed_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "ringwatch.duckdb"
    assert sync_map(db).exit_code == 0
    [(sha, quarter, count)] = held(db)
    blob = blob_dir_for(db) / sha[:2] / sha
    assert blob.read_bytes() == MAP.read_bytes() and hashlib.sha256(MAP.read_bytes()).hexdigest() == sha
    blob.write_bytes(blob.read_bytes().replace(b"Police", b"Polite"))
    result = ringwatch("reparse", "--db", str(db))
    assert result.exit_code == 1
    assert f"do not hash to {sha}" in result.output and str(blob) in result.output, result.output
    assert held(db) == [(sha, quarter, count)]  # nothing reloaded from the changed bytes


@pytest.fixture
def bucket_store(s3: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    fs, bucket = s3
    url = f"s3://{bucket}/ringwatch/captures"
    monkeypatch.setenv("RINGWATCH_CAPTURES", url)
    return fs, url


def test_a_sync_keeps_its_bytes_in_the_bucket_and_reparse_reads_them_back(
        bucket_store: tuple[Any, str], tmp_path: Path) -> None:
    fs, url = bucket_store
    db = tmp_path / "ringwatch.duckdb"
    result = sync_map(db)
    assert result.exit_code == 0, result.output
    [(sha, quarter, count)] = held(db)
    key = f"{url.removeprefix('s3://')}/{sha[:2]}/{sha}"
    fs.invalidate_cache()
    assert fs.cat_file(key) == MAP.read_bytes()
    assert not blob_dir_for(db).exists(), "the bytes went to the folder beside the database as well"

    reparsed = ringwatch("reparse", "--db", str(db))
    assert reparsed.exit_code == 0, reparsed.output
    assert held(db) == [(sha, quarter, count)]

    fs.rm(key)
    gone = ringwatch("reparse", "--db", str(db))
    assert gone.exit_code == 1
    assert f"the raw bytes {sha} are missing from the capture store {url}" in gone.output, gone.output


def test_an_object_changed_in_the_bucket_is_refused(bucket_store: tuple[Any, str]) -> None:
    fs, url = bucket_store
    store = open_capture_store(url, "unused.duckdb")
    assert isinstance(store, RemoteBlobStore)
    capture = Capture(source="agency_map", url="https://example.org/map.kml", fetched_at=None,  # type: ignore[arg-type]
                      http_status=200, content_type="application/vnd.google-earth.kml+xml", body=b"<kml/>")
    where = store.put(capture)
    assert store.has(capture.sha256) and store.get(capture.sha256) == b"<kml/>"
    assert store.put(capture) == where  # the same bytes again: kept, not written over
    fs.pipe_file(where.removeprefix("s3://"), b"<kml>edited</kml>")
    with pytest.raises(WarehouseError, match=f"do not hash to {capture.sha256}"):
        store.get(capture.sha256)


def test_a_folder_or_file_url_is_a_local_store(tmp_path: Path) -> None:
    assert isinstance(open_capture_store("", tmp_path / "w.duckdb"), BlobStore)
    assert open_capture_store("", tmp_path / "w.duckdb").root == tmp_path / "w.captures"  # type: ignore[attr-defined]
    assert open_capture_store(str(tmp_path / "kept"), "w.duckdb").root == tmp_path / "kept"  # type: ignore[attr-defined]
    assert open_capture_store(f"file://{tmp_path}/kept", "w.duckdb").root == tmp_path / "kept"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("location", "said"), [
    ("ftp://example.org/captures", "keeps no captures at ftp:// URLs"),
    ("s3://", "names no bucket"),
    (" s3://bucket/x", "white space"),
])
def test_a_capture_store_that_cannot_be_is_a_settings_error(
        location: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGWATCH_CAPTURES", location)
    with pytest.raises(SettingsError, match=said) as caught:
        load_settings()
    assert "RINGWATCH_CAPTURES" in str(caught.value)
