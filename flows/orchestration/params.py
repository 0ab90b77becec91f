"""Flow parameters as the Prefect UI and `prefect deployment run` give them: text, read here
into the typed values the jobs take."""

from __future__ import annotations

from ringwatch.scrapers.errors import ConfigError
from ringwatch.scrapers.quarter import Quarter


def as_quarter(label: str | Quarter | None) -> Quarter | None:
    """A quarter parameter ('2025Q1'), or None; a bad one is a ConfigError naming it."""
    if label is None or isinstance(label, Quarter):
        return label
    try:
        return Quarter.parse(label)
    except ValueError as exc:
        raise ConfigError(f"quarter parameter: {exc}") from None


def required_quarter(label: str | Quarter) -> Quarter:
    """A quarter parameter that must be given (a backfill's since and until)."""
    quarter = as_quarter(label)
    if quarter is None:
        raise ConfigError("a quarter parameter is required (YYYYQn, e.g. 2020Q1).")
    return quarter
