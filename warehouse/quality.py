"""Quality gates: decide, before anything is written, whether a parsed snapshot may load.

Pure functions over records and numbers read beforehand, so every gate can be tested
without a database. A refusal is a QualityGateError naming the source, URL and gate.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from ringwatch.scrapers.errors import QualityGateError
from ringwatch.scrapers.normalize import parse_number
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import Agency, QualityWarning, Snapshot
from ringwatch.scrapers.sources import Source
from ringwatch.warehouse.load_transparency import ParsedReport, report_id_for


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """Thresholds from config ([gates] in settings.toml)."""

    min_rows: int = 1
    min_fraction_of_previous: float = 0.5
    required_fields: tuple[str, ...] = ("name", "state")


def validate_agency_snapshot(
    agencies: list[Agency],
    *,
    source: Source,
    url: str,
    quarter: Quarter,
    observed_at: datetime,
    previous_count: int | None,
    previous_quarter: Quarter | None,
    policy: GatePolicy,
    force: bool = False,
) -> Snapshot:
    """Apply the gates in order: enough rows, required fields, no big drop; merge duplicates."""
    if len(agencies) < max(policy.min_rows, 1):
        found = "no agencies" if not agencies else f"only {len(agencies)} agencies"
        raise QualityGateError(
            f"{source}: {url} parsed to {found} (at least {max(policy.min_rows, 1)} expected); "
            "nothing was loaded. An empty map means the export changed or failed.",
            url=url, gate="min_rows",
        )
    _check_required(agencies, source=source, url=url, fields=policy.required_fields)
    kept, warnings = merge_duplicates(agencies, url=url)
    if previous_count and not force:
        floor = policy.min_fraction_of_previous * previous_count
        if len(kept) < floor:
            raise QualityGateError(
                f"{source}: {url} has {len(kept):,} agencies, less than "
                f"{policy.min_fraction_of_previous:.0%} of the {previous_count:,} held for "
                f"{previous_quarter}; refused as a likely broken page. If the drop is real, "
                "run again with --force.",
                url=url, gate="max_drop",
            )
    return Snapshot(source=source, quarter=quarter, observed_at=observed_at,
                    agencies=tuple(kept),
                    warnings=(*warnings, *unread_dates(kept, url=url), *unread_counts(kept, url=url)))


# A date as a person or a spreadsheet writes one: 2/12/2022, 2022-02-12, 12.02.2022, Feb 12, 2022.
_LOOKS_LIKE_A_DATE = re.compile(
    r"^\s*(?:\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2} [A-Za-z]{3,9}\.? \d{4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?\S*)?\s*$")
# Without a date field to point at, a quarter with no join date at all is warned about from this
# many agencies: a real map has thousands, and some of its rows have no date, never all of them.
NO_DATES_WARNED_FROM = 100


def unread_dates(agencies: Sequence[Agency], *, url: str) -> list[QualityWarning]:
    """Warnings for a snapshot in which no agency has a join date: a field that holds dates under
    another name ('Date Joined' where the map wrote 'Active Date') is named and quoted; with none,
    a large snapshot without a single date is warned about all the same. The rows load (their
    names, places and counts are right), the join-date views do not count them, and a reparse
    after the parser learns the field fills the dates in."""
    if any(a.active_date for a in agencies):
        return []
    fields: dict[str, list[str]] = {}
    for agency in agencies:
        for name, value in agency.data_fields:
            if value and _LOOKS_LIKE_A_DATE.match(value):
                fields.setdefault(name, []).append(value)
    where = "the map" if agencies and agencies[0].line is None else "the export"
    then = ("Until then the join-date views (agency_joins_by_quarter) do not count this quarter's agencies; "
            "the raw capture is kept.")
    warnings = [QualityWarning(
        "dates_unread", name,
        f"{url}: none of the {len(agencies):,} agencies has a join date (the Active Date), but {where}'s field "
        f"{name!r} holds a date in {len(values):,} of them (e.g. {values[0]!r}). If it is the date each joined, "
        "teach scrapers/agency_map.py its name and run 'ringwatch reparse'. " + then)
        for name, values in sorted(fields.items(), key=lambda item: (-len(item[1]), item[0]))]
    if not warnings and len(agencies) >= NO_DATES_WARNED_FROM:
        warnings.append(QualityWarning(
            "dates_unread", "Active Date",
            f"{url}: none of the {len(agencies):,} agencies has a join date (the Active Date) and no other field "
            "holds one: the map may have stopped giving them, or given them a form not read. " + then))
    return warnings


def counted(value: str) -> bool:
    """Whether agency_video_requests counts a requests field's value: its number (as the load reads
    it, parse_number) is whole and not negative. The view's WHERE says the same in SQL."""
    number = parse_number(value)
    return number is not None and number >= 0 and number.is_integer()


def unread_counts(agencies: Sequence[Agency], *, url: str) -> list[QualityWarning]:
    """Warnings for the values of a requests field (one agency_video_requests reads) that are not a
    whole count: '~1,200', '12 (est.)', 'N/A', '1.204' (never read as 1). Each field is named once,
    with how many values and the first few quoted; the values are kept as text, uncounted."""
    if not any(a.data_fields for a in agencies):
        return []
    from ringwatch.scrapers.metric_periods import counts_requests  # only for a map with Data fields

    counting = {name for name in {name for a in agencies for name, _ in a.data_fields} if counts_requests(name)}
    if not counting:  # most maps since 2021: no requests field, no value to look at
        return []
    odd: dict[str, list[str]] = {}
    for agency in agencies:
        for name, value in agency.data_fields:
            if name in counting and value.strip() and not counted(value):
                odd.setdefault(name, []).append(value)
    return [QualityWarning(
        "count_unread", name,
        f"{url}: the field {name!r} holds {len(values):,} value(s) that are not a whole count "
        f"(e.g. {', '.join(repr(v[:60]) for v in list(dict.fromkeys(values))[:3])}); they are kept as text and "
        "not counted in agency_video_requests. If Ring changed how it writes them, teach "
        "warehouse/quality.py and the view to read them and run 'ringwatch reparse'.")
        for name, values in sorted(odd.items())]


def _check_required(agencies: list[Agency], *, source: str, url: str,
                    fields: tuple[str, ...]) -> None:
    for field in fields:
        missing = [a for a in agencies if not getattr(a, field, None)]
        if missing:
            examples = "; ".join(
                f"{_where(a)} {a.name or '(no name)'!r} address={a.address!r}"
                for a in missing[:3]
            )
            raise QualityGateError(
                f"{source}: {url}: {len(missing)} of {len(agencies)} {_unit(agencies)} have no "
                f"{field} (e.g. {examples}); nothing was loaded. If the layout changed, fix "
                "the parser and run 'ringwatch reparse'; the raw capture is kept.",
                url=url, gate=f"required:{field}",
            )


def merge_duplicates(agencies: list[Agency], *, url: str | None = None) -> tuple[list[Agency], list[QualityWarning]]:
    """Keep one placemark (or CSV row) per agency_id, deterministically, and report the others.

    The most complete placemark wins (most fields filled), then the earliest in the
    document: the same bytes always give the same snapshot. The warning points where the
    user can look: placemark numbers in a map, file lines (and the file, `url`) in a CSV.
    """
    groups: dict[str, list[Agency]] = defaultdict(list)
    for agency in agencies:
        groups[agency.agency_id].append(agency)
    kept: list[Agency] = []
    warnings: list[QualityWarning] = []
    for agency_id, group in groups.items():
        best = min(group, key=lambda a: (-_filled(a), a.position))
        kept.append(best)
        if len(group) > 1:
            warnings.append(QualityWarning(
                kind="duplicate_agency",
                subject=agency_id,
                detail=_duplicate_detail(agency_id, best, group, url),
            ))
    kept.sort(key=lambda a: a.position)
    return kept, warnings


def _duplicate_detail(agency_id: str, best: Agency, group: list[Agency], url: str | None) -> str:
    others = [a for a in group if a is not best]
    if best.line is None:
        return (f"{len(group)} placemarks share the id {agency_id} ({best.name!r}); "
                f"kept #{best.position + 1}, dropped {', '.join(f'#{a.position + 1}' for a in others)}.")
    lines = _and([str(a.line) for a in group])  # document order: ascending lines
    of_file = f" of {location_of(url)}" if url else ""
    return (f"{len(group)} rows share the id {agency_id} ({best.name!r}): the rows at lines {lines}{of_file}; "
            f"kept line {best.line}, dropped line{'s' if len(others) > 1 else ''} "
            f"{_and([str(a.line) for a in others])}.")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _where(agency: Agency) -> str:
    return f"line {agency.line}" if agency.line is not None else f"#{agency.position + 1}"


def _unit(agencies: list[Agency]) -> str:
    return "rows" if agencies and agencies[0].line is not None else "placemarks"


def location_of(url: str) -> str:
    """A file:// URL as the file's path, as the user would type it; any other URL as it is."""
    parts = urlsplit(url)
    return unquote(parts.path) if parts.scheme == "file" else url


def _filled(agency: Agency) -> int:
    values = (agency.name, agency.city, agency.state, agency.active_date, agency.latitude,
              agency.profile_url, agency.layer)
    return sum(v is not None and v != "" for v in values)


def validate_reports(reports: list[ParsedReport], *, previous_counts: dict[str, int],
                     policy: GatePolicy, force: bool = False) -> list[ParsedReport]:
    """The drop gate per report: a page that lost more than half its figures is refused."""
    for report in reports:
        before = previous_counts.get(report_id_for(report.page.url))
        now = len(report.page.figures)
        if before and not force and now < policy.min_fraction_of_previous * before:
            raise QualityGateError(
                f"transparency: {report.page.url} now gives {now} figures, less than "
                f"{policy.min_fraction_of_previous:.0%} of the {before} it gave before; refused as a likely "
                "layout change. If the page really shrank, run again with --force.",
                url=report.page.url, gate="max_drop",
            )
    return reports
