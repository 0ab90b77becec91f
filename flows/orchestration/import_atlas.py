"""The `import-atlas` flow: an EFF Atlas export as a past snapshot, through Prefect (flows.jobs.atlas)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from ringwatch.flows.core import atlas as jobs
from ringwatch.flows.core.settings import load_settings
from ringwatch.flows.orchestration.tasks import in_flow_run, prefect_steps


@flow(name="import-atlas")
def import_atlas(path: str, observed_at: datetime | None = None, force: bool = False,
                 db_path: str | None = None, config_path: str | None = None) -> jobs.ImportResult:
    """Load the Ring rows of an Atlas export as the snapshot of the quarter it was taken in."""
    from prefect.runtime import flow_run

    with in_flow_run():
        settings = load_settings(config_path, db_path=db_path)
        result = jobs.import_atlas(settings, path, observed_at=observed_at, force=force, flow_run_id=flow_run.id,
                                   step=prefect_steps(settings))
        return result
