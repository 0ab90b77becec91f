"""What the Prefect flows add to the jobs: each step a task, fetches retried, logs and artifacts.

Only the flows import this (and Prefect); the jobs in flows/core/ never do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ringwatch.flows.core.events import Event, EventKind
from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import StepRunner
from ringwatch.scrapers.errors import FetchError
from ringwatch.warehouse.changes import ChangeSummary
from ringwatch.warehouse.presentation.render import changes_markdown, changes_table

T = TypeVar("T")
LIBRARY_LOGGERS = ("ringwatch.scrapers", "ringwatch.warehouse", "ringwatch.flows.core")
CHANGES_KEY = "quarterly-changes"
CHANGES_LIMIT = 50


def transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry only a FetchError marked transient."""
    try:
        state.result()
    except FetchError as exc:
        return exc.transient
    except Exception:
        return False
    return False


def prefect_steps(settings: Settings) -> StepRunner:
    """A step runner that makes each step of a job a Prefect task; fetches get the task
    retries of [flow] fetch_retries, for transient failures only."""

    def run(name: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        options: dict[str, Any] = {"name": name, "cache_policy": NO_CACHE}
        if name.startswith("fetch"):
            options.update(retries=settings.flow.fetch_retries,
                           retry_delay_seconds=settings.flow.fetch_retry_delay_seconds,
                           retry_condition_fn=transient_only)
        return task(fn, **options)(*args, **kwargs)  # type: ignore[no-any-return]

    return run


def log_event(event: Event) -> None:
    """A job's progress, in the flow run's log (the Prefect UI)."""
    logger = get_run_logger()
    if event.kind is EventKind.RETRY:
        logger.warning(event.message)
    else:
        logger.info(event.message)


@contextmanager
def in_flow_run() -> Iterator[None]:
    """What every flow body runs under: the library logs in the run log, and the warehouse
    written only while the writer slot (a Prefect global concurrency limit) is held."""
    from ringwatch.flows.core.attempt import writer_slot
    from ringwatch.flows.orchestration.writer_slot import held_writer_slot

    with library_logs_to_prefect(), writer_slot(held_writer_slot):
        yield


@contextmanager
def library_logs_to_prefect() -> Iterator[None]:
    """While a flow runs, the library loggers (retries, warnings) reach its run log in the UI."""
    from prefect.logging.handlers import APILogHandler

    handler = APILogHandler()
    handler.setLevel(logging.INFO)
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def scheduled_start() -> datetime | None:
    """The flow run's scheduled start when a deployment started it, else None."""
    from prefect.runtime import deployment, flow_run

    if deployment.id is None:
        return None
    return flow_run.scheduled_start_time  # type: ignore[no-any-return]


def publish_changes(summary: ChangeSummary | None) -> str | None:
    """What changed, as a markdown and a table artifact; returns the markdown."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    if summary is None:
        return None
    markdown = changes_markdown(summary, limit=CHANGES_LIMIT)
    # A transparency-only sync has report periods but no map quarter.
    what = summary.quarter or "the transparency reports"
    create_markdown_artifact(markdown, key=CHANGES_KEY, description=f"What changed in {what}")
    table = changes_table(summary, limit=CHANGES_LIMIT)
    if table:
        create_table_artifact(table, key=f"{CHANGES_KEY}-table",
                              description=f"Agencies that joined or left in {summary.quarter}")
    else:
        create_table_artifact([{"change": "none", "agency": "", "city": "", "state": "", "type": ""}],
                              key=f"{CHANGES_KEY}-table", description=f"No joins or departures in {summary.quarter}")
    return markdown
