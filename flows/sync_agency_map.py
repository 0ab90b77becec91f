"""The `sync-agency-map` flow: fetch -> keep raw -> parse -> validate -> load, one quarter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.settings import Settings, load_settings
from flows.steps import (
    SyncSummary,
    choose_quarter,
    keep_captures,
    keep_partial,
    log_summary,
    open_warehouse,
    read_and_keep,
    scheduled_start,
    transient_only,
    with_fetch_retries,
)
from scrapers.agency_map import SOURCE, fetch_agency_map, parse_agency_map
from scrapers.errors import FetchError
from scrapers.http import PoliteClient
from scrapers.records import Agency, Capture, Snapshot
from warehouse.captures import BlobStore, previous_responses
from warehouse.db import Warehouse
from warehouse.identity import AliasDecision
from warehouse.load import LoadResult, load_agency_snapshot, reference_count
from warehouse.quality import validate_agency_snapshot
from warehouse.runs import RunHandle, finish_run, record_warnings, recorded_run


@task(name="fetch-agency-map", cache_policy=NO_CACHE, retry_condition_fn=transient_only)
def fetch(settings: Settings, warehouse: Warehouse, run: RunHandle, url: str) -> tuple[Capture, int]:
    """Fetch the map (wrapper, then its NetworkLink target); keep every capture."""
    previous = previous_responses(warehouse.con, BlobStore(warehouse.blob_root), SOURCE)
    try:
        captures = fetch_agency_map(PoliteClient(settings.http), url, previous=previous)
    except FetchError as exc:
        keep_partial(warehouse, run, exc)
        raise
    return captures[-1], keep_captures(warehouse, run, captures, chained=True)[-1]


@task(name="parse-agency-map", cache_policy=NO_CACHE)
def parse(capture: Capture) -> list[Agency]:
    return parse_agency_map(capture.body, source_url=capture.url)


@task(name="validate-agency-map", cache_policy=NO_CACHE)
def validate(settings: Settings, warehouse: Warehouse, agencies: list[Agency], *,
             capture: Capture, quarter: str, force: bool) -> Snapshot:
    previous_count, previous_quarter = reference_count(warehouse.con, SOURCE, quarter)
    return validate_agency_snapshot(
        agencies, source=SOURCE, url=capture.url, quarter=quarter, observed_at=capture.fetched_at,
        previous_count=previous_count, previous_quarter=previous_quarter, policy=settings.gates, force=force,
    )


@task(name="load-agency-map", cache_policy=NO_CACHE)
def load(warehouse: Warehouse, snapshot: Snapshot, *, capture: Capture, capture_id: int,
         run: RunHandle, aliases: tuple[AliasDecision, ...]) -> LoadResult:
    """Load the quarter and re-resolve identities with the reviewed aliases."""
    result = load_agency_snapshot(warehouse.con, snapshot, capture_id=capture_id,
                                  origin=capture.origin, run_id=run.run_id, aliases=aliases)
    record_warnings(warehouse.con, run.run_id, source=SOURCE, quarter=snapshot.quarter,
                    warnings=snapshot.warnings + result.identity_warnings)
    return result


@flow(name="sync-agency-map")
def sync_agency_map(
    quarter: str | None = None,
    force: bool = False,
    from_file: str | None = None,
    observed_at: datetime | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
    scheduled_at: datetime | None = None,
) -> dict[str, Any]:
    """Take this quarter's snapshot of Ring's Active Agency Map (or of a saved KML/KMZ)."""
    from prefect.runtime import flow_run

    settings = load_settings(config_path, db_path=db_path)
    url = from_file or settings.map_url()
    fetch_with_retries = with_fetch_retries(fetch, settings)
    with open_warehouse(settings) as wh, recorded_run(
        wh.con, source=SOURCE, mode="file" if from_file else "live", flow_run_id=flow_run.id, url=url,
    ) as run:
        if from_file:
            capture, capture_id = read_and_keep(wh, run, SOURCE, from_file, observed_at)
        else:
            capture, capture_id = fetch_with_retries(settings, wh, run, url)
        run.quarter = choose_quarter(quarter, capture.fetched_at, scheduled_at or scheduled_start())
        agencies = parse(capture)
        snapshot = validate(settings, wh, agencies, capture=capture, quarter=run.quarter, force=force)
        result = load(wh, snapshot, capture=capture, capture_id=capture_id, run=run, aliases=settings.aliases)
        finish_run(wh.con, run.run_id, status="success" if result.status == "loaded" else "unchanged",
                   quarter=run.quarter, rows_loaded=result.rows_loaded, capture_id=capture_id)
    if result.status == "loaded":
        detail = (f"loaded {result.rows_loaded:,} agencies from {capture.url} (capture {capture_id}, "
                  f"sha256 {capture.sha256[:12]}), {len(snapshot.warnings)} warning(s).")
    else:
        detail = (f"kept the existing snapshot observed {result.kept_observation}, which is nearer the "
                  f"quarter's end; this capture ({capture_id}) is stored but not loaded.")
    summary = SyncSummary(run_id=run.run_id, source=SOURCE, quarter=run.quarter, status=result.status,
                          rows_loaded=result.rows_loaded, detail=detail,
                          warnings=tuple(w.detail for w in snapshot.warnings))
    return log_summary(summary)
