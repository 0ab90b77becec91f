"""Fetch Ring's Active Agency Map: the wrapper KML, then its NetworkLink target."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urljoin

from ringwatch.scrapers.agency_map import SOURCE, read_kml
from ringwatch.scrapers.errors import FetchError, ParseError
from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.records import Capture

# How many NetworkLinks deep we follow before calling it a loop.
MAX_LINK_DEPTH = 3


def fetch_agency_map(client: PoliteClient, url: str, *,
                     previous: dict[str, Capture] | None = None) -> list[Capture]:
    """Fetch the map, following the wrapper's NetworkLink; return every capture in order.

    The last capture holds the Placemarks. `previous` maps a URL to its last complete
    capture; its ETag / Last-Modified are sent, and a 304 answer comes back as a capture
    with status 304 carrying those stored bytes, so the link can still be followed.
    """
    previous = previous or {}
    captures: list[Capture] = []
    current = url
    for _depth in range(MAX_LINK_DEPTH + 1):
        known = previous.get(current)
        capture = client.fetch(
            current, source=SOURCE,
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
        )
        if capture.http_status == 304 and known is not None:
            capture = replace(capture, body=known.body, content_type=known.content_type,
                              etag=capture.etag or known.etag,
                              last_modified=capture.last_modified or known.last_modified)
        captures.append(capture)
        try:
            links = read_kml(capture.body, url=current, links_only=True,
                             max_inflated_bytes=client.settings.inflate_limit).network_links
        except ParseError:
            return captures  # not ours to judge here: the parse step reports it, bytes kept
        if not links:
            return captures
        current = urljoin(current, links[0])
    raise FetchError(
        f"{SOURCE}: more than {MAX_LINK_DEPTH} nested NetworkLinks starting at {url}; "
        "the export layout has changed, check SOURCES.md section 1.",
        url=url,
    )
