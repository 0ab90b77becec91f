"""What a placemark's numeric Data field counts, and for which period, read from its name.

Until mid-2021 the map carried each agency's count of video requests in a Data field named
for its period; the exact wording was never recorded ("Video Requests (Q3 2020)" is the
likely form). The name is read as a person would: "Q3 2020", "2020 Q3", "Jul-Sep 2020",
"H2 2020", "2020", or a span relative to the observation ("past 90 days").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ringwatch.scrapers.transparency_terms import find_periods

_REQUESTS = re.compile(r"\brequests?\b|\brequested\b", re.I)
_QUARTER = re.compile(r"\bQ([1-4])\s*[-/ ]?\s*(\d{4})\b|\b(\d{4})\s*[-/ ]?\s*Q([1-4])\b", re.I)
# At most four digits: a longer run is no period anyone reports (and int() of thousands of
# digits raises).
_RELATIVE = re.compile(r"\b(?:past|last|previous|prior)\s+(\d{1,4})\s+(days?|weeks?|months?)\b", re.I)
_RELATIVE_QUARTER = re.compile(r"\b(?:past|last|previous|prior)\s+(quarter|month|year)\b", re.I)


@dataclass(frozen=True, slots=True)
class FieldPeriod:
    """A period read from a field name: absolute (start and end), or relative to the
    observation (the `days` or `months` before it). Neither: the field names no period."""

    label: str | None = None
    start: date | None = None
    end: date | None = None
    days: int | None = None
    months: int | None = None


def counts_requests(field_name: str) -> bool:
    """A field whose name speaks of (video) requests."""
    return bool(_REQUESTS.search(field_name))


def period_of_field(field_name: str) -> FieldPeriod:
    m = _QUARTER.search(field_name)
    if m:
        number, year = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
        end_month = number * 3
        end = date(year + (end_month == 12), (end_month % 12) + 1, 1)
        return FieldPeriod(m[0].strip(), date(year, end_month - 2, 1), date.fromordinal(end.toordinal() - 1))
    m = _RELATIVE.search(field_name)
    if m:
        amount, unit = int(m[1]), m[2].lower()
        if unit.startswith("day"):
            return FieldPeriod(m[0].strip(), days=amount)
        if unit.startswith("week"):
            return FieldPeriod(m[0].strip(), days=7 * amount)
        return FieldPeriod(m[0].strip(), months=amount)
    m = _RELATIVE_QUARTER.search(field_name)
    if m:
        months = {"quarter": 3, "month": 1, "year": 12}[m[1].lower()]
        return FieldPeriod(m[0].strip(), months=months)
    periods = find_periods(field_name)
    if periods:
        return FieldPeriod(periods[0].label, periods[0].start, periods[0].end)
    return FieldPeriod()
