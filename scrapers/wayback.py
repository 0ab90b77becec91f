"""The Internet Archive's Wayback Machine: the CDX index and raw archived bytes.

CDX JSON (shared/docs/SOURCES.md section 4): a list of lists whose FIRST row is the header
(`urlkey, timestamp, original, mimetype, statuscode, digest, length`), every value a string,
timestamps `yyyyMMddhhmmss` in UTC; an empty result is `[]`. Raw bytes, without the archive's
rewriting, come from `<base>/web/<timestamp>id_/<original>`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from ringwatch.scrapers.errors import ParseError, snippet_of


@dataclass(frozen=True, slots=True)
class ArchivedCapture:
    """One row of the CDX index."""

    timestamp: str
    original: str
    mimetype: str
    statuscode: str
    digest: str

    @property
    def moment(self) -> datetime:
        return datetime.strptime(self.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)

    def raw_url(self, base: str) -> str:
        return f"{base.rstrip('/')}/web/{self.timestamp}id_/{self.original}"


_ARCHIVED = re.compile(r"^https?://[^/]+/web/\d{1,14}[a-z_]*/(https?://.+)$")


def original_url(url: str) -> str:
    """The page an archive URL (`.../web/<timestamp>id_/<original>`) holds; other URLs as they are."""
    m = _ARCHIVED.match(url)
    return m[1] if m else url


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def cdx_query_url(base: str, url: str, *, since: datetime, until: datetime, match_type: str = "exact",
                  original_filter: str | None = None) -> str:
    """The CDX query for every distinct 200 capture of `url` between two moments."""
    params: list[tuple[str, str]] = [
        ("url", url), ("output", "json"), ("from", stamp(since)), ("to", stamp(until)),
        ("matchType", match_type), ("filter", "statuscode:200"), ("collapse", "digest"),
    ]
    if original_filter:
        params.append(("filter", f"original:{original_filter}"))
    return f"{base.rstrip('/')}/cdx/search/cdx?{urlencode(params)}"


def parse_cdx(data: bytes, *, url: str) -> list[ArchivedCapture]:
    """Read a CDX JSON answer; anything but the documented shape is a ParseError."""
    try:
        rows = json.loads(data.decode("utf-8") or "[]")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"wayback: the CDX answer from {url} is not JSON ({exc}); the archive may be "
                         "down or rate limiting. Try again later.", url=url, expected="CDX JSON",
                         snippet=snippet_of(data)) from exc
    except RecursionError:
        # Python's JSON reader goes one call deeper per level of nesting; a CDX answer is two deep.
        raise ParseError(f"wayback: the CDX answer from {url} is nested too deep to read; a CDX answer "
                         "is a list of rows of text, two deep. The archive may have answered with something "
                         "else: try again later, and if it persists, please report it.", url=url,
                         expected="a JSON list of lists", snippet=snippet_of(data)) from None
    if rows == []:
        return []
    # Every value a scalar: a nested one would be turned into text below, by a recursive repr.
    if not (isinstance(rows, list) and all(isinstance(r, list) and not any(isinstance(v, list | dict) for v in r)
                                           for r in rows)):
        raise ParseError(f"wayback: the CDX answer from {url} is not a list of rows of values.", url=url,
                         expected="a JSON list of lists", snippet=snippet_of(data))
    header = [str(h) for h in rows[0]]
    missing = [f for f in ("timestamp", "original", "statuscode", "digest") if f not in header]
    if missing:
        raise ParseError(f"wayback: the CDX header from {url} lacks {', '.join(missing)} (got {header}).",
                         url=url, expected="a CDX header row first")
    index = {name: header.index(name) for name in header}
    found = []
    for row in rows[1:]:
        values = {name: str(row[i]) if i < len(row) else "" for name, i in index.items()}
        found.append(ArchivedCapture(values["timestamp"], values["original"], values.get("mimetype", ""),
                                     values["statuscode"], values["digest"]))
    return sorted(found, key=lambda c: c.timestamp)
