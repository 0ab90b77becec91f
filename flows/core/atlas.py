"""Import an EFF Atlas of Surveillance export as the agency-map snapshot of its quarter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ringwatch.flows.core.attempt import writing
from ringwatch.flows.core.ingest import Ingest, StoredPage, ingest
from ringwatch.flows.core.settings import Settings
from ringwatch.flows.core.steps import StepRunner, inline, keep_captures
from ringwatch.scrapers.atlas import observed_at_from_name
from ringwatch.scrapers.errors import ConfigError
from ringwatch.scrapers.files import read_capture_file
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.sources import Origin, Source
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.quarters import quarter_for
from ringwatch.warehouse.runs import Attempt, LoadStatus, RunMode


@dataclass(frozen=True, slots=True)
class ImportResult:
    quarter: Quarter
    status: LoadStatus  # loaded | kept_existing
    rows_loaded: int
    detail: str
    warnings: tuple[str, ...]

    def line(self) -> str:
        return f"atlas {self.quarter}: {self.detail}"


def import_atlas(settings: Settings, path: str, *, observed_at: datetime | None = None, force: bool = False,
                 flow_run_id: str | None = None, step: StepRunner = inline) -> ImportResult:
    """Load the Ring rows of an Atlas export as the snapshot of the quarter it was taken in."""
    when = observed_at or observed_at_from_name(Path(path).name)
    if when is None:
        raise ConfigError(f"atlas: cannot tell when {path} was exported: its name has no YYYYMMDD stamp; "
                          "pass --observed-at.")
    capture = read_capture_file(Path(path), source=Source.AGENCY_MAP, observed_at=when, origin=Origin.ATLAS)
    quarter = quarter_for(when)

    def start(wh: Warehouse) -> Attempt:
        attempt = Attempt.start(wh.con, source=Source.AGENCY_MAP, mode=RunMode.ATLAS, url=path,
                                flow_run_id=flow_run_id)
        attempt.quarter = quarter
        return attempt

    with writing(settings, None, start) as (wh, attempt):
        capture_id = keep_captures(wh, attempt.run_id, [capture])[0]
        done = ingest(wh, attempt, [StoredPage(capture, capture_id)], quarter=quarter,
                      how=Ingest(settings, force=force, step=step))
    detail = (f"loaded {done.rows:,} agencies from {done.parsed:,} Ring rows of {path} "
              f"(observed {when:%Y-%m-%d}; {done.merged} duplicate(s) merged, {done.undated} without a date)"
              if done.loaded else
              f"kept the existing snapshot observed {done.kept_observation}, which is nearer the quarter's end.")
    return ImportResult(quarter, done.status, done.rows, detail, tuple(w.detail for w in done.warnings))
