"""The quarter rule: which quarter a snapshot describes, and which observation wins.

A snapshot is labelled with the quarter whose last day is nearest (in whole UTC days) to
the observation time, so a run at 06:00 on 1 April records Q1, as does one on 15 May; one on
20 May records Q2. A tie (mid-February in a common year) goes to the quarter that has ended.
Among observations of one quarter the one nearest its last day wins; a tie goes to the later
observation, so re-running a sync on the same day replaces what it loaded.
"""

from __future__ import annotations

from datetime import datetime

from ringwatch.scrapers.normalize import as_utc
from ringwatch.scrapers.quarter import Quarter

__all__ = ["Quarter", "days_from_end", "quarter_for", "replaces"]


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
