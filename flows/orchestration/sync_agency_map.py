"""The `sync-agency-map` flow: one source's sync through Prefect (flows.jobs.sync)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from ringwatch.flows.core import sync as jobs
from ringwatch.flows.core.settings import load_settings
from ringwatch.flows.orchestration.params import as_quarter
from ringwatch.flows.orchestration.tasks import in_flow_run, prefect_steps, scheduled_start


@flow(name="sync-agency-map")
def sync_agency_map(quarter: str | None = None, force: bool = False, from_file: str | None = None,
                    observed_at: datetime | None = None, db_path: str | None = None,
                    config_path: str | None = None, scheduled_at: datetime | None = None) -> jobs.SourceResult:
    """Take this quarter's snapshot of Ring's Active Agency Map (or of a saved KML/KMZ)."""
    from prefect.runtime import flow_run

    with in_flow_run():
        settings = load_settings(config_path, db_path=db_path)
        result = jobs.sync_agency_map(settings, quarter=as_quarter(quarter), force=force, from_file=from_file,
                                      observed_at=observed_at, scheduled_at=scheduled_at or scheduled_start(),
                                      flow_run_id=flow_run.id, step=prefect_steps(settings))
        return result
