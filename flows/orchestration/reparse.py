"""The `reparse` flow: today's parsers over the stored captures, through Prefect (flows.jobs.reparse)."""

from __future__ import annotations

from prefect import flow

from ringwatch.flows.core import reparse as jobs
from ringwatch.flows.core.settings import load_settings
from ringwatch.flows.orchestration.params import as_quarter
from ringwatch.flows.orchestration.tasks import in_flow_run, log_event, prefect_steps


@flow(name="reparse")
def reparse(source: str = "all", quarter: str | None = None, force: bool = False,
            db_path: str | None = None, config_path: str | None = None) -> list[jobs.ReparseOutcome]:
    """Re-read every stored capture behind the snapshots (or one quarter's) and reload them."""
    from prefect.runtime import flow_run

    with in_flow_run():
        settings = load_settings(config_path, db_path=db_path)
        outcomes = jobs.reparse(settings, source=source, quarter=as_quarter(quarter), force=force,
                                flow_run_id=flow_run.id, progress=log_event, step=prefect_steps(settings))
        return outcomes
