"""The `fetch` flow: fetch one source on any worker, and keep the bytes in the capture store only.

A worker that runs it needs the network and the capture store ([warehouse] captures, s3://... when
workers are on other hosts), never the warehouse: it opens no database and takes no writer slot.
The sync flow on the writer starts it (FetchOn) when [flow] fetch_deployment names its
deployment, waits for it, and loads what its fetch list names (flows/core/fetching.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

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


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The flow run's log, or this module's outside a run (a test, a script)."""
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def read_flow_run(run_id: UUID) -> FlowRun:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


class FetchOn:
    """A RemoteFetch that runs the `fetch` flow through `deployment` ("fetch/fetch-anywhere"): one
    run fetches every source of the sync. The sync flow starts it at once (`start`), with the
    validators it can read without the writer slot, so the fetching overlaps any wait for the
    slot; otherwise the first call starts it. Waiting says every minute what the run is doing and
    gives up after [flow] patience_seconds. A run that could not be started or did not complete,
    or a source that failed in it, is a FetchError naming the deployment and the run; a sync
    records it as that source's failure."""

    def __init__(self, settings: Settings, deployment: str, sources: list[Source],
                 archive: tuple[str, str] | None = None, *, start_run: Callable[..., Any] | None = None,
                 read_run: Callable[[UUID], FlowRun] = read_flow_run, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings, self.deployment, self.sources = settings, deployment, sources
        self.archive = archive  # (since, until): a backfill's Wayback fetches instead of live pages
        self._start_run, self._read_run, self._clock, self._sleep = start_run, read_run, clock, sleep
        self.run: FlowRun | None = None
        self.list_name = ""
        self.fetched: dict[Source, FetchedPages | str] | None = None
        self.failure: FetchError | None = None  # why the run could not be started, said when it is needed

    def start(self, validators: dict[str, Validators]) -> None:
        """Start the fetch run and return at once; a failure to start is kept for the first call."""
        self.list_name = uuid.uuid4().hex
        window = {"since": self.archive[0], "until": self.archive[1]} if self.archive else {}
        if self._start_run is None:
            from prefect.deployments import run_deployment
            self._start_run = run_deployment
        try:
            run = self._start_run(self.deployment, timeout=0, parameters={
                "sources": [s.value for s in self.sources], "fetch_list": self.list_name,
                "validators": validators, **window})
        except Exception as exc:  # noqa: BLE001 - Prefect's own errors (no such deployment, no API): one line
            self.failure = FetchError(
                f"could not start a fetch run of the deployment {self.deployment} ([flow] fetch_deployment, "
                f"RINGWATCH_FETCH_DEPLOYMENT): {type(exc).__name__}: {exc}. Deploy it (prefect.yaml: "
                "fetch-anywhere) or unset the setting to fetch in this run.", url=self.deployment)
            run_logger().error(str(self.failure))
            return
        assert isinstance(run, FlowRun)  # called from a synchronous flow: never the coroutine
        self.run = run
        run_logger().info(f"fetching {', '.join(self.sources)} on a worker of the deployment {self.deployment} "
                          f"(run {run.name})")

    def __call__(self, source: Source, previous: dict[str, Capture]) -> FetchedPages:
        pages = self._fetched({source.value: validators_of(previous)}).get(source)
        if pages is None or isinstance(pages, str):
            name = self.run.name if self.run is not None else "?"
            raise FetchError(f"{source}: fetched on a worker of {self.deployment} (run {name}): "
                             f"{pages or 'the fetch list has nothing for it'}", url=self.deployment)
        return pages

    def everything(self) -> dict[Source, FetchedPages | str]:
        """The whole fetch list (started now if it was not), each source's pages or error line."""
        return self._fetched({})

    def _fetched(self, validators: dict[str, Validators]) -> dict[Source, FetchedPages | str]:
        if self.fetched is None:
            if self.run is None and self.failure is None:
                self.start(validators)
            if self.failure is not None:
                raise self.failure
            self.fetched = self._wait()
        return self.fetched

    def _wait(self) -> dict[Source, FetchedPages | str]:
        assert self.run is not None
        patience = self.settings.flow.patience_seconds
        started = said = self._clock()
        run = self._read_run(self.run.id)
        while run.state is None or not run.state.is_final():
            now = self._clock()
            if now - started > patience:
                raise FetchError(
                    f"the fetch run {run.name} of {self.deployment} is still {self._state(run)} after "
                    f"{patience:.0f} s ([flow] patience_seconds): is a worker of its pool running? Nothing was "
                    "loaded.", url=self.deployment)
            if now - said >= 60:
                said = now
                run_logger().info(f"still waiting for the fetch run {run.name} of {self.deployment}: "
                                  f"{self._state(run)} after {now - started:.0f} s")
            self._sleep(1)  # the sync waits on it: ask every second
            run = self._read_run(self.run.id)
        state = run.state
        if not state.is_completed():
            raise FetchError(f"the fetch run {run.name} ({run.id}) of {self.deployment} ended "
                             f"{state.type.value.lower()}: {state.message}. Its log in the Prefect UI says why; "
                             "nothing was loaded.", url=self.deployment)
        fetched = take_fetch_list(self.settings, self.list_name)
        run_logger().info(f"read what {run.name} fetched from the capture store: "
                          + ", ".join(f"{s}: {len(p.captures) if not isinstance(p, str) else 'failed'}"
                                      for s, p in fetched.items()))
        return fetched

    @staticmethod
    def _state(run: FlowRun) -> str:
        return (run.state.name or run.state.type.value).lower() if run.state is not None else "without a state"
