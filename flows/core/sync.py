"""Sync: fetch a source, keep the raw bytes, parse, check and load one quarter.

The network comes first and the writer lock after: the attempt is recorded, the pages are
fetched with no lock held (readers can query meanwhile), then the database is opened for the
write alone. One source failing does not stop the other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ringwatch.flows.core.attempt import begin, fail, open_warehouse, writing
from ringwatch.flows.core.events import Event, EventKind, Progress, ignore
from ringwatch.flows.core.steps import StepRunner, choose_quarter, inline, keep_captures
from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.agency_map_fetch import fetch_agency_map
from ringwatch.scrapers.errors import ConfigError, NetworkUnreachable, RingwatchError
from ringwatch.scrapers.files import read_capture_file
from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import SOURCES, Origin, Source
from ringwatch.scrapers.transparency import Candidate, parse_candidates
from ringwatch.scrapers.transparency_fetch import fetch_reports
from ringwatch.warehouse.captures import BlobStore, previous_responses
from ringwatch.warehouse.changes import ChangeSummary, read_sync_changes
from ringwatch.warehouse.load import load_agency_snapshot, reference_count
from ringwatch.warehouse.load_transparency import ParsedReport, current_figure_counts, load_reports
from ringwatch.warehouse.quality import validate_agency_snapshot, validate_reports
from ringwatch.warehouse.runs import RunStatus, finish_run, record_warnings


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source's sync did: loaded, unchanged, kept_existing, or failed with its error."""

    source: Source
    status: str
    detail: str
    run_id: int | None = None
    quarter: str | None = None
    rows_loaded: int = 0
    warnings: tuple[str, ...] = ()
    unreachable: str | None = None  # a failed source's host that never answered ("x did not resolve")

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        return self.detail if self.failed else f"{self.source} {self.quarter}: {self.detail}"


@dataclass(frozen=True, slots=True)
class SyncResult:
    results: tuple[SourceResult, ...]
    changes: ChangeSummary | None

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results)


def sources_for(source: str) -> tuple[Source, ...]:
    if source == "all":
        return SOURCES
    try:
        return (Source(source),)
    except ValueError:
        raise ConfigError(f"unknown source {source!r}; choose one of: all, {', '.join(SOURCES)}.") from None


def sync(settings: Any, *, source: str = "all", quarter: str | None = None, force: bool = False,
         from_file: str | None = None, observed_at: datetime | None = None,
         scheduled_at: datetime | None = None, flow_run_id: str | None = None, progress: Progress = ignore,
         step: StepRunner = inline, patience_seconds: float | None = None) -> SyncResult:
    """Sync the selected sources, each recorded on its own; then read what changed.

    Every source shares one patience for the network (`patience_seconds`, default
    [http] patience_seconds): an interactive command on a dead network gives up in time.
    """
    selected = sources_for(source)
    if from_file and len(selected) > 1:
        raise ConfigError("--from-file loads one source: add --source agency_map or --source transparency.")
    deadline = time.monotonic() + (patience_seconds if patience_seconds is not None
                                   else settings.http.patience_seconds)

    def client() -> PoliteClient:
        return PoliteClient(settings.http, deadline=deadline,
                            on_retry=lambda line: progress(Event(EventKind.RETRY, line)))

    results = []
    for name in selected:
        job = sync_agency_map if name is Source.AGENCY_MAP else sync_transparency
        try:
            results.append(job(settings, quarter=quarter, force=force, from_file=from_file, observed_at=observed_at,
                               scheduled_at=scheduled_at, flow_run_id=flow_run_id, client=client, step=step))
        except RingwatchError as exc:
            results.append(SourceResult(name, "failed", str(exc),
                                        unreachable=exc.what if isinstance(exc, NetworkUnreachable) else None))
    loaded = [r.quarter for r in results if r.source is Source.AGENCY_MAP and not r.failed]
    report_runs = [r.run_id for r in results
                   if r.source is Source.TRANSPARENCY and not r.failed and r.run_id is not None]
    try:
        # What this sync changed: the map quarter it loaded, and the periods its report run
        # added or restated (alone when no map was loaded); with neither, the latest quarter held.
        changes: ChangeSummary | None = read_sync_changes(settings.db_path, quarter=loaded[0] if loaded else None,
                                                          report_runs=report_runs)
    except RingwatchError:
        changes = None  # nothing held yet
    return SyncResult(tuple(results), changes)


def sync_agency_map(settings: Any, *, quarter: str | None = None, force: bool = False, from_file: str | None = None,
                    observed_at: datetime | None = None, scheduled_at: datetime | None = None,
                    flow_run_id: str | None = None, client: Any = None, step: StepRunner = inline) -> SourceResult:
    """This quarter's snapshot of Ring's Active Agency Map (or of a saved KML/KMZ)."""
    source = Source.AGENCY_MAP
    if from_file:
        capture = read_capture_file(Path(from_file), source=source, observed_at=observed_at)
        run_id: int | None = None  # recorded when the write begins: no network comes first
        captures = [capture]
    else:
        url = settings.map_url()
        run_id, previous = begin(settings, source=source, mode=Origin.LIVE, url=url, flow_run_id=flow_run_id,
                                 read=lambda wh: previous_responses(wh.con, BlobStore(wh.blob_root), source))
        try:
            http = client() if client else PoliteClient(settings.http)
            captures = step("fetch-agency-map", fetch_agency_map, http, url, previous=previous)
        except BaseException as exc:
            fail(settings, run_id, exc, partial=getattr(exc, "partial", None))
            raise
    state: dict[str, Any] = {}
    with writing(settings, run_id, state, source=source, mode=Origin.FILE, flow_run_id=flow_run_id,
                 url=from_file) as (wh, run_id):
        capture_id = keep_captures(wh, run_id, captures, chained=True)[-1]
        capture = captures[-1]
        state.update(capture_id=capture_id, quarter=choose_quarter(quarter, capture.fetched_at, scheduled_at))
        agencies = step("parse-agency-map", parse_agency_map, capture.body, source_url=capture.url,
                        max_inflated_bytes=settings.http.inflate_limit)
        previous_count, previous_quarter = reference_count(wh.con, source, state["quarter"])
        snapshot = step("validate-agency-map", validate_agency_snapshot, agencies, source=source, url=capture.url,
                        quarter=state["quarter"], observed_at=capture.fetched_at, previous_count=previous_count,
                        previous_quarter=previous_quarter, policy=settings.gates, force=force)
        result = step("load-agency-map", load_agency_snapshot, wh.con, snapshot, capture_id=capture_id,
                      origin=capture.origin, run_id=run_id, aliases=settings.aliases)
        warnings = snapshot.warnings + result.identity_warnings
        record_warnings(wh.con, run_id, source=source, quarter=snapshot.quarter, warnings=warnings)
        finish_run(wh.con, run_id, status=RunStatus.SUCCESS if result.status == "loaded" else RunStatus.UNCHANGED,
                   quarter=snapshot.quarter, rows_loaded=result.rows_loaded, capture_id=capture_id)
    if result.status == "loaded":
        detail = (f"loaded {result.rows_loaded:,} agencies from {capture.url} (capture {capture_id}, "
                  f"sha256 {capture.sha256[:12]}), {len(warnings)} warning(s).")
    else:
        detail = (f"kept the existing snapshot observed {result.kept_observation}, which is nearer the "
                  f"quarter's end; this capture ({capture_id}) is stored but not loaded.")
    return SourceResult(source, result.status, detail, run_id, snapshot.quarter, result.rows_loaded,
                        tuple(w.detail for w in warnings))


def sync_transparency(settings: Any, *, quarter: str | None = None, force: bool = False,
                      from_file: str | None = None, observed_at: datetime | None = None,
                      scheduled_at: datetime | None = None, flow_run_id: str | None = None, client: Any = None,
                      step: StepRunner = inline) -> SourceResult:
    """Ring's law-enforcement transparency reports (or one saved page)."""
    source = Source.TRANSPARENCY
    if from_file:
        capture = read_capture_file(Path(from_file), source=source, observed_at=observed_at)
        run_id: int | None = None  # recorded when the write begins: no network comes first
        captures: list[Capture] = [capture]
        pages = [(capture, False)]
    else:
        sources = settings.transparency_sources()
        first_url = ", ".join(sources.report_urls or sources.index_urls)
        run_id, _ = begin(settings, source=source, mode=Origin.LIVE, url=first_url, flow_run_id=flow_run_id,
                          read=lambda wh: None)
        captures = []
        try:
            http = client() if client else PoliteClient(settings.http)
            fetched = step("fetch-transparency", fetch_reports, http,
                           report_urls=list(sources.report_urls), index_urls=list(sources.index_urls),
                           on_capture=captures.append)
        except BaseException as exc:
            _fail_keeping(settings, run_id, exc, captures)
            raise
        by_url = {c.url: c for c in fetched.captures}
        pages = [(by_url[url], url in fetched.discovered) for url in fetched.report_urls]
    state: dict[str, Any] = {}
    with writing(settings, run_id, state, source=source, mode=Origin.FILE, flow_run_id=flow_run_id,
                 url=from_file) as (wh, run_id):
        ids = dict(zip((id(c) for c in captures), keep_captures(wh, run_id, captures), strict=True))
        state["quarter"] = choose_quarter(quarter, pages[0][0].fetched_at, scheduled_at)
        found, skipped = step("parse-transparency", parse_candidates,
                              [Candidate(c, discovered=d) for c, d in pages])
        reports = [ParsedReport(page=page, capture_id=ids[id(pages[i][0])], observed_at=pages[i][0].fetched_at)
                   for i, page in found]
        checked = step("validate-transparency", validate_reports, reports,
                       previous_counts=current_figure_counts(wh.con), policy=settings.gates, force=force)
        results = step("load-transparency", load_reports, wh.con, checked)
        warnings = skipped + [w for r in checked for w in r.page.warnings]
        record_warnings(wh.con, run_id, source=source, quarter=state["quarter"], warnings=warnings)
        loaded = sum(r.figures for r in results)
        status = RunStatus.SUCCESS if any(r.status == "loaded" for r in results) else RunStatus.UNCHANGED
        finish_run(wh.con, run_id, status=status, quarter=state["quarter"], rows_loaded=loaded)
    unchanged = sum(r.status == "unchanged" for r in results)
    detail = (f"loaded {loaded:,} figures from {len(results) - unchanged} report(s), "
              f"{unchanged} report(s) unchanged, {len(warnings)} warning(s).")
    notes = tuple(note for r in checked if (note := r.page.reading_note()))
    return SourceResult(source, "loaded" if status is RunStatus.SUCCESS else "unchanged", detail, run_id,
                        state["quarter"], loaded, notes + tuple(w.detail for w in warnings))


def _fail_keeping(settings: Any, run_id: int, exc: BaseException, captures: list[Capture]) -> None:
    """A failed transparency fetch keeps the pages it did get, then the partial body."""
    with open_warehouse(settings) as wh:
        if captures:
            keep_captures(wh, run_id, captures)
    fail(settings, run_id, exc, partial=getattr(exc, "partial", None))
