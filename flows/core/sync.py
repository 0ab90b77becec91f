"""Sync: fetch a source, keep the raw bytes, parse, check and load one quarter.

The network comes first and the writer lock after: the attempt is recorded, the pages are
fetched with no lock held (readers can query meanwhile), then the database is opened for the
write alone. One source failing does not stop the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from ringwatch.flows.core.attempt import begin, fail_keeping, writing
from ringwatch.flows.core.events import Event, EventKind, Progress, ignore
from ringwatch.flows.core.fetching import RemoteFetch, fetch_here
from ringwatch.flows.core.ingest import Ingest, StoredPage, ingest
from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import StepRunner, choose_quarter, inline, keep_captures
from ringwatch.scrapers.errors import ConfigError, NetworkUnreachable, RingwatchError
from ringwatch.scrapers.files import read_capture_file
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Source, sources_for
from ringwatch.warehouse.captures import previous_responses
from ringwatch.warehouse.changes import ChangeSummary, read_sync_changes
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.runs import Attempt, LoadStatus, RunMode

if TYPE_CHECKING:  # imported when a page is fetched: a sync from a file needs no network stack
    from ringwatch.scrapers.http import PoliteClient


class SyncStatus(StrEnum):
    """How one source's sync ended."""

    LOADED = LoadStatus.LOADED.value
    UNCHANGED = LoadStatus.UNCHANGED.value
    KEPT_EXISTING = LoadStatus.KEPT_EXISTING.value
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source's sync did: loaded, unchanged, kept_existing, or failed with its error."""

    source: Source
    status: SyncStatus
    detail: str
    run_id: int | None = None
    quarter: Quarter | None = None
    rows_loaded: int = 0
    warnings: tuple[str, ...] = ()
    unreachable: str | None = None  # a failed source's host that never answered ("x did not resolve")

    @property
    def failed(self) -> bool:
        return self.status is SyncStatus.FAILED

    def line(self) -> str:
        return self.detail if self.failed else f"{self.source} {self.quarter}: {self.detail}"


@dataclass(frozen=True, slots=True)
class SyncResult:
    results: tuple[SourceResult, ...]
    changes: ChangeSummary | None

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.results)


def sync(settings: Settings, *, source: Source | str | None = None, quarter: Quarter | None = None,
         force: bool = False, from_file: str | None = None, observed_at: datetime | None = None,
         scheduled_at: datetime | None = None, flow_run_id: str | None = None, progress: Progress = ignore,
         step: StepRunner = inline, patience_seconds: float | None = None,
         fetch_elsewhere: RemoteFetch | None = None) -> SyncResult:
    """Sync the selected sources, each recorded on its own; then read what changed.

    Every source shares one patience for the network (`patience_seconds`, default
    [http] patience_seconds): an interactive command on a dead network gives up in time.
    `fetch_elsewhere` fetches live pages on another worker (fetching.py); loading stays here.
    """
    selected = sources_for(source)
    if from_file and len(selected) > 1:
        raise ConfigError("--from-file loads one source: add --source agency_map or --source transparency.")
    deadline = time.monotonic() + (patience_seconds if patience_seconds is not None
                                   else settings.http.patience_seconds)

    def client() -> PoliteClient:
        from ringwatch.scrapers.http import PoliteClient

        return PoliteClient(settings.http, deadline=deadline,
                            on_retry=lambda line: progress(Event(EventKind.RETRY, line)))

    results = []
    for name in selected:
        job = sync_agency_map if name is Source.AGENCY_MAP else sync_transparency
        try:
            results.append(job(settings, quarter=quarter, force=force, from_file=from_file, observed_at=observed_at,
                               scheduled_at=scheduled_at, flow_run_id=flow_run_id, client=client, step=step,
                               fetch_elsewhere=fetch_elsewhere))
        except RingwatchError as exc:
            results.append(SourceResult(name, SyncStatus.FAILED, str(exc),
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


def sync_agency_map(settings: Settings, *, quarter: Quarter | None = None, force: bool = False,
                    from_file: str | None = None, observed_at: datetime | None = None,
                    scheduled_at: datetime | None = None, flow_run_id: str | None = None,
                    client: Callable[[], PoliteClient] | None = None, step: StepRunner = inline,
                    fetch_elsewhere: RemoteFetch | None = None) -> SourceResult:
    """This quarter's snapshot of Ring's Active Agency Map (or of a saved KML/KMZ)."""
    source = Source.AGENCY_MAP
    attempt: Attempt | None = None  # a file load starts it when the write begins: no network comes first
    if from_file:
        captures = [read_capture_file(Path(from_file), source=source, observed_at=observed_at)]
    else:
        url = settings.map_url()
        attempt, previous = begin(
            settings, lambda wh: Attempt.start(wh.con, source=source, mode=RunMode.LIVE, url=url,
                                               flow_run_id=flow_run_id),
            read=lambda wh: previous_responses(wh.con, wh.captures, source))
        try:
            if fetch_elsewhere is not None:
                captures = list(fetch_elsewhere(source, previous).captures)
            else:
                http = client() if client else polite_client(settings)
                captures = list(fetch_here(settings, source, previous, http, step=step).captures)
        except BaseException as exc:
            fail_keeping(settings, attempt, exc)
            raise
    start = _file_attempt(source, from_file, flow_run_id)
    with writing(settings, attempt, start) as (wh, attempt):
        ids = keep_captures(wh, attempt.run_id, captures, chained=True)
        capture = captures[-1]
        attempt.capture_id = ids[-1]
        done = ingest(wh, attempt, [StoredPage(c, i) for c, i in zip(captures, ids, strict=True)],
                      quarter=choose_quarter(quarter, capture.fetched_at, scheduled_at),
                      how=Ingest(settings, force=force, step=step))
    if done.loaded:
        detail = (f"loaded {done.rows:,} agencies from {capture.url} (capture {ids[-1]}, "
                  f"sha256 {capture.sha256[:12]}), {len(done.warnings)} warning(s).")
    else:
        detail = (f"kept the existing snapshot observed {done.kept_observation}, which is nearer the "
                  f"quarter's end; this capture ({ids[-1]}) is stored but not loaded.")
    return SourceResult(source, SyncStatus(done.status), detail, attempt.run_id, done.quarter, done.rows,
                        tuple(w.detail for w in done.warnings))


def sync_transparency(settings: Settings, *, quarter: Quarter | None = None, force: bool = False,
                      from_file: str | None = None, observed_at: datetime | None = None,
                      scheduled_at: datetime | None = None, flow_run_id: str | None = None,
                      client: Callable[[], PoliteClient] | None = None, step: StepRunner = inline,
                      fetch_elsewhere: RemoteFetch | None = None) -> SourceResult:
    """Ring's law-enforcement transparency reports (or one saved page)."""
    source = Source.TRANSPARENCY
    attempt: Attempt | None = None
    if from_file:
        capture = read_capture_file(Path(from_file), source=source, observed_at=observed_at)
        captures: list[Capture] = [capture]
        pages = [(capture, False)]
    else:
        sources = settings.transparency_sources()
        first_url = ", ".join(sources.report_urls or sources.index_urls)
        attempt, _ = begin(settings, lambda wh: Attempt.start(wh.con, source=source, mode=RunMode.LIVE, url=first_url,
                                                               flow_run_id=flow_run_id),
                           read=lambda wh: None)
        captures = []
        try:
            if fetch_elsewhere is not None:
                fetched = fetch_elsewhere(source, {})
                captures = list(fetched.captures)
            else:
                http = client() if client else polite_client(settings)
                fetched = fetch_here(settings, source, {}, http, step=step, on_capture=captures.append)
        except BaseException as exc:
            fail_keeping(settings, attempt, exc, kept=captures)
            raise
        by_url = {c.url: c for c in fetched.captures}
        pages = [(by_url[url], url in fetched.discovered) for url in fetched.report_urls]
    with writing(settings, attempt, _file_attempt(source, from_file, flow_run_id)) as (wh, attempt):
        ids = dict(zip((id(c) for c in captures), keep_captures(wh, attempt.run_id, captures), strict=True))
        done = ingest(wh, attempt, [StoredPage(c, ids[id(c)], discovered=d) for c, d in pages],
                      quarter=choose_quarter(quarter, pages[0][0].fetched_at, scheduled_at),
                      how=Ingest(settings, force=force, step=step))
    reports = done.parsed - done.unchanged_reports
    detail = (f"loaded {done.rows:,} figures from {reports} report(s), "
              f"{done.unchanged_reports} report(s) unchanged, {len(done.warnings)} warning(s).")
    return SourceResult(source, SyncStatus(done.status), detail, attempt.run_id, done.quarter, done.rows,
                        done.notes + tuple(w.detail for w in done.warnings))


def _file_attempt(source: Source, from_file: str | None,
                  flow_run_id: str | None) -> Callable[[Warehouse], Attempt]:
    """How a load from a saved file starts its attempt (in the write's own opening)."""
    return lambda wh: Attempt.start(wh.con, source=source, mode=RunMode.FILE, url=from_file, flow_run_id=flow_run_id)


def polite_client(settings: Settings) -> PoliteClient:
    from ringwatch.scrapers.http import PoliteClient

    return PoliteClient(settings.http)
