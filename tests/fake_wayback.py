"""A Wayback Machine on a FakeSite: CDX answers in the real JSON form (a header row, then one row
per capture, [] when none) for the map's KML export, and `id_` captures of it, synthetic maps."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from bench.synthetic_map import synthetic_map_kml
from tests.fake_site import FakeSite, Request

HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]


def fake_wayback(site: FakeSite, mid: str, archived: dict[str, int]) -> None:
    """Answer CDX queries and `id_` fetches for `archived` (timestamp -> placemark count) on the
    paths no route names."""

    def answer(r: Request) -> None:
        parts = urlsplit(r.path)
        if parts.path == "/cdx/search/cdx":
            query = parse_qs(parts.query)
            lo, hi = query["from"][0], query["to"][0]
            rows = [["test)/maps/d/kml", stamp, site.url(f"/maps/d/kml?mid={mid}&forcekml=1"),
                     "application/vnd.google-earth.kml+xml", "200", f"D{stamp}", "1000"]
                    for stamp in archived if lo <= stamp <= hi]
            r.send(200, json.dumps([HEADER, *rows] if rows else []).encode(), content_type="application/json")
            return
        found = re.match(r"^/web/(\d{14})id_/", parts.path)
        if found and found[1] in archived:
            r.send(200, synthetic_map_kml(archived[found[1]], seed=9),
                   content_type="application/vnd.google-earth.kml+xml")
            return
        r.send(404, b"not archived")

    site.fallback = answer
