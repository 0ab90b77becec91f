"""Read a saved page from disk as a capture, so `--from-file` takes the same path as a fetch."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from ringwatch.scrapers.errors import FetchError
from ringwatch.scrapers.normalize import as_utc
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Origin

# Files are not HTTP responses; 0 marks them in captures.http_status.
FILE_STATUS = 0


def read_capture_file(path: Path, *, source: str, observed_at: datetime | None,
                      origin: Origin = Origin.FILE) -> Capture:
    """Read `path`; the observation time is `observed_at`, else the file's modification time."""
    try:
        body = path.read_bytes()
        modified = datetime.fromtimestamp(os.stat(path).st_mtime, tz=UTC)
    except OSError as exc:
        raise FetchError(f"{source}: cannot read {path}: {exc.strerror}.", url=str(path)) from exc
    return Capture(
        source=source,
        url=path.resolve().as_uri(),
        fetched_at=as_utc(observed_at) if observed_at else modified,
        http_status=FILE_STATUS,
        content_type=None,
        body=body,
        origin=origin,
    )
