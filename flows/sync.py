"""The `sync` flow: fetch -> keep raw -> parse -> validate -> load, one quarter per run.

The flow only wires library functions together; every decision lives in scrapers/ or
warehouse/. Retries: the HTTP client retries quickly inside one task; Prefect retries the
fetch task later, and only when the error is transient (a 404 or a robots.txt refusal is
not worth retrying).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.settings import Settings, load_settings
from scrapers.agency_map import SOURCE as AGENCY_MAP
from scrapers.agency_map import fetch_agency_map, parse_agency_map
from scrapers.errors import ConfigError, FetchError
from scrapers.files import read_capture_file
from scrapers.http import PoliteClient
from scrapers.records import Agency, Capture, Snapshot
from warehouse.captures import BlobStore, previous_responses, store_capture
from warehouse.db import Warehouse
from warehouse.load import LoadResult, load_agency_snapshot, reference_count
from warehouse.quality import validate_agency_snapshot
from warehouse.quarters import Quarter, quarter_for
from warehouse.runs import RunHandle, finish_run, record_warnings, recorded_run

SOURCES = (AGENCY_MAP,)


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """What a sync did, for the log, the CLI and the flow's return value."""

    run_id: int
    source: str
    quarter: str
    status: str  # loaded | kept_existing
    rows_loaded: int
    url: str
    capture_id: int
    sha256: str
    warnings: tuple[str, ...]
    kept_observation: str | None = None

    def line(self) -> str:
        if self.status == "kept_existing":
            return (f"{self.source} {self.quarter}: kept the existing snapshot observed "
                    f"{self.kept_observation}, which is nearer the quarter's end; this "
                    f"capture ({self.capture_id}) is stored but not loaded.")
        return (f"{self.source} {self.quarter}: loaded {self.rows_loaded:,} agencies from "
                f"{self.url} (capture {self.capture_id}, sha256 {self.sha256[:12]}), "
                f"{len(self.warnings)} warning(s).")


def _transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry only a FetchError marked transient."""
    try:
        state.result()
    except FetchError as exc:
        return exc.transient
    except Exception:
        return False
    return False


@task(name="fetch", cache_policy=NO_CACHE, retry_condition_fn=_transient_only)
def fetch_and_keep(settings: Settings, warehouse: Warehouse, run: RunHandle,
                   source: str, url: str) -> tuple[Capture, int]:
    """Fetch the source; store every capture (even a partial one) before returning."""
    store = BlobStore(warehouse.blob_root)
    client = PoliteClient(settings.http)
    previous = previous_responses(warehouse.con, store, source)
    try:
        captures = fetch_agency_map(client, url, previous=previous)
    except FetchError as exc:
        if isinstance(exc.partial, Capture):
            run.capture_id = store_capture(warehouse.con, store, exc.partial, run_id=run.run_id)
        raise
    return _keep(warehouse, run, captures)


@task(name="read-file", cache_policy=NO_CACHE)
def read_and_keep(warehouse: Warehouse, run: RunHandle, source: str, path: str,
                  observed_at: datetime | None) -> tuple[Capture, int]:
    return _keep(warehouse, run, [read_capture_file(Path(path), source=source,
                                                    observed_at=observed_at)])


def _keep(warehouse: Warehouse, run: RunHandle, captures: list[Capture]) -> tuple[Capture, int]:
    store = BlobStore(warehouse.blob_root)
    parent: int | None = None
    for capture in captures:
        parent = store_capture(warehouse.con, store, capture, run_id=run.run_id,
                               parent_capture_id=parent)
    assert parent is not None
    run.capture_id = parent
    return captures[-1], parent


@task(name="parse", cache_policy=NO_CACHE)
def parse(capture: Capture) -> list[Agency]:
    return parse_agency_map(capture.body, source_url=capture.url)


@task(name="validate", cache_policy=NO_CACHE)
def validate(settings: Settings, warehouse: Warehouse, agencies: list[Agency], *,
             capture: Capture, quarter: str, force: bool) -> Snapshot:
    previous_count, previous_quarter = reference_count(warehouse.con, capture.source, quarter)
    return validate_agency_snapshot(
        agencies, source=capture.source, url=capture.url, quarter=quarter,
        observed_at=capture.fetched_at, previous_count=previous_count,
        previous_quarter=previous_quarter, policy=settings.gates, force=force,
    )


@task(name="load", cache_policy=NO_CACHE)
def load(warehouse: Warehouse, snapshot: Snapshot, *, capture: Capture, capture_id: int,
         run: RunHandle) -> LoadResult:
    result = load_agency_snapshot(warehouse.con, snapshot, capture_id=capture_id,
                                  origin=capture.origin, run_id=run.run_id)
    record_warnings(warehouse.con, run.run_id, source=snapshot.source,
                    quarter=snapshot.quarter, warnings=snapshot.warnings)
    return result


def choose_quarter(explicit: str | None, observed_at: datetime,
                   scheduled_at: datetime | None = None) -> str:
    """--quarter wins; a deployment's scheduled start time next; else the observation.

    A scheduled run that starts late still records the quarter it was scheduled for.
    """
    if explicit:
        return str(Quarter.parse(explicit))
    return str(quarter_for(scheduled_at or observed_at))


def scheduled_start() -> datetime | None:
    """The flow run's scheduled start when a deployment started it, else None."""
    from prefect.runtime import deployment, flow_run

    if deployment.id is None:
        return None
    return flow_run.scheduled_start_time  # type: ignore[no-any-return]


@flow(name="sync")
def sync(
    source: str = AGENCY_MAP,
    quarter: str | None = None,
    force: bool = False,
    from_file: str | None = None,
    observed_at: datetime | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
) -> dict[str, Any]:
    """Take this quarter's snapshot of a source (or of a saved file) into DuckDB."""
    from prefect.runtime import flow_run

    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; known: {', '.join(SOURCES)}.")
    settings = load_settings(config_path, db_path=db_path)
    url = from_file or settings.url_for(source)
    fetch = fetch_and_keep.with_options(
        retries=settings.flow.fetch_retries,
        retry_delay_seconds=settings.flow.fetch_retry_delay_seconds,
    )
    with Warehouse.open(settings.db_path) as wh, recorded_run(
        wh.con, source=source, mode="file" if from_file else "live",
        flow_run_id=flow_run.id, url=url,
    ) as run:
        if from_file:
            capture, capture_id = read_and_keep(wh, run, source, from_file, observed_at)
        else:
            capture, capture_id = fetch(settings, wh, run, source, url)
        run.quarter = choose_quarter(quarter, capture.fetched_at, scheduled_start())
        agencies = parse(capture)
        snapshot = validate(settings, wh, agencies, capture=capture, quarter=run.quarter,
                            force=force)
        result = load(wh, snapshot, capture=capture, capture_id=capture_id, run=run)
        finish_run(wh.con, run.run_id, status="success" if result.status == "loaded"
                   else "unchanged", quarter=run.quarter, rows_loaded=result.rows_loaded,
                   capture_id=capture_id)
    summary = SyncSummary(
        run_id=run.run_id, source=source, quarter=run.quarter, status=result.status,
        rows_loaded=result.rows_loaded, url=capture.url, capture_id=capture_id,
        sha256=capture.sha256, warnings=tuple(w.detail for w in snapshot.warnings),
        kept_observation=str(result.kept_observation) if result.kept_observation else None,
    )
    logger = get_run_logger()
    logger.info(summary.line())
    for warning in summary.warnings:
        logger.warning(warning)
    return asdict(summary)
