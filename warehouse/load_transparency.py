"""Load parsed transparency reports: one transaction for all the pages of one sync.

A page whose figures are the same as those of its latest observation adds nothing (so a
re-run, or a page that changed only its sidebar, is idempotent); a page with any figure
changed adds a new observation of all its figures, so a restated figure keeps both values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import duckdb

from ringwatch.scrapers.normalize import as_utc
from ringwatch.scrapers.records import ReportPage
from ringwatch.scrapers.wayback import original_url
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.runs import LoadStatus

_INSERT_FIGURES = """
INSERT INTO le_request_counts
SELECT unnest($report_id::VARCHAR[]), unnest($period_label::VARCHAR[]), unnest($period_start::DATE[]),
       unnest($period_end::DATE[]), unnest($country::VARCHAR[]), unnest($request_type::VARCHAR[]),
       unnest($outcome::VARCHAR[]), unnest($value::BIGINT[]), unnest($value_low::BIGINT[]),
       unnest($value_high::BIGINT[]), unnest($capture_id::BIGINT[]), unnest($observed_at::TIMESTAMP[]),
       unnest($label::VARCHAR[])
"""

# The figures of a report's latest observation, to tell a restatement from a repeat.
_LATEST_FIGURES = """
WITH latest AS (
    SELECT capture_id FROM le_request_counts WHERE report_id = $report_id
    ORDER BY observed_at DESC, capture_id DESC LIMIT 1
)
SELECT period_start, period_end, country, request_type, outcome, value, value_low, value_high
FROM le_request_counts
WHERE report_id = $report_id AND capture_id = (SELECT capture_id FROM latest)
"""


@dataclass(frozen=True, slots=True)
class ParsedReport:
    """A parsed page with the capture it came from."""

    page: ReportPage
    capture_id: int
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class ReportLoad:
    report_id: str
    url: str
    status: LoadStatus  # loaded, or unchanged (the same figures are held already)
    figures: int


def report_id_for(url: str) -> str:
    """t- and a hash of the URL without query or fragment, scheme and host case-folded; an
    archived copy (Wayback id_ URL) is the same report as the page it holds."""
    parts = urlsplit(original_url(url))
    canonical = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/") or "/", "", ""))
    return "t-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def current_figure_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Figures in the latest observation of each report, for the drop gate."""
    rows = con.execute(
        """
        SELECT report_id, count(*) FROM le_request_counts
        WHERE (report_id, capture_id) IN (
            SELECT report_id, max(capture_id) FROM le_request_counts GROUP BY report_id)
        GROUP BY report_id
        """
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def load_reports(con: duckdb.DuckDBPyConnection, reports: list[ParsedReport], *,
                 replace_capture: bool = False) -> list[ReportLoad]:
    """Write every report in one transaction; all or nothing.

    With `replace_capture` (a reparse) each capture's figures are rewritten whatever the
    latest observation holds.
    """
    results: list[ReportLoad] = []
    con.begin()
    try:
        for report in reports:
            results.append(_load_one(con, report, replace_capture=replace_capture))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return results


def _load_one(con: duckdb.DuckDBPyConnection, report: ParsedReport, *, replace_capture: bool) -> ReportLoad:
    page = report.page
    report_id = report_id_for(page.url)
    latest = set(con.execute(_LATEST_FIGURES, {"report_id": report_id}).fetchall())
    figures_now = {(f.period.start, f.period.end, f.country, f.request_type, f.outcome, f.value, f.low, f.high)
                   for f in page.figures}
    # The ledger belongs to the capture, whatever its figures: an unchanged page read today
    # still says how completely it was read.
    ledger = page.ledger
    con.execute("INSERT OR REPLACE INTO report_ledgers VALUES (?, ?, ?, ?, ?, ?, ?)",
                [report.capture_id, report_id, ledger.seen, ledger.placed, ledger.explained, ledger.unplaced,
                 utcnow()])
    if latest == figures_now and not replace_capture:
        return ReportLoad(report_id, page.url, LoadStatus.UNCHANGED, 0)
    con.execute("INSERT OR REPLACE INTO transparency_reports VALUES (?, ?, ?, ?, ?)",
                [report_id, original_url(page.url), page.title, page.published_on, report.capture_id])
    con.execute("DELETE FROM le_request_counts WHERE capture_id = ?", [report.capture_id])
    figures = page.figures
    n = len(figures)
    observed = as_utc(report.observed_at).replace(tzinfo=None)
    con.execute(_INSERT_FIGURES, {
        "report_id": [report_id] * n,
        "period_label": [f.period.label for f in figures],
        "period_start": [f.period.start for f in figures],
        "period_end": [f.period.end for f in figures],
        "country": [f.country for f in figures],
        "request_type": [f.request_type for f in figures],
        "outcome": [f.outcome for f in figures],
        "value": [f.value for f in figures],
        "value_low": [f.low for f in figures],
        "value_high": [f.high for f in figures],
        "capture_id": [report.capture_id] * n,
        "observed_at": [observed] * n,
        "label": [f.label for f in figures],
    })
    return ReportLoad(report_id, page.url, LoadStatus.LOADED, n)
