"""Keep every raw body: bytes once per sha256 in a folder, one `captures` row per fetch.

Captures are written in their own small transaction as soon as bytes arrive, before any
parsing, so a page that later fails to parse is still kept for `ringwatch reparse`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import duckdb

from ringwatch.scrapers.errors import WarehouseError
from ringwatch.scrapers.normalize import as_utc
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Source

_INSERT = """
INSERT INTO captures (source, url, fetched_at, http_status, content_type, sha256, size_bytes,
                      origin, etag, last_modified, complete, parent_capture_id, run_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING capture_id
"""


def blob_dir_for(db_path: str | Path) -> Path:
    """Raw bytes live beside the database by default: ringwatch.duckdb -> ringwatch.captures/."""
    path = Path(db_path)
    return path.with_name(path.stem + ".captures")


class CaptureStore(Protocol):
    """Where raw bytes are kept, each once, under its sha256: what a sync writes and a reparse,
    a backfill or a conditional GET reads back."""

    def describe(self, sha256: str) -> str: ...
    def has(self, sha256: str) -> bool: ...
    def put(self, capture: Capture) -> str: ...
    def get(self, sha256: str) -> bytes: ...
    # A fetch run on another worker leaves the list of what it fetched here, under a name the
    # writer chose (<root>/fetches/<name>.json), for the writer to load from.
    def put_fetch_list(self, name: str, data: bytes) -> str: ...
    def get_fetch_list(self, name: str) -> bytes: ...


FETCH_LIST_NAME = re.compile(r"^[0-9a-f]{32}$")


def _fetch_list_name(name: str) -> str:
    if not FETCH_LIST_NAME.match(name):
        raise WarehouseError(f"{name!r} is not the name of a fetch list (32 hex digits, as the writer makes them).")
    return name


def _no_fetch_list(where: str) -> WarehouseError:
    return WarehouseError(f"no fetch list {where}: the fetch ran against another capture store, or failed "
                          "before it wrote one. The fetch workers and the writer must share [warehouse] captures "
                          "(RINGWATCH_CAPTURES).")


def _write_whole(path: Path, data: bytes) -> None:
    """Write under a temporary name in the same folder, then rename: a reader sees the whole
    file or none, and a crash leaves no half-written file under the real name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _checked(body: bytes, sha256: str, where: str) -> bytes:
    """Bytes that hash to the name they are stored under; anything else was changed after it was
    stored and must not be parsed as what was fetched."""
    if hashlib.sha256(body).hexdigest() != sha256:
        raise WarehouseError(
            f"the raw bytes at {where} do not hash to {sha256}: the capture store was changed after they "
            "were stored. Restore the file from a backup or a copy of the store; ringwatch will not parse them.")
    return body


class BlobStore:
    """A content-addressed folder: <root>/<sha[:2]>/<sha>, written atomically (the default,
    beside the database)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def describe(self, sha256: str) -> str:
        return str(self.path_for(sha256))

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def put(self, capture: Capture) -> str:
        path = self.path_for(capture.sha256)
        if not path.exists():
            _write_whole(path, capture.body)
        return str(path)

    def put_fetch_list(self, name: str, data: bytes) -> str:
        path = self.root / "fetches" / f"{_fetch_list_name(name)}.json"
        _write_whole(path, data)
        return str(path)

    def get_fetch_list(self, name: str) -> bytes:
        path = self.root / "fetches" / f"{_fetch_list_name(name)}.json"
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise _no_fetch_list(str(path)) from exc

    def get(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            body = path.read_bytes()
        except FileNotFoundError as exc:
            raise WarehouseError(
                f"the raw bytes {sha256} are missing from {self.root}; the capture folder "
                "beside the database was moved or pruned."
            ) from exc
        return _checked(body, sha256, str(path))


class RemoteBlobStore:
    """The same layout (<prefix>/<sha[:2]>/<sha>) on any fsspec URL, such as s3://bucket/prefix
    (ringwatch[s3]; endpoint and credentials from AWS's own variables). An object store writes an
    object whole or not at all, so no temporary name is needed; an object already there is kept."""

    def __init__(self, url: str) -> None:
        import fsspec  # type: ignore[import-untyped]

        try:
            self.fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:  # s3:// without s3fs: "Install s3fs to access S3"
            raise WarehouseError(f"cannot use the capture store {url}: {exc}. For s3:// install "
                                 "ringwatch[s3].") from exc
        self.url = url.rstrip("/")
        self.root = str(root).rstrip("/")

    def _key(self, sha256: str) -> str:
        return f"{self.root}/{sha256[:2]}/{sha256}"

    def describe(self, sha256: str) -> str:
        return f"{self.url}/{sha256[:2]}/{sha256}"

    def has(self, sha256: str) -> bool:
        with _storage_errors(self.describe(sha256)):
            return bool(self.fs.exists(self._key(sha256)))

    def put(self, capture: Capture) -> str:
        key = self._key(capture.sha256)
        with _storage_errors(self.describe(capture.sha256)):
            if not self.fs.exists(key):
                self.fs.pipe_file(key, capture.body)
        return self.describe(capture.sha256)

    def put_fetch_list(self, name: str, data: bytes) -> str:
        where = f"{self.url}/fetches/{_fetch_list_name(name)}.json"
        with _storage_errors(where):
            self.fs.pipe_file(f"{self.root}/fetches/{name}.json", data)
        return where

    def get_fetch_list(self, name: str) -> bytes:
        where = f"{self.url}/fetches/{_fetch_list_name(name)}.json"
        with _storage_errors(where):
            try:
                return bytes(self.fs.cat_file(f"{self.root}/fetches/{name}.json"))
            except FileNotFoundError as exc:
                raise _no_fetch_list(where) from exc

    def get(self, sha256: str) -> bytes:
        with _storage_errors(self.describe(sha256)):
            try:
                body = self.fs.cat_file(self._key(sha256))
            except FileNotFoundError as exc:
                raise WarehouseError(f"the raw bytes {sha256} are missing from the capture store {self.url}; "
                                     "it was pruned, or this database was written with another store.") from exc
        return _checked(bytes(body), sha256, self.describe(sha256))


@contextlib.contextmanager
def _storage_errors(where: str) -> Iterator[None]:
    """A storage failure (no bucket, no credentials, no answer) as one WarehouseError line."""
    try:
        yield
    except (WarehouseError, FileNotFoundError):
        raise
    except Exception as exc:
        # botocore's errors (no credentials, endpoint unreachable) are not OSErrors; s3fs turns the
        # service's answers (no such bucket, access denied) into OSErrors.
        from_botocore = any(k.__module__.split(".")[0] in ("botocore", "aiobotocore") for k in type(exc).__mro__)
        if not (isinstance(exc, OSError) or from_botocore):
            raise
        why = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
        raise WarehouseError(
            f"the capture store could not be reached for {where}: {why}. S3 reads its endpoint and credentials "
            "from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE).") from exc


def open_capture_store(location: str, db_path: str | Path) -> CaptureStore:
    """The store `location` names: "" is the folder beside the database (<db>.captures/), a
    plain path or file:// URL a folder, any other URL (s3://bucket/prefix) an fsspec store."""
    if not location.strip():
        return BlobStore(blob_dir_for(db_path))
    if location.startswith("file://"):
        return BlobStore(Path(location.removeprefix("file://")))
    if "://" not in location:
        return BlobStore(Path(location))
    return RemoteBlobStore(location)


def store_capture(
    con: duckdb.DuckDBPyConnection,
    store: CaptureStore,
    capture: Capture,
    *,
    run_id: int | None,
    parent_capture_id: int | None = None,
) -> int:
    """Write the bytes (once per sha256) and a row for this fetch; return its capture_id."""
    store.put(capture)
    row = con.execute(
        _INSERT,
        [
            capture.source, capture.url, as_utc(capture.fetched_at).replace(tzinfo=None),
            capture.http_status, capture.content_type, capture.sha256, capture.size_bytes,
            capture.origin, capture.etag, capture.last_modified, capture.complete,
            parent_capture_id, run_id,
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


def previous_responses(
    con: duckdb.DuckDBPyConnection, store: CaptureStore, source: str
) -> dict[str, Capture]:
    """The latest complete 200 capture per URL that carried an ETag or Last-Modified.

    These feed conditional GETs: a 304 answer then reuses the stored body.
    """
    rows = con.execute(
        """
        SELECT url, fetched_at, content_type, sha256, etag, last_modified
        FROM captures
        WHERE source = ? AND origin = 'live' AND http_status = 200 AND complete
          AND (etag IS NOT NULL OR last_modified IS NOT NULL)
        QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1
        """,
        [source],
    ).fetchall()
    found: dict[str, Capture] = {}
    for url, fetched_at, content_type, sha256, etag, last_modified in rows:
        if not store.has(sha256):
            continue  # without the bytes a 304 would leave us nothing to parse
        found[url] = Capture(
            source=source, url=url, fetched_at=fetched_at, http_status=200,
            content_type=content_type, body=store.get(sha256), etag=etag,
            last_modified=last_modified,
        )
    return found


def load_capture(con: duckdb.DuckDBPyConnection, store: CaptureStore, capture_id: int) -> Capture:
    """A stored capture with its bytes, as it was when fetched: what `reparse` re-reads."""
    row = con.execute(
        "SELECT source, url, fetched_at, http_status, content_type, sha256, origin, etag, last_modified, complete "
        "FROM captures WHERE capture_id = ?", [capture_id]).fetchone()
    if row is None:
        raise WarehouseError(f"capture {capture_id} is not in the database.")
    source, url, fetched_at, status, content_type, sha256, origin, etag, modified, complete = row
    return Capture(source=source, url=url, fetched_at=fetched_at, http_status=status, content_type=content_type,
                   body=store.get(sha256), origin=origin, etag=etag, last_modified=modified, complete=complete)


def snapshot_captures(con: duckdb.DuckDBPyConnection, source: Source,
                      quarter: Quarter | None) -> list[tuple[Quarter, int]]:
    """(quarter, capture_id) of every snapshot held, or of one quarter."""
    label = None if quarter is None else str(quarter)
    return [(Quarter.parse(str(q)), int(c)) for q, c in con.execute(
        "SELECT quarter, capture_id FROM snapshots WHERE source = ? AND (? IS NULL OR quarter = ?) "
        "ORDER BY quarter_start",
        [str(source), label, label]).fetchall()]


def report_captures(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Every capture that figures were read from, oldest first."""
    return [int(r[0]) for r in con.execute(
        "SELECT capture_id FROM le_request_counts GROUP BY capture_id ORDER BY min(observed_at), capture_id"
    ).fetchall()]
