"""Frozen records passed between the layers: fetch -> parse -> validate -> load."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from ringwatch.scrapers.normalize import parse_number
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.sources import Origin, Source


@dataclass(frozen=True, slots=True)
class Capture:
    """One HTTP response (or file) exactly as received, with its provenance.

    `body` is empty for a 304 Not Modified; the caller then reuses the stored bytes of
    the capture whose validators it sent. `complete` is False when the body was cut off.
    """

    source: str
    url: str
    fetched_at: datetime
    http_status: int
    content_type: str | None
    body: bytes
    origin: Origin = Origin.LIVE  # where the bytes came from (scrapers/sources.py)
    etag: str | None = None
    last_modified: str | None = None
    complete: bool = True
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.body).hexdigest())

    @property
    def size_bytes(self) -> int:
        return len(self.body)


@dataclass(frozen=True, slots=True)
class Agency:
    """One Placemark of the Active Agency Map, normalized.

    `position` is the placemark's 0-based order in the document, so that duplicate
    handling can be deterministic and error messages can point at the placemark.
    `data_fields` keeps every Data field we do not know by name, as written. `line` is set
    for a row of a CSV file (an Atlas export): the file line it starts on, header = line 1,
    so that messages point at the line a person sees in an editor; None for a placemark.
    """

    agency_id: str
    name: str
    agency_type: str
    type_basis: str  # "layer" when the folder name said the type, else "name"
    layer: str | None
    address: str | None
    city: str | None
    state: str | None
    active_date: date | None
    latitude: float | None
    longitude: float | None
    profile_url: str | None
    data_fields: tuple[tuple[str, str], ...] = ()
    position: int = 0
    line: int | None = None

    @property
    def metrics(self) -> tuple[tuple[str, float], ...]:
        """The unknown Data fields that hold numbers (the 2020-era video-request count)."""
        found = ((name, parse_number(value)) for name, value in self.data_fields)
        return tuple((name, number) for name, number in found if number is not None)


@dataclass(frozen=True, slots=True)
class QualityWarning:
    """A data-quality finding that did not stop the load but must be reported."""

    kind: str
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A validated set of agencies, ready to load as one quarter."""

    source: Source
    quarter: Quarter
    observed_at: datetime
    agencies: tuple[Agency, ...]
    warnings: tuple[QualityWarning, ...] = ()


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A reporting period: start and end dates (inclusive) and the label as the page wrote it."""

    start: date
    end: date
    label: str


@dataclass(frozen=True, slots=True)
class RequestFigure:
    """One labelled figure of a transparency report.

    `value` is set for an exact figure; `low`/`high` for a range such as 0-249 (never a
    guess in between). `label` is the text the figure was found under, as written.
    """

    period: Period
    country: str
    request_type: str
    outcome: str
    value: int | None
    low: int | None
    high: int | None
    label: str


@dataclass(frozen=True, slots=True)
class PageLedger:
    """How every number in a report's main content was accounted for, exactly once.

    `placed`: read as a figure (type, outcome, country, period); `explained`: not a count (a
    date or year, a period bound, a footnote marker or a number in a footnote, the other end
    of a range already placed, a percentage, a phone number or an address); `unplaced`: a
    number the reader could not place, each one also a `unplaced_number` QualityWarning that
    quotes it. A page was read completely when `unplaced` is 0.
    """

    seen: int = 0
    placed: int = 0
    explained: int = 0
    unplaced: int = 0

    @property
    def complete(self) -> bool:
        return self.unplaced == 0


@dataclass(frozen=True, slots=True)
class ReportPage:
    """A parsed transparency report page."""

    url: str
    title: str
    published_on: date | None
    periods: tuple[Period, ...]
    figures: tuple[RequestFigure, ...]
    warnings: tuple[QualityWarning, ...] = ()
    ledger: PageLedger = PageLedger()

    def reading_note(self) -> str | None:
        """The line sync and reparse print when the page holds numbers nobody placed."""
        if self.ledger.complete:
            return None
        return (f"{self.url} was not read completely: {self.ledger.unplaced:,} of {self.ledger.seen:,} numbers "
                "could not be placed; each is quoted in a warning (quality_warnings kind unplaced_number; "
                "SELECT * FROM report_pages_read).")
