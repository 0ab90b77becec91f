"""The quarter rule: which quarter a snapshot describes, and which observation wins.

A snapshot is labelled with the quarter whose last day is nearest (in whole UTC days) to
the observation time, so a run at 06:00 on 1 April records Q1, as does one on 15 May; one on
20 May records Q2. A tie (mid-February in a common year) goes to the quarter that has ended.
Among observations of one quarter the one nearest its last day wins; a tie goes to the later
observation, so re-running a sync on the same day replaces what it loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ringwatch.scrapers.normalize import as_utc

_LABEL = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.I)


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, label: str) -> Quarter:
        """Read `2025Q1` (also `2025-Q1`, `2025q1`); raise ValueError otherwise."""
        match = _LABEL.match(label.strip())
        if not match:
            raise ValueError(f"not a quarter: {label!r}; expected YYYYQn, e.g. 2025Q1")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def days_from_end(moment: datetime, quarter: Quarter) -> int:
    """Whole days between the observation's UTC date and the quarter's last day."""
    return abs((as_utc(moment).date() - quarter.last_day).days)


def quarter_for(moment: datetime) -> Quarter:
    """The quarter whose last day is nearest to `moment` (UTC); ties go to the earlier one."""
    current = Quarter.containing(as_utc(moment).date())
    earlier = current.previous()
    if days_from_end(moment, earlier) <= days_from_end(moment, current):
        return earlier
    return current


def replaces(new: datetime, existing: datetime, quarter: Quarter) -> bool:
    """Whether an observation `new` should replace `existing` as the quarter's snapshot."""
    new_distance = days_from_end(new, quarter)
    old_distance = days_from_end(existing, quarter)
    if new_distance != old_distance:
        return new_distance < old_distance
    return as_utc(new) >= as_utc(existing)
