"""The `fetch` flow: fetch one source on any worker, and keep the bytes in the capture store only.

A worker that runs it needs the network and the capture store ([warehouse] captures, s3://... when
workers are on other hosts), never the warehouse: it opens no database and takes no writer slot.
The sync flow on the writer starts it (FetchOn) when [flow] fetch_deployment names its
deployment, waits for it, and loads what its fetch list names (flows/core/fetching.py).
"""

from __future__ import annotations

import time
import uuid

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import FlowRun

from ringwatch.flows.core.fetching import (
    FetchedPages,
    Validators,
    fetch_to_store,
    take_fetch_list,
    validators_of,
)
from ringwatch.flows.core.settings import Settings, load_settings
from ringwatch.flows.orchestration.tasks import library_logs_to_prefect, prefect_steps
from ringwatch.scrapers.errors import FetchError
from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Source


@flow(name="fetch")
def fetch(sources: list[str], fetch_list: str, validators: dict[str, Validators] | None = None,
          config_path: str | None = None) -> str:
    """Fetch `sources` live, put every body and then the fetch list `fetch_list` in the capture
    store; return where the list is. Started by a sync on the writer, not by hand."""
    with library_logs_to_prefect():
        settings = load_settings(config_path)
        # A scheduled run waits [flow] patience_seconds on the network, as the sync flow does.
        client = PoliteClient(settings.http, deadline=time.monotonic() + settings.flow.patience_seconds)
        where = fetch_to_store(settings, [Source(s) for s in sources], validators or {}, fetch_list, client,
                               step=prefect_steps(settings))
        get_run_logger().info(f"fetched {', '.join(sources)}; the writer reads the list at {where}")
        return where


class FetchOn:
    """A RemoteFetch that runs the `fetch` flow through `deployment` ("fetch/fetch-anywhere"): one
    run fetches every source of the sync at its first call (the map's stored validators go with
    it), and later calls take their source's pages from that run's list. A failed fetch run, or a
    source that failed in it, is a FetchError naming the run."""

    def __init__(self, settings: Settings, deployment: str, sources: list[Source]) -> None:
        self.settings, self.deployment, self.sources = settings, deployment, sources
        self.fetched: dict[Source, FetchedPages | str] | None = None
        self.run_name = ""

    def __call__(self, source: Source, previous: dict[str, Capture]) -> FetchedPages:
        if self.fetched is None or source not in self.fetched:
            self.fetched = self._run(source, previous)
        pages = self.fetched.get(source)
        if pages is None or isinstance(pages, str):
            raise FetchError(f"{source}: fetched on a worker of {self.deployment} (run {self.run_name}): "
                             f"{pages or 'the fetch list has nothing for it'}", url=self.deployment)
        return pages

    def _run(self, first: Source, previous: dict[str, Capture]) -> dict[Source, FetchedPages | str]:
        from prefect.deployments import run_deployment

        logger = get_run_logger()
        sources = [first, *(s for s in self.sources if s is not first)]
        name = uuid.uuid4().hex
        logger.info(f"fetching {', '.join(sources)} on a worker of the deployment {self.deployment}")
        # The sync waits on it: ask every second rather than every five (Prefect's default).
        run = run_deployment(self.deployment, timeout=None, poll_interval=1, parameters={
            "sources": [s.value for s in sources], "fetch_list": name,
            "validators": {first.value: validators_of(previous)}})
        assert isinstance(run, FlowRun)  # called from a synchronous flow: never the coroutine
        self.run_name = run.name
        state = run.state
        if state is None or not state.is_completed():
            what = f"{state.type.value.lower()}: {state.message}" if state is not None else "with no state"
            raise FetchError(f"{first}: the fetch run {run.name} ({run.id}) of {self.deployment} ended {what}. "
                             "Its log in the Prefect UI says why; nothing was loaded.", url=self.deployment)
        fetched = take_fetch_list(self.settings, name)
        logger.info(f"read what {run.name} fetched from the capture store: "
                    + ", ".join(f"{s}: {len(p.captures) if not isinstance(p, str) else 'failed'}"
                                for s, p in fetched.items()))
        return fetched
