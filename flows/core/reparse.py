"""Reparse: run today's parsers on the stored raw captures and reload what they give.

No network: the way to repair history after a parser fix, or to apply an edited aliases
file to every snapshot. A transparency capture's figures are replaced, not added to (a
correction, not a restatement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ringwatch.flows.core.attempt import open_warehouse
from ringwatch.flows.core.events import Event, EventKind, Progress, ignore
from ringwatch.flows.core.steps import StepRunner, inline
from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.atlas import parse_atlas_csv
from ringwatch.scrapers.errors import ConfigError, RingwatchError
from ringwatch.scrapers.sources import SOURCES, Origin, Source
from ringwatch.scrapers.transparency import parse_report_page
from ringwatch.warehouse.captures import BlobStore, load_capture, report_captures, snapshot_captures
from ringwatch.warehouse.load import load_agency_snapshot, reference_count
from ringwatch.warehouse.load_transparency import ParsedReport, load_reports
from ringwatch.warehouse.quality import validate_agency_snapshot
from ringwatch.warehouse.runs import RunStatus, finish_run, record_warnings, recorded_run


@dataclass(frozen=True, slots=True)
class ReparseOutcome:
    source: Source
    quarter: str | None
    rows: int
    error: str | None = None
    notes: tuple[str, ...] = ()  # a page not read completely says so

    def line(self) -> str:
        where = f"{self.source} {self.quarter}" if self.quarter else str(self.source)
        return f"{where}: {self.error}" if self.error else f"{where}: reloaded {self.rows:,} rows"


def reparse(settings: Any, *, source: str = "all", quarter: str | None = None, force: bool = False,
            flow_run_id: str | None = None, progress: Progress = ignore,
            step: StepRunner = inline) -> list[ReparseOutcome]:
    """Re-read every stored capture behind the snapshots (or one quarter's) and reload them."""
    if source != "all" and source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; choose all, {', '.join(SOURCES)}.")
    outcomes: list[ReparseOutcome] = []
    with open_warehouse(settings) as wh:
        store = BlobStore(wh.blob_root)
        if source in ("all", Source.AGENCY_MAP):
            for label, capture_id in snapshot_captures(wh.con, Source.AGENCY_MAP, quarter):
                capture = load_capture(wh.con, store, capture_id)
                try:
                    with recorded_run(wh.con, source=Source.AGENCY_MAP, mode="reparse", flow_run_id=flow_run_id,
                                      url=capture.url) as run:
                        run.quarter, run.capture_id = label, capture_id
                        if capture.origin == Origin.ATLAS:
                            agencies = step("parse-atlas", parse_atlas_csv, capture.body, source_url=capture.url)
                        else:
                            agencies = step("parse-agency-map", parse_agency_map, capture.body,
                                            source_url=capture.url, max_inflated_bytes=settings.http.inflate_limit)
                        count, previous = reference_count(wh.con, Source.AGENCY_MAP, label)
                        snapshot = validate_agency_snapshot(
                            agencies, source=Source.AGENCY_MAP, url=capture.url, quarter=label,
                            observed_at=capture.fetched_at, previous_count=count, previous_quarter=previous,
                            policy=settings.gates, force=force)
                        result = step("load-agency-map", load_agency_snapshot, wh.con, snapshot,
                                      capture_id=capture_id, origin=capture.origin, run_id=run.run_id,
                                      aliases=settings.aliases)
                        record_warnings(wh.con, run.run_id, source=Source.AGENCY_MAP, quarter=label,
                                        warnings=snapshot.warnings + result.identity_warnings)
                        finish_run(wh.con, run.run_id, status=RunStatus.SUCCESS, quarter=label,
                                   rows_loaded=result.rows_loaded, capture_id=capture_id)
                    outcomes.append(ReparseOutcome(Source.AGENCY_MAP, label, result.rows_loaded))
                except RingwatchError as exc:
                    outcomes.append(ReparseOutcome(Source.AGENCY_MAP, label, 0, str(exc)))
                progress(Event(EventKind.NOTE, outcomes[-1].line()))
        if source in ("all", Source.TRANSPARENCY) and quarter is None:
            for capture_id in report_captures(wh.con):
                capture = load_capture(wh.con, store, capture_id)
                try:
                    with recorded_run(wh.con, source=Source.TRANSPARENCY, mode="reparse", flow_run_id=flow_run_id,
                                      url=capture.url) as run:
                        run.capture_id = capture_id
                        page = step("parse-transparency", parse_report_page, capture.body, source_url=capture.url)
                        results = load_reports(wh.con, [ParsedReport(page, capture_id, capture.fetched_at)],
                                               replace_capture=True)
                        record_warnings(wh.con, run.run_id, source=Source.TRANSPARENCY, quarter=None,
                                        warnings=page.warnings)
                        finish_run(wh.con, run.run_id, status=RunStatus.SUCCESS, rows_loaded=results[0].figures,
                                   capture_id=capture_id)
                    note = page.reading_note()
                    outcomes.append(ReparseOutcome(Source.TRANSPARENCY, None, results[0].figures,
                                                   notes=(note,) if note else ()))
                except RingwatchError as exc:
                    outcomes.append(ReparseOutcome(Source.TRANSPARENCY, None, 0, str(exc)))
                progress(Event(EventKind.NOTE, outcomes[-1].line()))
    return outcomes
