"""Steps shared by the sync flows: keeping captures, choosing the quarter, retry policy."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from scrapers.errors import FetchError
from scrapers.files import read_capture_file
from scrapers.records import Capture
from warehouse.captures import BlobStore, store_capture
from warehouse.db import Warehouse
from warehouse.quarters import Quarter, quarter_for
from warehouse.runs import RunHandle


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """What one source's sync did, for the log, the CLI and the flow's return value."""

    run_id: int
    source: str
    quarter: str
    status: str  # loaded | unchanged | kept_existing
    rows_loaded: int
    detail: str
    warnings: tuple[str, ...] = ()

    def line(self) -> str:
        return f"{self.source} {self.quarter}: {self.detail}"


def open_warehouse(settings: Any) -> Warehouse:
    """The database, once the writer lock is ours (waiting up to the configured time)."""
    return Warehouse.open(settings.db_path, lock_timeout_seconds=settings.lock_timeout_seconds)


def with_fetch_retries(fetch_task: Any, settings: Any) -> Any:
    """The fetch task with Prefect's later retries from [flow] in the config."""
    return fetch_task.with_options(retries=settings.flow.fetch_retries,
                                   retry_delay_seconds=settings.flow.fetch_retry_delay_seconds)


def log_summary(summary: SyncSummary) -> dict[str, Any]:
    """Put the summary in the flow run's log and return it as the flow's result."""
    from prefect import get_run_logger

    logger = get_run_logger()
    logger.info(summary.line())
    for warning in summary.warnings:
        logger.warning(warning)
    return asdict(summary)


def transient_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry only a FetchError marked transient."""
    try:
        state.result()
    except FetchError as exc:
        return exc.transient
    except Exception:
        return False
    return False


def keep_captures(warehouse: Warehouse, run: RunHandle, captures: list[Capture], *,
                  chained: bool = False, parent: int | None = None) -> list[int]:
    """Store captures (bytes once per sha256, a row each); return their ids in order.

    With `chained`, each capture records the one before it as its parent (a NetworkLink);
    `parent` is the first one's parent.
    """
    store = BlobStore(warehouse.blob_root)
    ids: list[int] = []
    for capture in captures:
        parent = ids[-1] if chained and ids else parent if not ids else None
        ids.append(store_capture(warehouse.con, store, capture, run_id=run.run_id, parent_capture_id=parent))
    if ids:
        run.capture_id = ids[-1]
    return ids


def keep_partial(warehouse: Warehouse, run: RunHandle, exc: FetchError) -> None:
    """Whatever bytes a failed fetch got are kept as evidence before the error goes on."""
    if isinstance(exc.partial, Capture):
        keep_captures(warehouse, run, [exc.partial])


@task(name="read-file", cache_policy=NO_CACHE)
def read_and_keep(warehouse: Warehouse, run: RunHandle, source: str, path: str,
                  observed_at: datetime | None) -> tuple[Capture, int]:
    capture = read_capture_file(Path(path), source=source, observed_at=observed_at)
    return capture, keep_captures(warehouse, run, [capture])[0]


def choose_quarter(explicit: str | None, observed_at: datetime,
                   scheduled_at: datetime | None = None) -> str:
    """--quarter wins; a deployment's scheduled start time next; else the observation.

    A scheduled run that starts late still records the quarter it was scheduled for.
    """
    if explicit:
        return str(Quarter.parse(explicit))
    return str(quarter_for(scheduled_at or observed_at))


def scheduled_start() -> datetime | None:
    """The flow run's scheduled start when a deployment started it, else None."""
    from prefect.runtime import deployment, flow_run

    if deployment.id is None:
        return None
    return flow_run.scheduled_start_time  # type: ignore[no-any-return]


CHANGES_KEY = "quarterly-changes"
CHANGES_LIMIT = 50


def publish_changes(settings: Any, quarter: str | None) -> str:
    """Publish what changed as a markdown and a table artifact; return the markdown."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from warehouse.read import read_changes

    summary = read_changes(settings.db_path, quarter)
    markdown = summary.markdown(limit=CHANGES_LIMIT)
    create_markdown_artifact(markdown, key=CHANGES_KEY, description=f"What changed in {summary.quarter}")
    table = summary.table(limit=CHANGES_LIMIT)
    if table:
        create_table_artifact(table, key=f"{CHANGES_KEY}-table",
                              description=f"Agencies that joined or left in {summary.quarter}")
    else:
        create_table_artifact([{"change": "none", "agency": "", "city": "", "state": "", "type": ""}],
                              key=f"{CHANGES_KEY}-table", description=f"No joins or departures in {summary.quarter}")
    return markdown
