"""The `import-atlas` flow: an EFF Atlas of Surveillance export as a past agency-map snapshot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.settings import load_settings
from flows.steps import SyncSummary, keep_captures, log_summary, open_warehouse
from flows.sync_agency_map import load, validate
from scrapers.atlas import observed_at_from_name, parse_atlas_csv
from scrapers.errors import ConfigError
from scrapers.files import read_capture_file
from scrapers.records import Agency, Capture
from warehouse.quarters import quarter_for
from warehouse.runs import finish_run, recorded_run

SOURCE = "agency_map"


@task(name="parse-atlas", cache_policy=NO_CACHE)
def parse_atlas(capture: Capture) -> list[Agency]:
    return parse_atlas_csv(capture.body, source_url=capture.url)


@flow(name="import-atlas")
def import_atlas(path: str, observed_at: datetime | None = None, force: bool = False,
                 db_path: str | None = None, config_path: str | None = None) -> dict[str, Any]:
    """Load the Ring rows of an Atlas export as the snapshot of the quarter it was taken in."""
    from prefect.runtime import flow_run

    settings = load_settings(config_path, db_path=db_path)
    when = observed_at or observed_at_from_name(Path(path).name)
    if when is None:
        raise ConfigError(f"atlas: cannot tell when {path} was exported: its name has no YYYYMMDD stamp; "
                          "pass --observed-at.")
    with open_warehouse(settings) as wh, recorded_run(
        wh.con, source=SOURCE, mode="atlas", flow_run_id=flow_run.id, url=path,
    ) as run:
        capture = read_capture_file(Path(path), source=SOURCE, observed_at=when, origin="atlas")
        capture_id = keep_captures(wh, run, [capture])[0]
        run.quarter = str(quarter_for(when))
        agencies = parse_atlas(capture)
        snapshot = validate(settings, wh, agencies, capture=capture, quarter=run.quarter, force=force)
        result = load(wh, snapshot, capture=capture, capture_id=capture_id, run=run, aliases=settings.aliases)
        finish_run(wh.con, run.run_id, status="success" if result.status == "loaded" else "unchanged",
                   quarter=run.quarter, rows_loaded=result.rows_loaded, capture_id=capture_id)
    undated = sum(a.active_date is None for a in snapshot.agencies)
    detail = (f"loaded {result.rows_loaded:,} agencies from {len(agencies):,} Ring rows of {path} "
              f"(observed {when:%Y-%m-%d}; {len(snapshot.warnings)} duplicate(s) merged, {undated} without a date)"
              if result.status == "loaded" else
              f"kept the existing snapshot observed {result.kept_observation}, which is nearer the quarter's end.")
    summary = SyncSummary(run_id=run.run_id, source="atlas", quarter=run.quarter, status=result.status,
                          rows_loaded=result.rows_loaded, detail=detail,
                          warnings=tuple(w.detail for w in snapshot.warnings))
    return log_summary(summary)
