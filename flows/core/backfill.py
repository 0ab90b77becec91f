"""Backfill: fill past quarters from the Wayback Machine, through the live path.

Per source the CDX index is asked once (over the whole range plus the window); each quarter
takes the capture nearest its last day; its raw bytes (`id_`) are parsed, checked and loaded
like a live sync's, with origin `wayback` and the archive time as observation time.
Everything fetched is kept, so a rerun or a resumed run fetches nothing it already has.

A quarter ends `filled`, `skipped` (the same bytes are loaded already), `kept_nearer`,
`missing` (the archive holds no capture near it: a gap, not an error) or `failed` (captures
exist but none could be fetched or read: an error, and the command exits 1).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qs, urljoin, urlsplit

from ringwatch.flows.core.attempt import open_warehouse
from ringwatch.flows.core.events import Event, EventKind, Progress, ignore
from ringwatch.flows.core.ingest import Ingest, StoredPage, ingest
from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import StepRunner, inline, keep_captures
from ringwatch.scrapers.agency_map import read_kml
from ringwatch.scrapers.errors import ConfigError, ParseError, RingwatchError
from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Origin, Source, sources_for
from ringwatch.scrapers.wayback import ArchivedCapture, cdx_query_url, parse_cdx
from ringwatch.scrapers.wayback_fetch import fetch_archived, fetch_cdx
from ringwatch.warehouse.backfill import pick, plan_quarters, quarters_between, snapshot_capture_sha, stored_capture
from ringwatch.warehouse.captures import store_capture
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.runs import Attempt, RunMode, RunStatus


class QuarterStatus(StrEnum):
    """How a quarter of a backfill ended (a dry run only plans)."""

    FILLED = "filled"
    SKIPPED = "skipped"  # the same bytes are loaded already
    KEPT_NEARER = "kept_nearer"  # the quarter holds an observation nearer its end
    MISSING = "missing"  # the archive holds no capture near it: a gap, not an error
    FAILED = "failed"  # captures exist but none could be fetched or read
    PLANNED = "planned"  # --dry-run: what would be fetched


@dataclass(frozen=True, slots=True)
class QuarterOutcome:
    source: Source
    quarter: Quarter
    status: QuarterStatus
    archived_at: str | None = None
    url: str | None = None
    reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is QuarterStatus.FAILED


class Archive:
    """Archive reads through the warehouse: a stored answer is reused, a new one is kept.

    `prefetched` (URL -> capture) holds what a fetch worker already fetched for this backfill
    (flows/core/fetching.py): it is used before the network. `fetched` records every answer
    taken from the network, for a fetch worker to hand on."""

    def __init__(self, settings: Settings, warehouse: Warehouse | None, run: Attempt | None,
                 client: PoliteClient, step: StepRunner = inline,
                 prefetched: Mapping[str, Capture] | None = None, fetched: list[Capture] | None = None) -> None:
        self.settings = settings
        self.client = client  # one per backfill: robots.txt read once, one request at a time
        self.base = settings.wayback.base_url
        self.warehouse = warehouse
        self.run = run
        self.step = step  # under Prefect each fetch is a task, retried when transient
        self.prefetched: Mapping[str, Capture] = prefetched or {}
        self.fetched: list[Capture] = fetched if fetched is not None else []

    def for_run(self, run: Attempt) -> Archive:
        """The same archive and client, keeping what it fetches under `run`."""
        return Archive(self.settings, self.warehouse, run, self.client, self.step, self.prefetched, self.fetched)

    def cdx(self, query_url: str, *, source: Source) -> list[ArchivedCapture]:
        if self.warehouse is not None:
            fresh_after = datetime.now(UTC).replace(tzinfo=None) - timedelta(
                hours=self.settings.wayback.cdx_max_age_hours)
            stored = stored_capture(self.warehouse.con, query_url, fetched_after=fresh_after)
            if stored is not None:
                return parse_cdx(self.warehouse.captures.get(stored[1]), url=query_url)
        if query_url in self.prefetched:
            capture = self.prefetched[query_url]
            rows = parse_cdx(capture.body, url=query_url)
        else:
            self.client.reset_patience()
            capture, rows = self.step("fetch-wayback-index", fetch_cdx, self.client, query_url, source=source)
            self.fetched.append(capture)
        self._keep(capture)
        return rows

    def raw(self, snapshot: ArchivedCapture, *, source: Source,
            parent: int | None = None) -> tuple[Capture, int | None]:
        url = snapshot.raw_url(self.base)
        if self.warehouse is not None:
            stored = stored_capture(self.warehouse.con, url)
            if stored is not None:
                body = self.warehouse.captures.get(stored[1])
                return Capture(source=source, url=url, fetched_at=snapshot.moment, http_status=200,
                               content_type=stored[2], body=body, origin=Origin.WAYBACK), stored[0]
        if url in self.prefetched:
            capture = self.prefetched[url]
        else:
            self.client.reset_patience()
            capture = self.step("fetch-wayback", fetch_archived, self.client, snapshot, base=self.base,
                                source=source)
            self.fetched.append(capture)
        return capture, self._keep(capture, parent=parent)

    def _keep(self, capture: Capture, parent: int | None = None) -> int | None:
        if self.warehouse is None:
            return None  # a dry run writes nothing
        if self.run is None:  # the planning CDX answer belongs to no single quarter's run
            return store_capture(self.warehouse.con, self.warehouse.captures, capture, run_id=None)
        capture_id = keep_captures(self.warehouse, self.run.run_id, [capture], parent=parent)[0]
        self.run.capture_id = capture_id
        return capture_id


def map_query(settings: Settings, since: datetime, until: datetime) -> str:
    """One CDX query for every form of the map's KML export (wrapper, direct, KMZ): a prefix
    on the export path, filtered to this map's id."""
    url = settings.map_url()
    parts = urlsplit(url)
    mid = parse_qs(parts.query).get("mid", [""])[0]
    return cdx_query_url(settings.wayback.base_url, f"{parts.netloc}{parts.path}", since=since, until=until,
                         match_type="prefix", original_filter=f".*mid={mid}.*" if mid else None)


def _window(settings: Settings, quarters: list[Quarter]) -> tuple[datetime, datetime]:
    pad = timedelta(days=settings.wayback.window_days + 1)
    start = datetime.combine(quarters[0].last_day, datetime.min.time(), UTC) - pad
    end = datetime.combine(quarters[-1].last_day, datetime.max.time(), UTC) + pad
    return start, end


class LinkTargets:
    """Archived captures of NetworkLink targets, asked of the CDX index once per target URL
    over the whole backfill range (not once per quarter)."""

    def __init__(self, since: datetime, until: datetime) -> None:
        self.since, self.until = since, until
        self.rows: dict[str, list[ArchivedCapture]] = {}

    def resolve(self, archive: Archive, capture: Capture, snapshot: ArchivedCapture,
                parent_id: int | None) -> tuple[Capture, int | None]:
        """A wrapper KML's NetworkLink target, read from the archive nearest the wrapper's time."""
        links = read_kml(capture.body, url=capture.url, links_only=True,
                         max_inflated_bytes=archive.settings.http.inflate_limit).network_links
        if not links:
            return capture, parent_id
        target = urljoin(snapshot.original, links[0])
        if target not in self.rows:
            self.rows[target] = archive.cdx(cdx_query_url(archive.base, target, since=self.since,
                                                          until=self.until), source=Source.AGENCY_MAP)
        window = timedelta(days=archive.settings.wayback.window_days)
        near = [r for r in self.rows[target] if abs(r.moment - snapshot.moment) <= window]
        if not near:
            raise ParseError(f"agency_map: the wrapper archived at {snapshot.timestamp} links to {target}, "
                             f"which the archive does not hold within {window.days} days of it.",
                             url=capture.url, expected="an archived NetworkLink target")
        nearest = min(near, key=lambda r: (abs(r.moment - snapshot.moment), -r.moment.timestamp()))
        return archive.raw(nearest, source=Source.AGENCY_MAP, parent=parent_id)


def _agency_quarter(settings: Settings, wh: Warehouse, rows: list[ArchivedCapture], quarter: Quarter,
                    *, archive: Archive, targets: LinkTargets, force: bool, flow_run_id: str | None) -> QuarterOutcome:
    """Fill one quarter, trying the next-nearest capture when one cannot be read."""
    source, failed = Source.AGENCY_MAP, dict[str, str]()
    window = settings.wayback.window_days
    while (snapshot := pick(rows, quarter, window_days=window, exclude=frozenset(failed))) is not None:
        attempt = Attempt.start(wh.con, source=source, mode=RunMode.WAYBACK, flow_run_id=flow_run_id,
                                url=snapshot.raw_url(settings.wayback.base_url))
        attempt.quarter = quarter
        try:
            with attempt.failing_on_error(wh.con):
                kept = archive.for_run(attempt)
                capture, capture_id = kept.raw(snapshot, source=source)
                capture, capture_id = targets.resolve(kept, capture, snapshot, capture_id)
                assert capture_id is not None
                attempt.capture_id = capture_id
                if snapshot_capture_sha(wh.con, str(source), str(quarter)) == capture.sha256:
                    attempt.finish(wh.con, RunStatus.UNCHANGED, rows_loaded=0)
                    return QuarterOutcome(source, quarter, QuarterStatus.SKIPPED, snapshot.timestamp,
                                          snapshot.original, "already loaded from the same bytes")
            done = ingest(wh, attempt, [StoredPage(capture, capture_id)], quarter=quarter,
                          how=Ingest(settings, force=force, step=archive.step))
        except RingwatchError as exc:
            failed[snapshot.timestamp] = str(exc)
            continue
        if done.loaded:
            return QuarterOutcome(source, quarter, QuarterStatus.FILLED, snapshot.timestamp, snapshot.original,
                                  f"{done.rows:,} agencies")
        return QuarterOutcome(source, quarter, QuarterStatus.KEPT_NEARER, snapshot.timestamp, snapshot.original,
                              f"a nearer observation ({done.kept_observation}) is kept")
    if failed:
        return QuarterOutcome(source, quarter, QuarterStatus.FAILED, reason=(
            f"{len(failed)} capture(s) within {window} days could not be used; last: {list(failed.values())[-1]}"))
    return QuarterOutcome(source, quarter, QuarterStatus.MISSING, reason=f"no capture within {window} days")


def _backfill_agency_map(settings: Settings, wh: Warehouse | None, quarters: list[Quarter], *, archive: Archive,
                         force: bool, dry_run: bool, flow_run_id: str | None,
                         tick: Callable[[str], None]) -> list[QuarterOutcome]:
    since, until = _window(settings, quarters)
    rows = archive.cdx(map_query(settings, since, until), source=Source.AGENCY_MAP)
    if dry_run or wh is None:
        plan = plan_quarters(rows, quarters, window_days=settings.wayback.window_days)
        return [QuarterOutcome(Source.AGENCY_MAP, Quarter.parse(str(p.quarter)),
                               QuarterStatus.PLANNED if p.capture else QuarterStatus.MISSING,
                               p.capture.timestamp if p.capture else None,
                               p.capture.raw_url(settings.wayback.base_url) if p.capture else None, p.reason)
                for p in plan]
    outcomes = []
    targets = LinkTargets(since, until)
    for quarter in quarters:
        outcomes.append(_agency_quarter(settings, wh, rows, quarter, archive=archive, targets=targets,
                                        force=force, flow_run_id=flow_run_id))
        tick(f"agency_map {quarter}")
    return outcomes


def _backfill_transparency(settings: Settings, wh: Warehouse | None, quarters: list[Quarter], *,
                           archive: Archive, force: bool, dry_run: bool, flow_run_id: str | None,
                           tick: Callable[[str], None]) -> list[QuarterOutcome]:
    """Every configured report and index page, as archived near each quarter's end; pages whose
    figures did not change add nothing, restated figures add an observation."""
    source = Source.TRANSPARENCY
    sources = settings.transparency_sources()
    urls = list(dict.fromkeys((*sources.report_urls, *sources.index_urls)))
    since, until = _window(settings, quarters)
    window = settings.wayback.window_days
    chosen: dict[Quarter, list[tuple[str, ArchivedCapture]]] = {q: [] for q in quarters}
    for url in urls:
        rows = archive.cdx(cdx_query_url(settings.wayback.base_url, url, since=since, until=until), source=source)
        for quarter in quarters:
            snapshot = pick(rows, quarter, window_days=window)
            if snapshot is not None:
                chosen[quarter].append((url, snapshot))
    if dry_run or wh is None:
        return [QuarterOutcome(source, q, QuarterStatus.PLANNED if picks else QuarterStatus.MISSING,
                               ", ".join(s.timestamp for _, s in picks) or None,
                               ", ".join(s.raw_url(settings.wayback.base_url) for _, s in picks) or None,
                               None if picks else f"no capture within {window} days")
                for q, picks in chosen.items()]
    outcomes = []
    for quarter, picks in chosen.items():
        if not picks:
            outcomes.append(QuarterOutcome(source, quarter, QuarterStatus.MISSING,
                                           reason=f"no capture within {window} days"))
            tick(f"transparency {quarter}")
            continue
        try:
            attempt = Attempt.start(wh.con, source=source, mode=RunMode.WAYBACK, flow_run_id=flow_run_id,
                                    url=", ".join(u for u, _ in picks))
            attempt.quarter = quarter
            with attempt.failing_on_error(wh.con):
                kept = archive.for_run(attempt)
                pages = []
                for url, snapshot in picks:
                    capture, capture_id = kept.raw(snapshot, source=source)
                    assert capture_id is not None
                    pages.append(StoredPage(capture, capture_id, discovered=url not in sources.report_urls))
                done = ingest(wh, attempt, pages, quarter=quarter,
                              how=Ingest(settings, force=force, step=archive.step))
            stamps = ", ".join(s.timestamp for _, s in picks)
            status = QuarterStatus.FILLED if done.rows else QuarterStatus.SKIPPED
            outcomes.append(QuarterOutcome(source, quarter, status, stamps, None,
                                           f"{done.rows} new figures" if done.rows else "figures unchanged"))
        except RingwatchError as exc:
            outcomes.append(QuarterOutcome(source, quarter, QuarterStatus.FAILED, reason=str(exc)))
        tick(f"transparency {quarter}")
    return outcomes


def prefetch_archive(settings: Settings, *, since: Quarter, until: Quarter, source: Source,
                     client: PoliteClient, step: StepRunner = inline) -> list[Capture]:
    """What a backfill of `source` would fetch, fetched with no warehouse: the CDX answers, and
    each quarter's nearest capture (with its NetworkLink target). A fetch worker hands these to
    the writer's backfill (Archive.prefetched); a capture that cannot be fetched or read here is
    left to the writer, which then tries the next-nearest itself, as it always does."""
    try:
        quarters = quarters_between(since, until)
    except ValueError as exc:
        raise ConfigError(f"backfill: {exc}") from None
    archive = Archive(settings, None, None, client, step)
    start, end = _window(settings, quarters)
    window = settings.wayback.window_days
    if source is Source.AGENCY_MAP:
        rows = archive.cdx(map_query(settings, start, end), source=source)
        targets = LinkTargets(start, end)
        for quarter in quarters:
            snapshot = pick(rows, quarter, window_days=window)
            if snapshot is None:
                continue
            try:
                capture, _ = archive.raw(snapshot, source=source)
                targets.resolve(archive, capture, snapshot, None)
            except RingwatchError:
                continue
        return archive.fetched
    sources = settings.transparency_sources()
    for url in dict.fromkeys((*sources.report_urls, *sources.index_urls)):
        rows = archive.cdx(cdx_query_url(settings.wayback.base_url, url, since=start, until=end), source=source)
        for quarter in quarters:
            snapshot = pick(rows, quarter, window_days=window)
            if snapshot is not None:
                with contextlib.suppress(RingwatchError):
                    archive.raw(snapshot, source=source)
    return archive.fetched


def backfill(settings: Settings, *, since: Quarter, until: Quarter, source: Source | str | None = None,
             dry_run: bool = False, force: bool = False, flow_run_id: str | None = None,
             progress: Progress = ignore, step: StepRunner = inline,
             prefetched: Mapping[str, Capture] | None = None) -> list[QuarterOutcome]:
    """Fill past quarters (both ends inclusive) from the Internet Archive; what a fetch worker
    already fetched (`prefetched`, URL -> capture) is used before the network."""
    try:
        quarters = quarters_between(since, until)
    except ValueError as exc:
        raise ConfigError(f"backfill: {exc}") from None
    selected = sources_for(source)
    total = len(quarters) * len(selected)
    done = [0]

    def tick(label: str) -> None:
        done[0] += 1
        progress(Event(EventKind.PROGRESS, label, done[0], total))

    # One client for the whole backfill: robots.txt is read once per host, the delay between
    # requests holds across quarters, and each retry reaches the progress callback as one line.
    client = PoliteClient(settings.http, on_retry=lambda line: progress(Event(EventKind.RETRY, line)))
    outcomes: list[QuarterOutcome] = []
    steps = {Source.AGENCY_MAP: _backfill_agency_map, Source.TRANSPARENCY: _backfill_transparency}
    if dry_run:
        for name in selected:
            outcomes += steps[name](settings, None, quarters, archive=Archive(settings, None, None, client, step),
                                    force=force, dry_run=True, flow_run_id=None, tick=tick)
    else:
        with open_warehouse(settings) as wh:
            for name in selected:
                archive = Archive(settings, wh, None, client, step, prefetched)
                outcomes += steps[name](settings, wh, quarters, archive=archive,
                                        force=force, dry_run=False, flow_run_id=flow_run_id, tick=tick)
    return outcomes
