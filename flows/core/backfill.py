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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urljoin, urlsplit

from ringwatch.flows.core.attempt import open_warehouse
from ringwatch.flows.core.events import Event, EventKind, Progress, ignore
from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import keep_captures
from ringwatch.scrapers.agency_map import parse_agency_map, read_kml
from ringwatch.scrapers.errors import ConfigError, ParseError, RingwatchError
from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import SOURCES, Source
from ringwatch.scrapers.transparency import Candidate, parse_candidates
from ringwatch.scrapers.wayback import ArchivedCapture, cdx_query_url, parse_cdx
from ringwatch.scrapers.wayback_fetch import fetch_archived, fetch_cdx
from ringwatch.warehouse.backfill import pick, plan_quarters, quarters_between, snapshot_capture_sha, stored_capture
from ringwatch.warehouse.captures import BlobStore, store_capture
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.load import load_agency_snapshot, reference_count
from ringwatch.warehouse.load_transparency import ParsedReport, current_figure_counts, load_reports
from ringwatch.warehouse.quality import validate_agency_snapshot, validate_reports
from ringwatch.warehouse.quarters import Quarter
from ringwatch.warehouse.runs import RunHandle, finish_run, record_warnings, recorded_run


@dataclass(frozen=True, slots=True)
class QuarterOutcome:
    source: str
    quarter: str
    status: str  # filled | skipped | kept_nearer | missing | failed | planned
    archived_at: str | None = None
    url: str | None = None
    reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"


class Archive:
    """Archive reads through the warehouse: a stored answer is reused, a new one is kept."""

    def __init__(self, settings: Settings, warehouse: Warehouse | None, run: RunHandle | None,
                 client: PoliteClient) -> None:
        self.settings = settings
        self.client = client  # one per backfill: robots.txt read once, one request at a time
        self.base = settings.wayback.base_url
        self.warehouse = warehouse
        self.run = run

    def for_run(self, run: RunHandle) -> Archive:
        """The same archive and client, keeping what it fetches under `run`."""
        return Archive(self.settings, self.warehouse, run, self.client)

    def cdx(self, query_url: str, *, source: str) -> list[ArchivedCapture]:
        if self.warehouse is not None:
            fresh_after = datetime.now(UTC).replace(tzinfo=None) - timedelta(
                hours=self.settings.wayback.cdx_max_age_hours)
            stored = stored_capture(self.warehouse.con, query_url, fetched_after=fresh_after)
            if stored is not None:
                return parse_cdx(BlobStore(self.warehouse.blob_root).get(stored[1]), url=query_url)
        self.client.reset_patience()
        capture, rows = fetch_cdx(self.client, query_url, source=source)
        self._keep(capture)
        return rows

    def raw(self, snapshot: ArchivedCapture, *, source: str,
            parent: int | None = None) -> tuple[Capture, int | None]:
        url = snapshot.raw_url(self.base)
        if self.warehouse is not None:
            stored = stored_capture(self.warehouse.con, url)
            if stored is not None:
                body = BlobStore(self.warehouse.blob_root).get(stored[1])
                return Capture(source=source, url=url, fetched_at=snapshot.moment, http_status=200,
                               content_type=stored[2], body=body, origin="wayback"), stored[0]
        self.client.reset_patience()
        capture = fetch_archived(self.client, snapshot, base=self.base, source=source)
        return capture, self._keep(capture, parent=parent)

    def _keep(self, capture: Capture, parent: int | None = None) -> int | None:
        if self.warehouse is None:
            return None  # a dry run writes nothing
        if self.run is None:  # the planning CDX answer belongs to no single quarter's run
            return store_capture(self.warehouse.con, BlobStore(self.warehouse.blob_root), capture, run_id=None)
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
                                                          until=self.until), source="agency_map")
        window = timedelta(days=archive.settings.wayback.window_days)
        near = [r for r in self.rows[target] if abs(r.moment - snapshot.moment) <= window]
        if not near:
            raise ParseError(f"agency_map: the wrapper archived at {snapshot.timestamp} links to {target}, "
                             f"which the archive does not hold within {window.days} days of it.",
                             url=capture.url, expected="an archived NetworkLink target")
        nearest = min(near, key=lambda r: (abs(r.moment - snapshot.moment), -r.moment.timestamp()))
        return archive.raw(nearest, source="agency_map", parent=parent_id)


def _agency_quarter(settings: Settings, wh: Warehouse, rows: list[ArchivedCapture], quarter: Quarter,
                    *, archive: Archive, targets: LinkTargets, force: bool, flow_run_id: str | None) -> QuarterOutcome:
    """Fill one quarter, trying the next-nearest capture when one cannot be read."""
    failed: dict[str, str] = {}
    window = settings.wayback.window_days
    while (snapshot := pick(rows, quarter, window_days=window, exclude=frozenset(failed))) is not None:
        try:
            with recorded_run(wh.con, source="agency_map", mode="wayback", flow_run_id=flow_run_id,
                              url=snapshot.raw_url(settings.wayback.base_url)) as run:
                run.quarter = str(quarter)
                kept = archive.for_run(run)
                capture, capture_id = kept.raw(snapshot, source="agency_map")
                capture, capture_id = targets.resolve(kept, capture, snapshot, capture_id)
                run.capture_id = capture_id
                assert capture_id is not None
                if snapshot_capture_sha(wh.con, "agency_map", str(quarter)) == capture.sha256:
                    finish_run(wh.con, run.run_id, status="unchanged", quarter=str(quarter), rows_loaded=0)
                    return QuarterOutcome("agency_map", str(quarter), "skipped", snapshot.timestamp,
                                          snapshot.original, "already loaded from the same bytes")
                agencies = parse_agency_map(capture.body, source_url=capture.url,
                                            max_inflated_bytes=settings.http.inflate_limit)
                count, previous = reference_count(wh.con, Source.AGENCY_MAP, str(quarter))
                checked = validate_agency_snapshot(agencies, source=Source.AGENCY_MAP, url=capture.url,
                                                   quarter=str(quarter), observed_at=capture.fetched_at,
                                                   previous_count=count, previous_quarter=previous,
                                                   policy=settings.gates, force=force)
                result = load_agency_snapshot(wh.con, checked, capture_id=capture_id, origin=capture.origin,
                                              run_id=run.run_id, aliases=settings.aliases)
                record_warnings(wh.con, run.run_id, source=Source.AGENCY_MAP, quarter=str(quarter),
                                warnings=checked.warnings + result.identity_warnings)
                finish_run(wh.con, run.run_id, status="success" if result.status == "loaded" else "unchanged",
                           quarter=str(quarter), rows_loaded=result.rows_loaded, capture_id=capture_id)
        except RingwatchError as exc:
            failed[snapshot.timestamp] = str(exc)
            continue
        if result.status == "loaded":
            return QuarterOutcome("agency_map", str(quarter), "filled", snapshot.timestamp, snapshot.original,
                                  f"{result.rows_loaded:,} agencies")
        return QuarterOutcome("agency_map", str(quarter), "kept_nearer", snapshot.timestamp, snapshot.original,
                              f"a nearer observation ({result.kept_observation}) is kept")
    if failed:
        return QuarterOutcome("agency_map", str(quarter), "failed", reason=(
            f"{len(failed)} capture(s) within {window} days could not be used; last: {list(failed.values())[-1]}"))
    return QuarterOutcome("agency_map", str(quarter), "missing", reason=f"no capture within {window} days")


def _backfill_agency_map(settings: Settings, wh: Warehouse | None, quarters: list[Quarter], *, archive: Archive,
                         force: bool, dry_run: bool, flow_run_id: str | None,
                         tick: Callable[[str], None]) -> list[QuarterOutcome]:
    since, until = _window(settings, quarters)
    rows = archive.cdx(map_query(settings, since, until), source="agency_map")
    if dry_run or wh is None:
        plan = plan_quarters(rows, quarters, window_days=settings.wayback.window_days)
        return [QuarterOutcome("agency_map", p.quarter, "planned" if p.capture else "missing",
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
    sources = settings.transparency_sources()
    urls = list(dict.fromkeys((*sources.report_urls, *sources.index_urls)))
    since, until = _window(settings, quarters)
    window = settings.wayback.window_days
    chosen: dict[str, list[tuple[str, ArchivedCapture]]] = {str(q): [] for q in quarters}
    for url in urls:
        rows = archive.cdx(cdx_query_url(settings.wayback.base_url, url, since=since, until=until),
                         source="transparency")
        for quarter in quarters:
            snapshot = pick(rows, quarter, window_days=window)
            if snapshot is not None:
                chosen[str(quarter)].append((url, snapshot))
    if dry_run or wh is None:
        return [QuarterOutcome("transparency", q, "planned" if picks else "missing",
                               ", ".join(s.timestamp for _, s in picks) or None,
                               ", ".join(s.raw_url(settings.wayback.base_url) for _, s in picks) or None,
                               None if picks else f"no capture within {window} days")
                for q, picks in chosen.items()]
    outcomes = []
    for label, picks in chosen.items():
        if not picks:
            outcomes.append(QuarterOutcome("transparency", label, "missing",
                                           reason=f"no capture within {window} days"))
            tick(f"transparency {label}")
            continue
        try:
            with recorded_run(wh.con, source="transparency", mode="wayback", flow_run_id=flow_run_id,
                              url=", ".join(u for u, _ in picks)) as run:
                run.quarter = label
                kept = archive.for_run(run)
                pages = []
                for url, snapshot in picks:
                    capture, capture_id = kept.raw(snapshot, source="transparency")
                    pages.append((Candidate(capture, discovered=url not in sources.report_urls), capture_id))
                found, skipped = parse_candidates([c for c, _ in pages])
                reports = [ParsedReport(page=p, capture_id=pages[i][1] or 0, observed_at=pages[i][0].capture.fetched_at)
                           for i, p in found]
                checked = validate_reports(reports, previous_counts=current_figure_counts(wh.con),
                                           policy=settings.gates, force=force)
                results = load_reports(wh.con, checked)
                record_warnings(wh.con, run.run_id, source="transparency", quarter=label,
                                warnings=skipped + [w for r in checked for w in r.page.warnings])
                loaded = sum(r.figures for r in results)
                finish_run(wh.con, run.run_id, status="success" if loaded else "unchanged", quarter=label,
                           rows_loaded=loaded)
            stamps = ", ".join(s.timestamp for _, s in picks)
            outcomes.append(QuarterOutcome("transparency", label, "filled" if loaded else "skipped", stamps,
                                           None, f"{loaded} new figures" if loaded else "figures unchanged"))
        except RingwatchError as exc:
            outcomes.append(QuarterOutcome("transparency", label, "failed", reason=str(exc)))
        tick(f"transparency {label}")
    return outcomes


def backfill(settings: Settings, *, since: str, until: str, source: str = "all", dry_run: bool = False,
             force: bool = False, flow_run_id: str | None = None, progress: Progress = ignore) -> list[QuarterOutcome]:
    """Fill past quarters (both ends inclusive) from the Internet Archive."""
    try:
        quarters = quarters_between(Quarter.parse(since), Quarter.parse(until))
    except ValueError as exc:
        raise ConfigError(f"backfill: {exc}") from None
    if source != "all" and source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; choose all, {', '.join(SOURCES)}.")
    selected = SOURCES if source == "all" else (Source(source),)
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
            outcomes += steps[name](settings, None, quarters, archive=Archive(settings, None, None, client),
                                    force=force, dry_run=True, flow_run_id=None, tick=tick)
    else:
        with open_warehouse(settings) as wh:
            for name in selected:
                outcomes += steps[name](settings, wh, quarters, archive=Archive(settings, wh, None, client),
                                        force=force, dry_run=False, flow_run_id=flow_run_id, tick=tick)
    return outcomes
