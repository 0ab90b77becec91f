"""Quality gates: decide, before anything is written, whether a parsed snapshot may load.

Pure functions over records and numbers read beforehand, so every gate can be tested
without a database. A refusal is a QualityGateError naming the source, URL and gate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from ringwatch.scrapers.errors import QualityGateError
from ringwatch.scrapers.records import Agency, QualityWarning, Snapshot
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
    source: str,
    url: str,
    quarter: str,
    observed_at: datetime,
    previous_count: int | None,
    previous_quarter: str | None,
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
    kept, warnings = merge_duplicates(agencies)
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
                    agencies=tuple(kept), warnings=tuple(warnings))


def _check_required(agencies: list[Agency], *, source: str, url: str,
                    fields: tuple[str, ...]) -> None:
    for field in fields:
        missing = [a for a in agencies if not getattr(a, field, None)]
        if missing:
            examples = "; ".join(
                f"#{a.position + 1} {a.name or '(no name)'!r} address={a.address!r}"
                for a in missing[:3]
            )
            raise QualityGateError(
                f"{source}: {url}: {len(missing)} of {len(agencies)} placemarks have no "
                f"{field} (e.g. {examples}); nothing was loaded. If the layout changed, fix "
                "the parser and run 'ringwatch reparse'; the raw capture is kept.",
                url=url, gate=f"required:{field}",
            )


def merge_duplicates(agencies: list[Agency]) -> tuple[list[Agency], list[QualityWarning]]:
    """Keep one placemark per agency_id, deterministically, and report the others.

    The most complete placemark wins (most fields filled), then the earliest in the
    document: the same bytes always give the same snapshot.
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
            others = ", ".join(f"#{a.position + 1}" for a in group if a is not best)
            warnings.append(QualityWarning(
                kind="duplicate_agency",
                subject=agency_id,
                detail=(f"{len(group)} placemarks share the id {agency_id} ({best.name!r}); "
                        f"kept #{best.position + 1}, dropped {others}."),
            ))
    kept.sort(key=lambda a: a.position)
    return kept, warnings


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
