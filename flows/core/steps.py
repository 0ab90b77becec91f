"""Steps shared by the jobs, and the seam where Prefect turns them into tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from ringwatch.scrapers.records import Capture
from ringwatch.warehouse.captures import store_capture
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.quarters import Quarter, quarter_for

T = TypeVar("T")


class StepRunner(Protocol):
    """Runs one named step of a job. In-process it just calls it; the Prefect flows pass a
    runner that makes each step a task (with retries for fetches)."""

    def __call__(self, name: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...


def inline(name: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    return fn(*args, **kwargs)


def keep_captures(warehouse: Warehouse, run_id: int | None, captures: list[Capture], *,
                  chained: bool = False, parent: int | None = None) -> list[int]:
    """Store captures (bytes once per sha256, a row each); return their ids in order.

    With `chained`, each capture records the one before it as its parent (a NetworkLink);
    `parent` is the first one's parent.
    """
    store = warehouse.captures
    ids: list[int] = []
    for capture in captures:
        link = ids[-1] if chained and ids else parent if not ids else None
        ids.append(store_capture(warehouse.con, store, capture, run_id=run_id, parent_capture_id=link))
    return ids


def choose_quarter(explicit: Quarter | None, observed_at: datetime, scheduled_at: datetime | None = None) -> Quarter:
    """--quarter wins; a deployment's scheduled start time next; else the observation.

    A scheduled run that starts late still records the quarter it was scheduled for.
    """
    if explicit is not None:
        return explicit
    return quarter_for(scheduled_at or observed_at)
