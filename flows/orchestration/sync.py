"""The `sync` flow: the quarterly sync of every selected source, through Prefect.

Thin wiring over flows.core.sync: each step of the job becomes a task (fetches retried by
Prefect for transient failures), progress goes to the run log, and what changed becomes the
`quarterly-changes` artifacts. Scheduled runs wait [flow] patience_seconds on the network. With
[flow] fetch_deployment set, live pages are fetched by a `fetch` run on another worker (fetch.py)
and loaded here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger

from ringwatch.flows.core import sync as jobs
from ringwatch.flows.core.fetching import stored_validators
from ringwatch.flows.core.settings import load_settings
from ringwatch.flows.orchestration.fetch import FetchOn
from ringwatch.flows.orchestration.params import as_quarter
from ringwatch.flows.orchestration.tasks import (
    in_flow_run,
    log_event,
    prefect_steps,
    publish_changes,
    scheduled_start,
)
from ringwatch.scrapers.errors import RingwatchError
from ringwatch.scrapers.sources import sources_for
from ringwatch.warehouse.staleness import StalenessPolicy


class SyncFailed(RingwatchError):
    """At least one source failed; `result` holds every source's outcome and what changed."""

    def __init__(self, result: jobs.SyncResult) -> None:
        super().__init__("; ".join(r.detail for r in result.results if r.failed))
        self.result = result


@flow(name="sync")
def sync(
    source: str = "all",
    quarter: str | None = None,
    force: bool = False,
    from_file: str | None = None,
    observed_at: datetime | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
) -> jobs.SyncResult:
    """Sync the selected sources (default: all); fails if any source failed, after the others ran."""
    from prefect.runtime import flow_run

    with in_flow_run():
        settings = load_settings(config_path, db_path=db_path)
        deployment = settings.flow.fetch_deployment
        elsewhere = FetchOn(settings, deployment, list(sources_for(source))) if deployment else None
        if elsewhere is not None and not from_file:
            elsewhere.start(stored_validators(settings))  # fetching begins before the writer slot is ours
        result = jobs.sync(settings, source=source, quarter=as_quarter(quarter), force=force, from_file=from_file,
                           observed_at=observed_at, scheduled_at=scheduled_start(), flow_run_id=flow_run.id,
                           progress=log_event, step=prefect_steps(settings),
                           patience_seconds=settings.flow.patience_seconds,
                           fetch_elsewhere=elsewhere)
        logger = get_run_logger()
        for outcome in result.results:
            (logger.error if outcome.failed else logger.info)(outcome.line())
            for warning in outcome.warnings:
                logger.warning(warning)
        publish_changes(result.changes)
        if result.failed:
            raise SyncFailed(result)
        if settings.publish.target:
            publish_release(settings.db_path, settings.publish.target, settings.staleness)
        return result


def publish_release(db_path: Path, target: str, policy: StalenessPolicy) -> None:
    """After a successful sync: publish the warehouse to [publish] target and log the release id.

    Unchanged data has the release id of the last one, which is then already there: nothing is
    written. A failed publish fails the flow run (the sync's load stands), so it is seen.
    """
    from ringwatch.warehouse.presentation.publish.release import publish

    logger = get_run_logger()
    try:
        done = publish(db_path, target, policy=policy)
    except RingwatchError as exc:
        logger.error(f"the sync succeeded, but publishing to {target} failed: {exc}")
        raise
    if done.already_published:
        logger.info(f"release {done.release_id} is already published at {done.location}; nothing was written")
    else:
        logger.info(f"published release {done.release_id} to {done.location} ({done.files} files)"
                    + ("; latest.json names it" if done.latest else ""))
