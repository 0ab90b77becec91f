"""The `sync-transparency` flow: discover and fetch report pages, keep raw, parse, check, load."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.settings import Settings, load_settings
from flows.steps import (
    SyncSummary,
    choose_quarter,
    keep_captures,
    keep_partial,
    log_summary,
    open_warehouse,
    read_and_keep,
    scheduled_start,
    transient_only,
    with_fetch_retries,
)
from scrapers.errors import FetchError
from scrapers.http import PoliteClient
from scrapers.records import Capture, QualityWarning
from scrapers.transparency import SOURCE, Candidate, fetch_reports, parse_candidates
from warehouse.db import Warehouse
from warehouse.load_transparency import ParsedReport, ReportLoad, current_figure_counts, load_reports
from warehouse.quality import validate_reports
from warehouse.runs import RunHandle, finish_run, record_warnings, recorded_run


@task(name="fetch-transparency", cache_policy=NO_CACHE, retry_condition_fn=transient_only)
def fetch(settings: Settings, warehouse: Warehouse, run: RunHandle) -> list[tuple[Candidate, int]]:
    """Fetch index and report pages; keep each capture the moment it arrives."""
    sources = settings.transparency_sources()
    ids: dict[int, int] = {}

    def keep(capture: Capture) -> None:
        ids[id(capture)] = keep_captures(warehouse, run, [capture])[0]

    try:
        fetched = fetch_reports(PoliteClient(settings.http), report_urls=list(sources.report_urls),
                                index_urls=list(sources.index_urls), on_capture=keep)
    except FetchError as exc:
        keep_partial(warehouse, run, exc)
        raise
    by_url = {c.url: c for c in fetched.captures}
    return [(Candidate(by_url[url], discovered=url in fetched.discovered), ids[id(by_url[url])])
            for url in fetched.report_urls]


@task(name="parse-transparency", cache_policy=NO_CACHE)
def parse(pages: list[tuple[Candidate, int]]) -> tuple[list[ParsedReport], list[QualityWarning]]:
    found, skipped = parse_candidates([candidate for candidate, _ in pages])
    reports = [ParsedReport(page=page, capture_id=pages[i][1], observed_at=pages[i][0].capture.fetched_at)
               for i, page in found]
    return reports, skipped


@task(name="validate-transparency", cache_policy=NO_CACHE)
def validate(settings: Settings, warehouse: Warehouse, reports: list[ParsedReport], *,
             force: bool) -> list[ParsedReport]:
    return validate_reports(reports, previous_counts=current_figure_counts(warehouse.con),
                            policy=settings.gates, force=force)


@task(name="load-transparency", cache_policy=NO_CACHE)
def load(warehouse: Warehouse, reports: list[ParsedReport], warnings: list[QualityWarning], *,
         run: RunHandle) -> list[ReportLoad]:
    results = load_reports(warehouse.con, reports)
    record_warnings(warehouse.con, run.run_id, source=SOURCE, quarter=run.quarter, warnings=warnings)
    return results


@flow(name="sync-transparency")
def sync_transparency(
    quarter: str | None = None,
    force: bool = False,
    from_file: str | None = None,
    observed_at: datetime | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
    scheduled_at: datetime | None = None,
) -> dict[str, Any]:
    """Collect Ring's law-enforcement transparency reports (or one saved page)."""
    from prefect.runtime import flow_run

    settings = load_settings(config_path, db_path=db_path)
    fetch_with_retries = with_fetch_retries(fetch, settings)
    first_url = from_file or ", ".join(settings.transparency_sources().report_urls
                                       or settings.transparency_sources().index_urls)
    with open_warehouse(settings) as wh, recorded_run(
        wh.con, source=SOURCE, mode="file" if from_file else "live", flow_run_id=flow_run.id, url=first_url,
    ) as run:
        if from_file:
            capture, capture_id = read_and_keep(wh, run, SOURCE, from_file, observed_at)
            pages = [(Candidate(capture, discovered=False), capture_id)]
        else:
            pages = fetch_with_retries(settings, wh, run)
        run.quarter = choose_quarter(quarter, pages[0][0].capture.fetched_at, scheduled_at or scheduled_start())
        reports, skipped = parse(pages)
        checked = validate(settings, wh, reports, force=force)
        warnings = skipped + [w for r in checked for w in r.page.warnings]
        results = load(wh, checked, warnings, run=run)
        loaded = sum(r.figures for r in results)
        status = "success" if any(r.status == "loaded" for r in results) else "unchanged"
        finish_run(wh.con, run.run_id, status=status, quarter=run.quarter, rows_loaded=loaded)
    unchanged = sum(r.status == "unchanged" for r in results)
    detail = (f"loaded {loaded:,} figures from {len(results) - unchanged} report(s), "
              f"{unchanged} report(s) unchanged, {len(warnings)} warning(s).")
    summary = SyncSummary(run_id=run.run_id, source=SOURCE, quarter=run.quarter,
                          status="loaded" if status == "success" else "unchanged", rows_loaded=loaded,
                          detail=detail, warnings=tuple(w.detail for w in warnings))
    return log_summary(summary)
