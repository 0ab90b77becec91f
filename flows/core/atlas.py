"""Import an EFF Atlas of Surveillance export as the agency-map snapshot of its quarter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ringwatch.flows.core.attempt import writing
from ringwatch.flows.core.steps import StepRunner, inline, keep_captures
from ringwatch.scrapers.atlas import observed_at_from_name, parse_atlas_csv
from ringwatch.scrapers.errors import ConfigError
from ringwatch.scrapers.files import read_capture_file
from ringwatch.scrapers.sources import Origin, Source
from ringwatch.warehouse.load import load_agency_snapshot, reference_count
from ringwatch.warehouse.quality import validate_agency_snapshot
from ringwatch.warehouse.quarters import quarter_for
from ringwatch.warehouse.runs import RunStatus, finish_run, record_warnings


@dataclass(frozen=True, slots=True)
class ImportResult:
    quarter: str
    status: str  # loaded | kept_existing
    rows_loaded: int
    detail: str
    warnings: tuple[str, ...]

    def line(self) -> str:
        return f"atlas {self.quarter}: {self.detail}"


def import_atlas(settings: Any, path: str, *, observed_at: datetime | None = None, force: bool = False,
                 flow_run_id: str | None = None, step: StepRunner = inline) -> ImportResult:
    """Load the Ring rows of an Atlas export as the snapshot of the quarter it was taken in."""
    when = observed_at or observed_at_from_name(Path(path).name)
    if when is None:
        raise ConfigError(f"atlas: cannot tell when {path} was exported: its name has no YYYYMMDD stamp; "
                          "pass --observed-at.")
    capture = read_capture_file(Path(path), source=Source.AGENCY_MAP, observed_at=when, origin=Origin.ATLAS)
    quarter = str(quarter_for(when))
    state: dict[str, Any] = {"quarter": quarter}
    with writing(settings, None, state, source=Source.AGENCY_MAP, mode=Origin.ATLAS, flow_run_id=flow_run_id,
                 url=path) as (wh, run_id):
        capture_id = keep_captures(wh, run_id, [capture])[0]
        state["capture_id"] = capture_id
        agencies = step("parse-atlas", parse_atlas_csv, capture.body, source_url=capture.url)
        previous_count, previous_quarter = reference_count(wh.con, Source.AGENCY_MAP, quarter)
        snapshot = step("validate-agency-map", validate_agency_snapshot, agencies, source=Source.AGENCY_MAP,
                        url=capture.url, quarter=quarter, observed_at=when, previous_count=previous_count,
                        previous_quarter=previous_quarter, policy=settings.gates, force=force)
        result = step("load-agency-map", load_agency_snapshot, wh.con, snapshot, capture_id=capture_id,
                      origin=Origin.ATLAS, run_id=run_id, aliases=settings.aliases)
        warnings = snapshot.warnings + result.identity_warnings
        record_warnings(wh.con, run_id, source=Source.AGENCY_MAP, quarter=quarter, warnings=warnings)
        finish_run(wh.con, run_id, status=RunStatus.SUCCESS if result.status == "loaded" else RunStatus.UNCHANGED,
                   quarter=quarter, rows_loaded=result.rows_loaded, capture_id=capture_id)
    undated = sum(a.active_date is None for a in snapshot.agencies)
    merged = sum(w.kind == "duplicate_agency" for w in snapshot.warnings)
    detail = (f"loaded {result.rows_loaded:,} agencies from {len(agencies):,} Ring rows of {path} "
              f"(observed {when:%Y-%m-%d}; {merged} duplicate(s) merged, {undated} without a date)"
              if result.status == "loaded" else
              f"kept the existing snapshot observed {result.kept_observation}, which is nearer the quarter's end.")
    return ImportResult(quarter, result.status, result.rows_loaded, detail, tuple(w.detail for w in warnings))
