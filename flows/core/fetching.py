"""Fetch on any worker, load on the writer: what a live fetch brought back, in a form that travels.

A sync normally fetches and loads in one process. With [flow] fetch_deployment set, the Prefect
`sync` flow (run where the warehouse is) asks a `fetch` flow run on another worker to do the slow,
polite part. That run touches only the network and the capture store: it puts each body in the
store under its sha256, then a fetch list (JSON, written here) naming what it fetched, in order.
The writer reads the list back, takes each body from the store (checked against its sha256), and
loads the pages as if it had fetched them itself. Conditional GETs still work across workers: the
writer sends the validators it holds, and the fetch worker reads their bodies from the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import StepRunner, inline
from ringwatch.scrapers.errors import RingwatchError, WarehouseError
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Origin, Source
from ringwatch.warehouse.captures import CaptureStore, open_capture_store
from ringwatch.warehouse.read import previous_responses_if_free

if TYPE_CHECKING:  # the network stack is imported by the fetch itself: a load from a file needs none of it
    from ringwatch.scrapers.http import PoliteClient

FORMAT = "ringwatch-fetch-list/1"
Validators = dict[str, dict[str, str | None]]  # url -> what a conditional GET needs, JSON-ready


@dataclass(frozen=True, slots=True)
class FetchedPages:
    """One source's live fetch: every capture in order; for the reports, which URLs are report
    pages to read and which of those were only discovered by following links."""

    source: Source
    captures: tuple[Capture, ...]
    report_urls: tuple[str, ...] = ()
    discovered: frozenset[str] = frozenset()


class RemoteFetch(Protocol):
    """Fetches one source somewhere else and hands back what it got (flows/orchestration/fetch.py)."""

    def __call__(self, source: Source, previous: dict[str, Capture]) -> FetchedPages: ...


def fetch_here(settings: Settings, source: Source, previous: dict[str, Capture], client: PoliteClient, *,
               step: StepRunner = inline, on_capture: Callable[[Capture], None] = lambda c: None) -> FetchedPages:
    """The live fetch of one source, in this process: the map (following its NetworkLink, with
    conditional GETs from `previous`), or the report pages (indexes first). `on_capture` sees each
    report page as it arrives, so a caller can keep the ones before a failure."""
    from ringwatch.scrapers.agency_map_fetch import fetch_agency_map
    from ringwatch.scrapers.transparency_fetch import fetch_reports

    if source is Source.AGENCY_MAP:
        captures = step("fetch-agency-map", fetch_agency_map, client, settings.map_url(), previous=previous)
        return FetchedPages(source, tuple(captures))
    sources = settings.transparency_sources()
    fetched = step("fetch-transparency", fetch_reports, client, report_urls=list(sources.report_urls),
                   index_urls=list(sources.index_urls), on_capture=on_capture)
    return FetchedPages(source, tuple(fetched.captures), tuple(fetched.report_urls), frozenset(fetched.discovered))


def validators_of(previous: dict[str, Capture]) -> Validators:
    """What the fetch worker needs for conditional GETs: the validators, and the sha256 of the
    body a 304 answer stands for (the worker reads it from the store)."""
    return {url: {"sha256": c.sha256, "etag": c.etag, "last_modified": c.last_modified,
                  "content_type": c.content_type, "fetched_at": c.fetched_at.isoformat()}
            for url, c in previous.items()}


def previous_from(validators: Validators, store: CaptureStore, source: Source) -> dict[str, Capture]:
    """The writer's stored captures again, bodies read from the shared store; a body the store
    no longer has is left out (the GET is then unconditional), as on the writer itself."""
    found: dict[str, Capture] = {}
    for url, held in validators.items():
        sha256 = held.get("sha256") or ""
        if not store.has(sha256):
            continue
        found[url] = Capture(source=source, url=url, fetched_at=datetime.fromisoformat(str(held["fetched_at"])),
                             http_status=200, content_type=held.get("content_type"), body=store.get(sha256),
                             etag=held.get("etag"), last_modified=held.get("last_modified"))
    return found


def stored_validators(settings: Settings) -> dict[str, Validators]:
    """The map's stored validators, read now without the writer slot, so that a fetch elsewhere
    can start while this run still waits for the slot; {} when a writer has the warehouse open
    (or there is none yet): that fetch is then unconditional, one full download."""
    store = open_capture_store(settings.captures, settings.db_path)
    previous = previous_responses_if_free(settings.db_path, store, Source.AGENCY_MAP)
    return {Source.AGENCY_MAP.value: validators_of(previous)} if previous else {}


def fetch_list(fetched: dict[Source, FetchedPages | str]) -> bytes:
    """The list a fetch worker leaves in the store: per source, every field of each capture but
    its body, or the one line that says why that source's fetch failed."""
    listed: dict[str, Any] = {}
    for source, pages in fetched.items():
        if isinstance(pages, str):
            listed[source.value] = {"error": pages}
            continue
        listed[source.value] = {
            "captures": [{"url": c.url, "fetched_at": c.fetched_at.isoformat(), "http_status": c.http_status,
                          "content_type": c.content_type, "sha256": c.sha256, "origin": c.origin.value,
                          "etag": c.etag, "last_modified": c.last_modified, "complete": c.complete}
                         for c in pages.captures],
            "report_urls": list(pages.report_urls), "discovered": sorted(pages.discovered)}
    return json.dumps({"format": FORMAT, "sources": listed}, indent=1).encode()


def read_fetch_list(data: bytes, store: CaptureStore, *, where: str) -> dict[Source, FetchedPages | str]:
    """What a fetch list names, bodies from the store (or a source's error line); anything
    unexpected is an error that names the list, never a partial load."""
    found: dict[Source, FetchedPages | str] = {}
    try:
        listed: dict[str, Any] = json.loads(data)
        if listed.get("format") != FORMAT:
            raise ValueError(f"format {listed.get('format')!r}, expected {FORMAT!r}")
        for name, entry in listed["sources"].items():
            source = Source(name)
            if "error" in entry:
                found[source] = str(entry["error"])
                continue
            captures = tuple(
                Capture(source=source, url=c["url"], fetched_at=datetime.fromisoformat(c["fetched_at"]),
                        http_status=int(c["http_status"]), content_type=c["content_type"],
                        body=store.get(c["sha256"]), origin=Origin(c["origin"]), etag=c["etag"],
                        last_modified=c["last_modified"], complete=bool(c["complete"]))
                for c in entry["captures"])
            pages = FetchedPages(source, captures, tuple(entry["report_urls"]), frozenset(entry["discovered"]))
            missing = set(pages.report_urls) - {c.url for c in captures}
            if missing:
                raise ValueError(f"it names report pages it did not fetch: {sorted(missing)}")
            found[source] = pages
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WarehouseError(f"the fetch list {where} cannot be read: {exc}. It was written by another version "
                             "of ringwatch, or changed; run the sync again.") from exc
    return found


def fetch_to_store(settings: Settings, sources: list[Source], validators: dict[str, Validators], name: str,
                   client: PoliteClient, *, step: StepRunner = inline) -> str:
    """What a fetch worker does: fetch each source, put every body in the capture store, then the
    fetch list named `name`; return where the list is. One source failing is written down for
    the writer, and the others are still fetched. It never opens the warehouse."""
    store = open_capture_store(settings.captures, settings.db_path)
    fetched: dict[Source, FetchedPages | str] = {}
    for source in sources:
        previous = previous_from(validators.get(source.value, {}), store, source)
        try:
            pages = fetch_here(settings, source, previous, client, step=step)
        except RingwatchError as exc:
            fetched[source] = str(exc)
            continue
        for capture in pages.captures:
            store.put(capture)
        fetched[source] = pages
    return store.put_fetch_list(name, fetch_list(fetched))


def fetch_archive_to_store(settings: Settings, sources: list[Source], since: Quarter, until: Quarter, name: str,
                           client: PoliteClient, *, step: StepRunner = inline) -> str:
    """A fetch worker's part of a backfill: what each source's backfill would fetch from the
    Wayback Machine (backfill.prefetch_archive), bodies and then the fetch list put in the
    capture store; one source failing is written down and the others still fetched."""
    from ringwatch.flows.core.backfill import prefetch_archive  # here: a sync need not import the backfill

    store = open_capture_store(settings.captures, settings.db_path)
    fetched: dict[Source, FetchedPages | str] = {}
    for source in sources:
        try:
            captures = prefetch_archive(settings, since=since, until=until, source=source, client=client, step=step)
        except RingwatchError as exc:
            fetched[source] = str(exc)
            continue
        for capture in captures:
            store.put(capture)
        fetched[source] = FetchedPages(source, tuple(captures))
    return store.put_fetch_list(name, fetch_list(fetched))


def by_url(fetched: dict[Source, FetchedPages | str]) -> dict[str, Capture]:
    """Every capture a fetch list names, by URL: what a backfill takes before the network."""
    return {c.url: c for pages in fetched.values() if not isinstance(pages, str) for c in pages.captures}


def take_fetch_list(settings: Settings, name: str) -> dict[Source, FetchedPages | str]:
    """On the writer: what a fetch worker left under `name`."""
    store = open_capture_store(settings.captures, settings.db_path)
    where = f"{name} in {settings.captures or 'the capture folder'}"
    return read_fetch_list(store.get_fetch_list(name), store, where=where)
