"""Keep every raw body: bytes once per sha256 in a folder, one `captures` row per fetch.

Captures are written in their own small transaction as soon as bytes arrive, before any
parsing, so a page that later fails to parse is still kept for `ringwatch reparse`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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


class BlobStore:
    """A content-addressed folder: <root>/<sha[:2]>/<sha>, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, capture: Capture) -> Path:
        path = self.path_for(capture.sha256)
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(capture.body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def get(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise WarehouseError(
                f"the raw bytes {sha256} are missing from {self.root}; the capture folder "
                "beside the database was moved or pruned."
            ) from exc


def store_capture(
    con: duckdb.DuckDBPyConnection,
    store: BlobStore,
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
    con: duckdb.DuckDBPyConnection, store: BlobStore, source: str
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
        if not store.path_for(sha256).exists():
            continue  # without the bytes a 304 would leave us nothing to parse
        found[url] = Capture(
            source=source, url=url, fetched_at=fetched_at, http_status=200,
            content_type=content_type, body=store.get(sha256), etag=etag,
            last_modified=last_modified,
        )
    return found


def load_capture(con: duckdb.DuckDBPyConnection, store: BlobStore, capture_id: int) -> Capture:
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
