"""Fetch from the Internet Archive: CDX answers and archived bytes."""

from __future__ import annotations

from dataclasses import replace

from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Origin
from ringwatch.scrapers.wayback import ArchivedCapture, parse_cdx


def fetch_cdx(client: PoliteClient, query_url: str, *, source: str) -> tuple[Capture, list[ArchivedCapture]]:
    capture = client.fetch(query_url, source=source)
    capture = replace(capture, origin=Origin.WAYBACK)
    return capture, parse_cdx(capture.body, url=query_url)


def fetch_archived(client: PoliteClient, snapshot: ArchivedCapture, *, base: str, source: str) -> Capture:
    """The archived bytes, recorded as observed at the archive's timestamp."""
    capture = client.fetch(snapshot.raw_url(base), source=source)
    return replace(capture, origin=Origin.WAYBACK, fetched_at=snapshot.moment)
