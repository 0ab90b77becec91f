"""What a job tells whoever runs it while it works: retries, steps, progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class EventKind(StrEnum):
    RETRY = "retry"  # a fetch failed and will be tried again (one line)
    PROGRESS = "progress"  # done of total, e.g. quarters of a backfill
    NOTE = "note"  # anything else worth a line


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    message: str
    done: int | None = None
    total: int | None = None


Progress = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The progress callback of a job nobody watches."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so every job stops the same way."""


def interruption(exc: BaseException) -> str:
    """The sync_runs.error of an attempt stopped by a signal."""
    by = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C (SIGINT)"
    return f"interrupted: stopped by {by}; nothing it was loading was kept"
