"""The one list of what ringwatch collects, and where an observation came from.

Every layer names sources and origins through these, so adding a source is one edit here
(and its fetcher, parser and loader), never a hunt through string literals.
"""

from __future__ import annotations

from enum import StrEnum

from ringwatch.scrapers.errors import ConfigError


class Source(StrEnum):
    AGENCY_MAP = "agency_map"  # Ring's Active Agency Map (Google My Maps KML)
    TRANSPARENCY = "transparency"  # Ring's law-enforcement transparency reports


SOURCES: tuple[Source, ...] = tuple(Source)


class Origin(StrEnum):
    """Where a capture's bytes came from (captures.origin, snapshots.origin)."""

    LIVE = "live"  # fetched from the site
    FILE = "file"  # a saved copy, ringwatch sync --from-file
    WAYBACK = "wayback"  # the Internet Archive, ringwatch backfill
    ATLAS = "atlas"  # an EFF Atlas of Surveillance export, ringwatch import-atlas


def source_choices(*, with_all: bool = True) -> list[str]:
    """The values a --source option takes."""
    return (["all"] if with_all else []) + [str(s) for s in SOURCES]


def sources_for(source: Source | str | None) -> tuple[Source, ...]:
    """The sources a --source value selects: None or 'all' is every one."""
    if source is None or source == "all":
        return SOURCES
    try:
        return (Source(source),)
    except ValueError:
        raise ConfigError(f"unknown source {source!r}; choose one of: all, {', '.join(SOURCES)}.") from None
