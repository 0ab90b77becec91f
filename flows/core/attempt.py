"""The database openings of an attempt (warehouse/runs.py Attempt) around a fetch.

A sync fetches before it takes the writer lock, so that readers are refused only during the
write: the attempt is started (briefly, under the lock) before the fetch, and finished
after, in a second opening. Whatever ends it, a failure, a refusal, Ctrl-C or SIGTERM, is
written as its error. Jobs with no network (a file, an export, the stored copy) start and
finish it in one opening.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TypeVar

from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import keep_captures
from ringwatch.scrapers.records import Capture
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.runs import Attempt

T = TypeVar("T")


WriterSlot = Callable[[], AbstractContextManager[object]]
_writer_slot: WriterSlot = nullcontext


@contextmanager
def writer_slot(slot: WriterSlot) -> Iterator[None]:
    """While open, every opening of the warehouse for writing first holds `slot`, as well as the
    local writer lock. The Prefect flows pass a global concurrency limit of one slot here, so
    that runs on other hosts, which a file lock cannot see, never write at once; in-process
    commands have only the lock. The core never imports Prefect: the slot comes from outside."""
    global _writer_slot
    before, _writer_slot = _writer_slot, slot
    try:
        yield
    finally:
        _writer_slot = before


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The database, once the writer slot (if any) and the writer lock are ours (waiting up to
    the configured time for the lock)."""
    with _writer_slot(), Warehouse.open(settings.db_path, lock_timeout_seconds=settings.lock_timeout_seconds,
                                        captures=settings.captures) as wh:
        yield wh


def begin(settings: Settings, start: Callable[[Warehouse], Attempt],
          read: Callable[[Warehouse], T]) -> tuple[Attempt, T]:
    """Start the attempt and read what the fetch needs (stored validators), then let go."""
    with open_warehouse(settings) as wh:
        return start(wh), read(wh)


def fail_keeping(settings: Settings, attempt: Attempt, exc: BaseException, kept: Sequence[Capture] = ()) -> None:
    """Finish a fetch that failed: keep the pages it did get, then the partial body of the
    failed one (a truncated download, an error page), and record the reason."""
    with open_warehouse(settings) as wh:
        if kept:
            keep_captures(wh, attempt.run_id, list(kept))
        partial = getattr(exc, "partial", None)
        if isinstance(partial, Capture):
            attempt.capture_id = keep_captures(wh, attempt.run_id, [partial])[0]
        attempt.fail(wh.con, exc)


@contextmanager
def writing(settings: Settings, attempt: Attempt | None,
            start: Callable[[Warehouse], Attempt]) -> Iterator[tuple[Warehouse, Attempt]]:
    """The write phase: the warehouse and the attempt (started here, with `start`, when no
    network came first). Any exception finishes the attempt as failed, and goes on."""
    with open_warehouse(settings) as wh:
        current = attempt if attempt is not None else start(wh)
        with current.failing_on_error(wh.con):
            yield wh, current
