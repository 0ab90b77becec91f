"""Reparse: run today's parsers on the stored raw captures and reload what they give.

No network: the way to repair history after a parser fix, or to apply an edited aliases
file to every snapshot. A transparency capture's figures are replaced, not added to (a
correction, not a restatement).
"""

from __future__ import annotations

from dataclasses import dataclass

from ringwatch.flows.core.attempt import open_warehouse
from ringwatch.flows.core.events import Event, EventKind, Progress, ignore
from ringwatch.flows.core.ingest import Ingest, StoredPage, ingest
from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import StepRunner, inline
from ringwatch.scrapers.errors import RingwatchError
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.sources import Source, sources_for
from ringwatch.warehouse.captures import load_capture, report_captures, snapshot_captures
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.runs import Attempt, RunMode


@dataclass(frozen=True, slots=True)
class ReparseOutcome:
    source: Source
    quarter: Quarter | None
    rows: int
    error: str | None = None
    notes: tuple[str, ...] = ()  # a page not read completely says so

    def line(self) -> str:
        where = f"{self.source} {self.quarter}" if self.quarter else str(self.source)
        return f"{where}: {self.error}" if self.error else f"{where}: reloaded {self.rows:,} rows"


def reparse(settings: Settings, *, source: Source | str | None = None, quarter: Quarter | None = None,
            force: bool = False, flow_run_id: str | None = None, progress: Progress = ignore,
            step: StepRunner = inline) -> list[ReparseOutcome]:
    """Re-read every stored capture behind the snapshots (or one quarter's) and reload them."""
    selected = sources_for(source)
    how = Ingest(settings, force=force, step=step, correction=True)
    outcomes: list[ReparseOutcome] = []
    with open_warehouse(settings) as wh:
        work: list[tuple[Source, Quarter | None, int]] = []
        if Source.AGENCY_MAP in selected:
            work += [(Source.AGENCY_MAP, label, capture_id)
                     for label, capture_id in snapshot_captures(wh.con, Source.AGENCY_MAP, quarter)]
        if Source.TRANSPARENCY in selected and quarter is None:
            work += [(Source.TRANSPARENCY, None, capture_id) for capture_id in report_captures(wh.con)]
        for name, label, capture_id in work:
            outcomes.append(_reparse_one(wh, name, label, capture_id, how, flow_run_id))
            progress(Event(EventKind.NOTE, outcomes[-1].line()))
    return outcomes


def _reparse_one(wh: Warehouse, source: Source, quarter: Quarter | None, capture_id: int, how: Ingest,
                 flow_run_id: str | None) -> ReparseOutcome:
    """One stored capture through the ingest again, as its own attempt (a failure stops only it)."""
    capture = load_capture(wh.con, wh.captures, capture_id)
    try:
        attempt = Attempt.start(wh.con, source=source, mode=RunMode.REPARSE, url=capture.url, flow_run_id=flow_run_id)
        attempt.capture_id = capture_id
        done = ingest(wh, attempt, [StoredPage(capture, capture_id)], quarter=quarter, how=how)
    except RingwatchError as exc:
        return ReparseOutcome(source, quarter, 0, str(exc))
    return ReparseOutcome(source, quarter, done.rows, notes=done.notes)
