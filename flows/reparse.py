"""The `reparse` flow: run today's parsers on stored raw captures and reload what they produced.

No network: the way to repair history after a parser fix.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows.settings import load_settings
from flows.steps import open_warehouse
from flows.sync_agency_map import load, validate
from scrapers.agency_map import parse_agency_map
from scrapers.atlas import parse_atlas_csv
from scrapers.errors import ConfigError, RingwatchError
from scrapers.transparency import parse_report_page
from warehouse.captures import BlobStore, load_capture, report_captures, snapshot_captures
from warehouse.load_transparency import ParsedReport, load_reports
from warehouse.runs import finish_run, recorded_run


@flow(name="reparse")
def reparse(source: str = "all", quarter: str | None = None, force: bool = False,
            db_path: str | None = None, config_path: str | None = None) -> list[dict[str, Any]]:
    """Re-read every stored capture behind the snapshots (or one quarter's) and reload them."""
    from prefect.runtime import flow_run

    if source not in ("all", "agency_map", "transparency"):
        raise ConfigError(f"unknown source {source!r}; choose all, agency_map or transparency.")
    settings = load_settings(config_path, db_path=db_path)
    outcomes: list[dict[str, Any]] = []
    with open_warehouse(settings) as wh:
        store = BlobStore(wh.blob_root)
        if source in ("all", "agency_map"):
            for label, capture_id in snapshot_captures(wh.con, "agency_map", quarter):
                capture = load_capture(wh.con, store, capture_id)
                try:
                    with recorded_run(wh.con, source="agency_map", mode="reparse", flow_run_id=flow_run.id,
                                      url=capture.url) as run:
                        run.quarter, run.capture_id = label, capture_id
                        parser = parse_atlas_csv if capture.origin == "atlas" else parse_agency_map
                        agencies = parser(capture.body, source_url=capture.url)
                        snapshot = validate(settings, wh, agencies, capture=capture, quarter=label, force=force)
                        result = load(wh, snapshot, capture=capture, capture_id=capture_id, run=run,
                                      aliases=settings.aliases)
                        finish_run(wh.con, run.run_id, status="success", quarter=label,
                                   rows_loaded=result.rows_loaded, capture_id=capture_id)
                    outcomes.append({"source": "agency_map", "quarter": label, "rows": result.rows_loaded,
                                     "error": None})
                except RingwatchError as exc:
                    outcomes.append({"source": "agency_map", "quarter": label, "rows": 0, "error": str(exc)})
        if source in ("all", "transparency") and quarter is None:
            for capture_id in report_captures(wh.con):
                capture = load_capture(wh.con, store, capture_id)
                try:
                    with recorded_run(wh.con, source="transparency", mode="reparse", flow_run_id=flow_run.id,
                                      url=capture.url) as run:
                        run.capture_id = capture_id
                        page = parse_report_page(capture.body, source_url=capture.url)
                        results = load_reports(wh.con, [ParsedReport(page, capture_id, capture.fetched_at)],
                                               replace_capture=True)
                        finish_run(wh.con, run.run_id, status="success", rows_loaded=results[0].figures,
                                   capture_id=capture_id)
                    outcomes.append({"source": "transparency", "quarter": None, "rows": results[0].figures,
                                     "error": None})
                except RingwatchError as exc:
                    outcomes.append({"source": "transparency", "quarter": None, "rows": 0, "error": str(exc)})
    logger = get_run_logger()
    for outcome in outcomes:
        logger.info("reparse %s", outcome)
    return outcomes
