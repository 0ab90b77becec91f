"""The `backfill` flow: fill past quarters from the Wayback Machine, through Prefect
(flows.core.backfill), with a progress artifact. It fails when a quarter failed. With [flow]
fetch_deployment set, a fetch worker fetches from the archive first, and the writer takes what
it fetched before the network."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from ringwatch.flows.core import backfill as jobs
from ringwatch.flows.core.events import Event
from ringwatch.flows.core.fetching import by_url
from ringwatch.flows.core.settings import Settings, load_settings
from ringwatch.flows.orchestration.fetch import FetchOn, run_logger
from ringwatch.flows.orchestration.params import required_quarter
from ringwatch.flows.orchestration.tasks import in_flow_run, prefect_steps
from ringwatch.scrapers.errors import FetchError, RingwatchError
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Source, sources_for


class BackfillFailed(RingwatchError):
    """A quarter that had archived captures could not be filled; `outcomes` holds every quarter's."""

    def __init__(self, outcomes: list[jobs.QuarterOutcome]) -> None:
        super().__init__("; ".join(f"{o.source} {o.quarter}: {o.reason}" for o in outcomes if o.failed))
        self.outcomes = outcomes


@flow(name="backfill")
def backfill(since: str, until: str, source: str = "all", dry_run: bool = False, force: bool = False,
             db_path: str | None = None, config_path: str | None = None) -> list[jobs.QuarterOutcome]:
    """Fill past quarters (both ends inclusive) from the Internet Archive."""
    from prefect.artifacts import create_progress_artifact, update_progress_artifact
    from prefect.runtime import flow_run

    with in_flow_run():
        settings = load_settings(config_path, db_path=db_path)
        artifact: list[Any] = []

        def progress(event: Event) -> None:
            share = 100.0 * (event.done or 0) / event.total if event.total else 100.0
            if not artifact:
                artifact.append(create_progress_artifact(share, key="backfill-progress",
                                                         description="Quarters backfilled"))
            else:
                update_progress_artifact(artifact[0], share, description=event.message)

        logger = get_run_logger()
        first, last = required_quarter(since), required_quarter(until)  # a bad quarter is said before any run
        prefetched = None
        if settings.flow.fetch_deployment and not dry_run:
            prefetched = fetched_elsewhere(settings, since, until, list(sources_for(source)))
        outcomes = jobs.backfill(settings, since=first, until=last, source=source,
                                 dry_run=dry_run, force=force, flow_run_id=flow_run.id, progress=progress,
                                 step=prefect_steps(settings), prefetched=prefetched)
        for outcome in outcomes:
            logger.info("%s %s: %s %s", outcome.source, outcome.quarter, outcome.status, outcome.reason or "")
        if any(o.failed for o in outcomes):
            raise BackfillFailed(outcomes)
        return outcomes


def fetched_elsewhere(settings: Settings, since: str, until: str, sources: list[Source]) -> dict[str, Capture]:
    """The Wayback fetches of this backfill, made on a worker of [flow] fetch_deployment before
    the writer slot is taken. What failed there (a source, or the whole fetch run) is fetched
    here instead, and the log says so."""
    elsewhere = FetchOn(settings, settings.flow.fetch_deployment, sources, archive=(since, until))
    try:
        fetched = elsewhere.everything()
    except FetchError as exc:
        run_logger().warning(f"{exc} Fetching the backfill here instead.")
        return {}
    for source, pages in fetched.items():
        if isinstance(pages, str):
            run_logger().warning(f"{source}: the fetch worker could not fetch it ({pages}); fetching it here")
    return by_url(fetched)
