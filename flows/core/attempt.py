"""An attempt recorded in sync_runs across the two moments a sync touches the database.

A sync fetches before it takes the writer lock, so that readers are refused only during the
write: the attempt is written (briefly, under the lock) before the fetch, and finished
after. Whatever ends it, a failure, a refusal, Ctrl-C or SIGTERM, is written as its error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ringwatch.flows.core.events import interruption
from ringwatch.flows.core.steps import keep_captures
from ringwatch.scrapers.errors import RingwatchError
from ringwatch.scrapers.records import Capture
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.runs import RunStatus, finish_run, start_run

T = TypeVar("T")


def open_warehouse(settings: Any) -> Warehouse:
    """The database, once the writer lock is ours (waiting up to the configured time)."""
    return Warehouse.open(settings.db_path, lock_timeout_seconds=settings.lock_timeout_seconds)


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return interruption(exc)
    if isinstance(exc, RingwatchError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def begin(settings: Any, *, source: str, mode: str, url: str | None, flow_run_id: str | None,
          read: Callable[[Warehouse], T]) -> tuple[int, T]:
    """Record the attempt and read what the fetch needs (stored validators), then let go."""
    with open_warehouse(settings) as wh:
        run_id = start_run(wh.con, source=source, mode=mode, flow_run_id=flow_run_id, url=url)
        return run_id, read(wh)


def fail(settings: Any, run_id: int, exc: BaseException, *, partial: object = None) -> None:
    """Finish the attempt as failed, keeping whatever bytes a failed fetch did get."""
    with open_warehouse(settings) as wh:
        capture_id = None
        if isinstance(partial, Capture):
            capture_id = keep_captures(wh, run_id, [partial])[0]
        finish_run(wh.con, run_id, status=RunStatus.FAILED, error=reason_of(exc), capture_id=capture_id)


@contextmanager
def writing(settings: Any, run_id: int | None, state: dict[str, Any],
            **start: Any) -> Iterator[tuple[Warehouse, int]]:
    """The write phase, yielding the warehouse and the attempt's run id: an attempt not yet
    recorded (no network came first: a file load) is started here, with `start`, in the same
    opening. On any exception the attempt is finished as failed with its reason (`state`
    carries the quarter and capture known so far), and the exception goes on."""
    with open_warehouse(settings) as wh:
        if run_id is None:
            run_id = start_run(wh.con, **start)
        try:
            yield wh, run_id
        except BaseException as exc:
            finish_run(wh.con, run_id, status=RunStatus.FAILED, quarter=state.get("quarter"),
                       error=reason_of(exc), capture_id=state.get("capture_id"))
            raise
