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
    fetch_archive_to_store,
    fetch_to_store,
    take_fetch_list,
    validators_of,
)
from ringwatch.flows.core.settings import Settings, load_settings
from ringwatch.flows.orchestration.params import required_quarter
from ringwatch.flows.orchestration.tasks import library_logs_to_prefect, prefect_steps
from ringwatch.scrapers.errors import FetchError
from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Source


@flow(name="fetch")
def fetch(sources: list[str], fetch_list: str, validators: dict[str, Validators] | None = None,
          since: str | None = None, until: str | None = None, config_path: str | None = None) -> str:
    """Fetch `sources` live (or, with `since` and `until`, what their backfill needs from the
    Wayback Machine), put every body and then the fetch list `fetch_list` in the capture store;
    return where the list is. Started by a sync or a backfill on the writer, not by hand."""
    with library_logs_to_prefect():
        settings = load_settings(config_path)
        # A scheduled run waits [flow] patience_seconds on the network, as the sync flow does.
        client = PoliteClient(settings.http, deadline=time.monotonic() + settings.flow.patience_seconds)
        chosen, step = [Source(s) for s in sources], prefect_steps(settings)
        if since and until:
            where = fetch_archive_to_store(settings, chosen, required_quarter(since), required_quarter(until),
                                           fetch_list, client, step=step)
        else:
            where = fetch_to_store(settings, chosen, validators or {}, fetch_list, client, step=step)
        get_run_logger().info(f"fetched {', '.join(sources)}; the writer reads the list at {where}")
        return where


class FetchOn:
    """A RemoteFetch that runs the `fetch` flow through `deployment` ("fetch/fetch-anywhere"): one
    run fetches every source of the sync. The sync flow starts it at once (`start`), with the
    validators it can read without the writer slot, so the fetching overlaps any wait for the
    slot; otherwise the first call starts it. A failed fetch run, or a source that failed in
    it, is a FetchError naming the run."""

    def __init__(self, settings: Settings, deployment: str, sources: list[Source],
                 archive: tuple[str, str] | None = None) -> None:
        self.settings, self.deployment, self.sources = settings, deployment, sources
        self.archive = archive  # (since, until): a backfill's Wayback fetches instead of live pages
        self.run: FlowRun | None = None
        self.list_name = ""
        self.fetched: dict[Source, FetchedPages | str] | None = None

    def start(self, validators: dict[str, Validators]) -> None:
        """Start the fetch run and return at once."""
        from prefect.deployments import run_deployment

        self.list_name = uuid.uuid4().hex
        window = {"since": self.archive[0], "until": self.archive[1]} if self.archive else {}
        run = run_deployment(self.deployment, timeout=0, parameters={
            "sources": [s.value for s in self.sources], "fetch_list": self.list_name, "validators": validators,
            **window})
        assert isinstance(run, FlowRun)  # called from a synchronous flow: never the coroutine
        self.run = run
        get_run_logger().info(f"fetching {', '.join(self.sources)} on a worker of the deployment {self.deployment} "
                              f"(run {run.name})")

    def __call__(self, source: Source, previous: dict[str, Capture]) -> FetchedPages:
        if self.fetched is None:
            if self.run is None:
                self.start({source.value: validators_of(previous)})
            self.fetched = self._wait()
        pages = self.fetched.get(source)
        if pages is None or isinstance(pages, str):
            name = self.run.name if self.run is not None else "?"
            raise FetchError(f"{source}: fetched on a worker of {self.deployment} (run {name}): "
                             f"{pages or 'the fetch list has nothing for it'}", url=self.deployment)
        return pages

    def everything(self) -> dict[Source, FetchedPages | str]:
        """The whole fetch list (started now if it was not), each source's pages or error line."""
        if self.fetched is None:
            if self.run is None:
                self.start({})
            self.fetched = self._wait()
        return self.fetched

    def _wait(self) -> dict[Source, FetchedPages | str]:
        from prefect.client.orchestration import get_client

        assert self.run is not None
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(self.run.id)
            while run.state is None or not run.state.is_final():
                time.sleep(1)  # the sync waits on it: ask every second
                run = client.read_flow_run(self.run.id)
        state = run.state
        if not state.is_completed():
            raise FetchError(f"the fetch run {run.name} ({run.id}) of {self.deployment} ended "
                             f"{state.type.value.lower()}: {state.message}. Its log in the Prefect UI says why; "
                             "nothing was loaded.", url=self.deployment)
        fetched = take_fetch_list(self.settings, self.list_name)
        get_run_logger().info(f"read what {run.name} fetched from the capture store: "
                              + ", ".join(f"{s}: {len(p.captures) if not isinstance(p, str) else 'failed'}"
                                          for s, p in fetched.items()))
        return fetched
