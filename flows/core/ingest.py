"""The one ingest: how each source's stored captures become data, for every job.

Jobs differ only in where captures come from (the live site, a saved file, the Wayback
Machine, an Atlas export, the stored copy); once the bytes are kept, every job calls
`ingest`, which parses, checks, loads, records the warnings and finishes the attempt. What
is particular to a source is said once, in its `SourceIngest` below: adding a source means
adding one there, never another copy of the pipeline in each job.

Every step goes through the job's StepRunner, so under Prefect each is a task, whichever
job runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import StepRunner, inline
from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.atlas import parse_atlas_csv
from ringwatch.scrapers.errors import ConfigError
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import Agency, Capture, QualityWarning
from ringwatch.scrapers.sources import Origin, Source
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.load import load_agency_snapshot, reference_count
from ringwatch.warehouse.load_transparency import ParsedReport, current_figure_counts, load_reports
from ringwatch.warehouse.quality import validate_agency_snapshot, validate_reports
from ringwatch.warehouse.runs import Attempt, LoadStatus, RunStatus


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A capture whose bytes are kept (capture_id), ready to be read. `discovered`: found by
    following links, so a page that is not a report is skipped with a warning, not an error."""

    capture: Capture
    capture_id: int
    discovered: bool = False


@dataclass(frozen=True, slots=True)
class Ingested:
    """What one ingest did, whatever the source."""

    source: Source
    quarter: Quarter | None
    status: LoadStatus
    rows: int  # agencies loaded, or figures added
    warnings: tuple[QualityWarning, ...] = ()
    notes: tuple[str, ...] = ()  # a report page not read completely says so here
    kept_observation: datetime | None = None  # agency map: the nearer observation kept instead
    parsed: int = 0  # rows the parser gave (agencies before merging, or report pages)
    undated: int = 0  # agencies without an Active Date
    merged: int = 0  # duplicate agencies merged
    unchanged_reports: int = 0

    @property
    def loaded(self) -> bool:
        return self.status is LoadStatus.LOADED


@dataclass(frozen=True, slots=True)
class Ingest:
    """How a job wants its pages read: the settings, --force, and the step runner."""

    settings: Settings
    force: bool = False
    step: StepRunner = inline
    # A reparse: a transparency capture's figures are rewritten, not added to (a correction).
    correction: bool = False


SourceIngest = Callable[[Warehouse, Attempt, Sequence[StoredPage], Ingest], Ingested]


def ingest(warehouse: Warehouse, attempt: Attempt, pages: Sequence[StoredPage], *, quarter: Quarter | None,
           how: Ingest) -> Ingested:
    """Parse, check and load `pages` for the attempt's source, record the warnings and finish
    the attempt (success, or unchanged when nothing new went in). Any error finishes it as
    failed, with its reason, and goes on; nothing of this load is kept then."""
    attempt.quarter = quarter
    with attempt.failing_on_error(warehouse.con):
        if not pages:
            raise ConfigError(f"{attempt.source}: nothing to read: no page was captured.")
        done = SOURCE_INGESTS[attempt.source](warehouse, attempt, pages, how)
        attempt.warn(warehouse.con, done.warnings)
        attempt.finish(warehouse.con, RunStatus.SUCCESS if done.loaded else RunStatus.UNCHANGED,
                       rows_loaded=done.rows)
    return done


def parse_agencies(capture: Capture, settings: Settings) -> list[Agency]:
    """The parser for the capture's origin: an Atlas export is a CSV, anything else the map's KML/KMZ."""
    if capture.origin == Origin.ATLAS:
        return parse_atlas_csv(capture.body, source_url=capture.url)
    return parse_agency_map(capture.body, source_url=capture.url, max_inflated_bytes=settings.http.inflate_limit)


def _agency_map(warehouse: Warehouse, attempt: Attempt, pages: Sequence[StoredPage], how: Ingest) -> Ingested:
    """The last page is the map (earlier ones are the NetworkLinks that led to it)."""
    page = pages[-1]
    capture, quarter = page.capture, attempt.quarter
    assert quarter is not None, "an agency-map snapshot belongs to a quarter"
    attempt.capture_id = page.capture_id
    name = "parse-atlas" if capture.origin == Origin.ATLAS else "parse-agency-map"
    agencies = how.step(name, parse_agencies, capture, how.settings)
    previous_count, previous_quarter = reference_count(warehouse.con, Source.AGENCY_MAP, quarter)
    snapshot = how.step("validate-agency-map", validate_agency_snapshot, agencies, source=Source.AGENCY_MAP,
                        url=capture.url, quarter=quarter, observed_at=capture.fetched_at,
                        previous_count=previous_count, previous_quarter=previous_quarter,
                        policy=how.settings.gates, force=how.force)
    result = how.step("load-agency-map", load_agency_snapshot, warehouse.con, snapshot, capture_id=page.capture_id,
                      origin=capture.origin, run_id=attempt.run_id, aliases=how.settings.aliases)
    return Ingested(Source.AGENCY_MAP, quarter, result.status, result.rows_loaded,
                    warnings=snapshot.warnings + result.identity_warnings, kept_observation=result.kept_observation,
                    parsed=len(agencies), undated=sum(a.active_date is None for a in snapshot.agencies),
                    merged=sum(w.kind == "duplicate_agency" for w in snapshot.warnings))


def _transparency(warehouse: Warehouse, attempt: Attempt, pages: Sequence[StoredPage], how: Ingest) -> Ingested:
    """Every page that is a report, loaded together: its new or restated figures."""
    # Here, not above: a map load need not import the report parser (BeautifulSoup and its own).
    from ringwatch.scrapers.transparency import Candidate, parse_candidates

    found, skipped = how.step("parse-transparency", parse_candidates,
                              [Candidate(p.capture, discovered=p.discovered) for p in pages])
    reports = [ParsedReport(page=report, capture_id=pages[i].capture_id, observed_at=pages[i].capture.fetched_at)
               for i, report in found]
    checked = how.step("validate-transparency", validate_reports, reports,
                       previous_counts=current_figure_counts(warehouse.con), policy=how.settings.gates,
                       force=how.force)
    results = how.step("load-transparency", load_reports, warehouse.con, checked, replace_capture=how.correction)
    loaded = any(r.status is LoadStatus.LOADED for r in results)
    return Ingested(Source.TRANSPARENCY, attempt.quarter, LoadStatus.LOADED if loaded else LoadStatus.UNCHANGED,
                    sum(r.figures for r in results),
                    warnings=tuple(skipped) + tuple(w for r in checked for w in r.page.warnings),
                    notes=tuple(note for r in checked if (note := r.page.reading_note())),
                    parsed=len(found), unchanged_reports=sum(r.status is LoadStatus.UNCHANGED for r in results))


# Per source, how its captures are read and stored: the one place a new source is added.
SOURCE_INGESTS: dict[Source, SourceIngest] = {Source.AGENCY_MAP: _agency_map, Source.TRANSPARENCY: _transparency}
