"""A quarter (2025Q1): the unit every snapshot, report period and schedule is counted in.

A plain value, so that every layer passes quarters, not labels: text only where it meets
the warehouse (the label column) or a person (options, output). The quarter rule, which
quarter an observation describes, is the warehouse's (warehouse/quarters.py).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_LABEL = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.I)


class Quarter:
    """A calendar quarter, immutable. Equal to its label ('2025Q1' == Quarter(2025, 1)) and
    hashed like it, so that a quarter read back from the warehouse's label column is the same
    key. Not a dataclass: dataclasses.asdict of a result keeps it whole, not a dict."""

    __slots__ = ("number", "year")
    year: int
    number: int

    def __init__(self, year: int, number: int) -> None:
        if not 1 <= number <= 4:
            raise ValueError(f"not a quarter: {year}Q{number}; a quarter is 1 to 4")
        object.__setattr__(self, "year", year)
        object.__setattr__(self, "number", number)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Quarter cannot be changed")

    def __repr__(self) -> str:
        return f"Quarter({self.year}, {self.number})"

    def __reduce__(self) -> tuple[type[Quarter], tuple[int, int]]:
        return (Quarter, (self.year, self.number))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Quarter):
            return (self.year, self.number) == (other.year, other.number)
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: Quarter) -> bool:
        return (self.year, self.number) < (other.year, other.number)

    def __le__(self, other: Quarter) -> bool:
        return (self.year, self.number) <= (other.year, other.number)

    def __gt__(self, other: Quarter) -> bool:
        return (self.year, self.number) > (other.year, other.number)

    def __ge__(self, other: Quarter) -> bool:
        return (self.year, self.number) >= (other.year, other.number)

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
