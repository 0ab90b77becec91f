"""What a job tells whoever runs it while it works: retries, steps, progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ringwatch.scrapers.errors import Terminated

__all__ = ["Event", "EventKind", "Progress", "Terminated", "ignore"]


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
