"""The `backfill` flow: fill past quarters from the Wayback Machine, through the live path.

Per source the CDX index is asked once (over the whole range plus the window); each quarter
takes the capture nearest its last day; its raw bytes (`id_`) are parsed, checked and loaded
by the same tasks as a live sync, with origin `wayback` and the archive time as observation
time. Everything fetched is kept, so a rerun or a resumed run fetches nothing it already has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from prefect import flow, get_run_logger

from flows.settings import Settings, load_settings
from flows.steps import keep_captures, open_warehouse
from flows.sync_agency_map import load as load_agency_map
from flows.sync_agency_map import parse as parse_agency_map_task
from flows.sync_agency_map import validate as validate_agency_map
from scrapers.agency_map import read_kml
from scrapers.errors import ConfigError, ParseError, RingwatchError
from scrapers.http import PoliteClient
from scrapers.records import Capture
from scrapers.transparency import Candidate, parse_candidates
from scrapers.wayback import ArchivedCapture, cdx_query_url, fetch_archived, fetch_cdx, parse_cdx
from warehouse.backfill import pick, plan_quarters, quarters_between, snapshot_capture_sha, stored_capture
from warehouse.captures import BlobStore, store_capture
from warehouse.db import Warehouse
from warehouse.load_transparency import ParsedReport, current_figure_counts, load_reports
from warehouse.quality import validate_reports
from warehouse.quarters import Quarter
from warehouse.runs import RunHandle, finish_run, record_warnings, recorded_run

# The CLI registers a listener here to draw its progress bar; Prefect gets an artifact.
progress_listeners: list[Callable[[int, int, str], None]] = []


@dataclass(frozen=True, slots=True)
class QuarterOutcome:
    source: str
    quarter: str
    status: str  # filled | skipped | kept_nearer | missing | planned
    archived_at: str | None = None
    url: str | None = None
    reason: str | None = None


class Archive:
    """Archive reads through the warehouse: a stored answer is reused, a new one is kept."""

    def __init__(self, settings: Settings, warehouse: Warehouse | None, run: RunHandle | None) -> None:
        self.settings = settings
        self.client = PoliteClient(settings.http)
        self.base = settings.wayback.base_url
        self.warehouse = warehouse
        self.run = run

    def cdx(self, query_url: str, *, source: str) -> list[ArchivedCapture]:
        if self.warehouse is not None:
            fresh_after = datetime.now(UTC).replace(tzinfo=None) - timedelta(
                hours=self.settings.wayback.cdx_max_age_hours)
            stored = stored_capture(self.warehouse.con, query_url, fetched_after=fresh_after)
            if stored is not None:
                return parse_cdx(BlobStore(self.warehouse.blob_root).get(stored[1]), url=query_url)
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
        capture = fetch_archived(self.client, snapshot, base=self.base, source=source)
        return capture, self._keep(capture, parent=parent)

    def _keep(self, capture: Capture, parent: int | None = None) -> int | None:
        if self.warehouse is None:
            return None  # a dry run writes nothing
        if self.run is None:  # the planning CDX answer belongs to no single quarter's run
            return store_capture(self.warehouse.con, BlobStore(self.warehouse.blob_root), capture, run_id=None)
        return keep_captures(self.warehouse, self.run, [capture], parent=parent)[0]


def _progress(done: int, total: int, label: str, artifact: list[Any]) -> None:
    from prefect.artifacts import create_progress_artifact, update_progress_artifact

    share = 100.0 * done / total if total else 100.0
    if not artifact:
        artifact.append(create_progress_artifact(share, key="backfill-progress",
                                                  description="Quarters backfilled"))
    else:
        update_progress_artifact(artifact[0], share, description=label)
    for listener in progress_listeners:
        listener(done, total, label)


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
        links = read_kml(capture.body, url=capture.url, links_only=True).network_links
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
                    *, targets: LinkTargets, force: bool, flow_run_id: str | None) -> QuarterOutcome:
    """Fill one quarter, trying the next-nearest capture when one cannot be read."""
    failed: dict[str, str] = {}
    window = settings.wayback.window_days
    while (snapshot := pick(rows, quarter, window_days=window, exclude=frozenset(failed))) is not None:
        try:
            with recorded_run(wh.con, source="agency_map", mode="wayback", flow_run_id=flow_run_id,
                              url=snapshot.raw_url(settings.wayback.base_url)) as run:
                run.quarter = str(quarter)
                archive = Archive(settings, wh, run)
                capture, capture_id = archive.raw(snapshot, source="agency_map")
                capture, capture_id = targets.resolve(archive, capture, snapshot, capture_id)
                run.capture_id = capture_id
                assert capture_id is not None
                if snapshot_capture_sha(wh.con, "agency_map", str(quarter)) == capture.sha256:
                    finish_run(wh.con, run.run_id, status="unchanged", quarter=str(quarter), rows_loaded=0)
                    return QuarterOutcome("agency_map", str(quarter), "skipped", snapshot.timestamp,
                                          snapshot.original, "already loaded from the same bytes")
                agencies = parse_agency_map_task(capture)
                checked = validate_agency_map(settings, wh, agencies, capture=capture, quarter=str(quarter),
                                              force=force)
                result = load_agency_map(wh, checked, capture=capture, capture_id=capture_id, run=run,
                                         aliases=settings.aliases)
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
    reason = f"no capture within {window} days"
    if failed:
        reason = f"{len(failed)} capture(s) within {window} days could not be used; last: {list(failed.values())[-1]}"
    return QuarterOutcome("agency_map", str(quarter), "missing", reason=reason)


def _backfill_agency_map(settings: Settings, wh: Warehouse | None, quarters: list[Quarter], *,
                         force: bool, dry_run: bool, flow_run_id: str | None,
                         tick: Callable[[str], None]) -> list[QuarterOutcome]:
    since, until = _window(settings, quarters)
    rows = Archive(settings, wh, None).cdx(map_query(settings, since, until), source="agency_map")
    if dry_run or wh is None:
        plan = plan_quarters(rows, quarters, window_days=settings.wayback.window_days)
        return [QuarterOutcome("agency_map", p.quarter, "planned" if p.capture else "missing",
                               p.capture.timestamp if p.capture else None,
                               p.capture.raw_url(settings.wayback.base_url) if p.capture else None, p.reason)
                for p in plan]
    outcomes = []
    targets = LinkTargets(since, until)
    for quarter in quarters:
        outcomes.append(_agency_quarter(settings, wh, rows, quarter, targets=targets, force=force,
                                        flow_run_id=flow_run_id))
        tick(f"agency_map {quarter}")
    return outcomes


def _backfill_transparency(settings: Settings, wh: Warehouse | None, quarters: list[Quarter], *,
                           force: bool, dry_run: bool, flow_run_id: str | None,
                           tick: Callable[[str], None]) -> list[QuarterOutcome]:
    """Every configured report and index page, as archived near each quarter's end; pages whose
    figures did not change add nothing, restated figures add an observation."""
    sources = settings.transparency_sources()
    urls = list(dict.fromkeys((*sources.report_urls, *sources.index_urls)))
    since, until = _window(settings, quarters)
    window = settings.wayback.window_days
    chosen: dict[str, list[tuple[str, ArchivedCapture]]] = {str(q): [] for q in quarters}
    probe = Archive(settings, wh, None)
    for url in urls:
        rows = probe.cdx(cdx_query_url(settings.wayback.base_url, url, since=since, until=until),
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
                archive = Archive(settings, wh, run)
                pages = []
                for url, snapshot in picks:
                    capture, capture_id = archive.raw(snapshot, source="transparency")
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
            outcomes.append(QuarterOutcome("transparency", label, "missing", reason=str(exc)))
        tick(f"transparency {label}")
    return outcomes


@flow(name="backfill")
def backfill(
    since: str,
    until: str,
    source: str = "all",
    dry_run: bool = False,
    force: bool = False,
    db_path: str | None = None,
    config_path: str | None = None,
) -> list[dict[str, Any]]:
    """Fill past quarters (both ends inclusive) from the Internet Archive."""
    from prefect.runtime import flow_run

    settings = load_settings(config_path, db_path=db_path)
    try:
        quarters = quarters_between(Quarter.parse(since), Quarter.parse(until))
    except ValueError as exc:
        raise ConfigError(f"backfill: {exc}") from None
    selected = ("agency_map", "transparency") if source == "all" else (source,)
    if any(s not in ("agency_map", "transparency") for s in selected):
        raise ConfigError(f"unknown source {source!r}; choose all, agency_map or transparency.")
    total = len(quarters) * len(selected)
    artifact: list[Any] = []
    done = [0]

    def tick(label: str) -> None:
        done[0] += 1
        _progress(done[0], total, label, artifact)

    outcomes: list[QuarterOutcome] = []
    steps = {"agency_map": _backfill_agency_map, "transparency": _backfill_transparency}
    if dry_run:
        for name in selected:
            outcomes += steps[name](settings, None, quarters, force=force, dry_run=True, flow_run_id=None,
                                    tick=tick)
    else:
        with open_warehouse(settings) as wh:
            for name in selected:
                outcomes += steps[name](settings, wh, quarters, force=force, dry_run=False,
                                        flow_run_id=flow_run.id, tick=tick)
    logger = get_run_logger()
    for outcome in outcomes:
        logger.info("%s %s: %s %s", outcome.source, outcome.quarter, outcome.status, outcome.reason or "")
    return [asdict(o) for o in outcomes]


