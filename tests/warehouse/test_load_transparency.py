from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import duckdb
import pytest

from ringwatch.scrapers.errors import QualityGateError
from ringwatch.scrapers.records import Period, ReportPage, RequestFigure
from ringwatch.scrapers.transparency import parse_report_page
from ringwatch.warehouse.load_transparency import ParsedReport, current_figure_counts, load_reports, report_id_for
from ringwatch.warehouse.quality import GatePolicy, validate_reports
from tests.conftest import read_fixture

POST = "https://blog.ring.com/2021/01/20/law-enforcement-information-requests-in-2020"
EARLY = datetime(2021, 2, 1, tzinfo=UTC)
LATER = datetime(2021, 8, 1, tzinfo=UTC)


def page(name: str, url: str = POST) -> ReportPage:
    return parse_report_page(read_fixture(f"transparency/{name}"), source_url=url)


def parsed(p: ReportPage, capture_id: int = 1, observed: datetime = EARLY) -> ParsedReport:
    return ParsedReport(page=p, capture_id=capture_id, observed_at=observed)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def test_by_period_view_gives_2020_with_complied_share(con: duckdb.DuckDBPyConnection) -> None:
    load_reports(con, [parsed(page("report_2020_table_rows.html"))])
    assert rows(con, "SELECT * FROM le_requests_by_period WHERE request_type = 'all'") == [
        (date(2020, 1, 1), date(2020, 12, 31), "2020", "all", 1900, 919, 171, 810, 0.5737)]
    assert rows(con, "SELECT received, complied_share FROM le_requests_by_period "
                     "WHERE request_type = 'national_security_requests'") == [(None, None)]
    assert rows(con, "SELECT value, value_low, value_high FROM le_request_counts "
                     "WHERE request_type = 'national_security_requests'") == [(None, 0, 249)]


def test_loading_the_same_report_twice_adds_nothing(con: duckdb.DuckDBPyConnection) -> None:
    first = load_reports(con, [parsed(page("report_2020_table_rows.html"))])
    before = rows(con, "SELECT * FROM le_request_counts ORDER BY ALL")
    second = load_reports(con, [parsed(page("report_2020_table_rows.html"), capture_id=2, observed=LATER)])
    assert [r.status for r in first] == ["loaded"] and [r.status for r in second] == ["unchanged"]
    assert rows(con, "SELECT * FROM le_request_counts ORDER BY ALL") == before
    assert len(before) == 21


def test_a_restated_figure_keeps_both_observations_and_the_latest_is_current(
        con: duckdb.DuckDBPyConnection) -> None:
    original = page("report_2020_table_rows.html")
    load_reports(con, [parsed(original)])
    restated = replace(original, figures=tuple(
        replace(f, value=1050) if (f.request_type, f.outcome) == ("subpoenas", "received") else f
        for f in original.figures))
    assert load_reports(con, [parsed(restated, capture_id=2, observed=LATER)])[0].status == "loaded"
    history = rows(con, "SELECT value, capture_id FROM le_request_counts WHERE request_type = 'subpoenas' "
                        "AND outcome = 'received' ORDER BY observed_at")
    assert history == [(1045, 1), (1050, 2)]
    assert rows(con, "SELECT value FROM le_request_counts_current WHERE request_type = 'subpoenas' "
                     "AND outcome = 'received'") == [(1050,)]
    assert rows(con, "SELECT capture_id FROM transparency_reports") == [(2,)]


def test_by_year_prefers_a_full_year_and_sums_halves(con: duckdb.DuckDBPyConnection) -> None:
    h1 = Period(date(2021, 1, 1), date(2021, 6, 30), "H1 2021")
    h2 = Period(date(2021, 7, 1), date(2021, 12, 31), "H2 2021")

    def fig(period: Period, outcome: str, value: int) -> RequestFigure:
        return RequestFigure(period, "US", "search_warrants", outcome, value, None, None, "x")

    halves = ReportPage(url="https://ring.com/r", title="Requests", published_on=None, periods=(h1, h2),
                        figures=(fig(h1, "received", 1338), fig(h2, "received", 1400),
                                 fig(h1, "full_response", 900)))
    load_reports(con, [parsed(page("report_2020_table_rows.html")), parsed(halves, capture_id=2)])
    by_year = rows(con, "SELECT year, received, full_response, months_covered FROM le_requests_by_year "
                        "WHERE request_type = 'search_warrants' ORDER BY year")
    # 2020 is a full-year figure; 2021 sums the halves, and full_response is unknown (H2 missing)
    assert by_year == [(2020, 630, 341, 12), (2021, 2738, None, 12)]


def test_per_country_rows_keep_their_country(con: duckdb.DuckDBPyConnection) -> None:
    load_reports(con, [parsed(page("requests_page_h1_2021.html", "https://ring.com/law-enforcement-information-requests"))])
    assert rows(con, "SELECT country, value FROM le_request_counts WHERE outcome = 'received' "
                     "AND request_type = 'all' ORDER BY country") == [("CA", 3), ("GB", 12), ("US", 1574)]


def test_report_ids_ignore_query_fragment_and_trailing_slash() -> None:
    assert report_id_for(POST) == report_id_for(POST + "/") == report_id_for(POST + "?utm=x#top")
    assert report_id_for(POST) != report_id_for("https://ring.com/law-enforcement-information-requests")


def test_a_report_that_lost_half_its_figures_is_refused_unless_forced(con: duckdb.DuckDBPyConnection) -> None:
    full = page("report_2020_table_rows.html")
    load_reports(con, [parsed(full)])
    shrunk = parsed(replace(full, figures=full.figures[:5]), capture_id=2, observed=LATER)
    counts = current_figure_counts(con)
    assert counts == {report_id_for(POST): 21}
    with pytest.raises(QualityGateError, match="now gives 5 figures, less than 50% of the 21"):
        validate_reports([shrunk], previous_counts=counts, policy=GatePolicy())
    assert validate_reports([shrunk], previous_counts=counts, policy=GatePolicy(), force=True) == [shrunk]


def test_a_failed_load_writes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    good = parsed(page("report_2020_table_rows.html"))
    broken_figure = RequestFigure(Period(date(2020, 1, 1), date(2020, 12, 31), "2020"), "US", "x", "received",
                                  None, 5, 1, "bad range")  # low > high violates the CHECK
    broken = parsed(ReportPage(url="https://ring.com/other", title="t", published_on=None, periods=(),
                               figures=(broken_figure,)), capture_id=2)
    with pytest.raises(duckdb.ConstraintException):
        load_reports(con, [good, broken])
    assert rows(con, "SELECT count(*) FROM le_request_counts") == [(0,)]
    assert rows(con, "SELECT count(*) FROM transparency_reports") == [(0,)]


def test_a_year_reported_in_halves_in_two_layouts_sums_every_type(con: duckdb.DuckDBPyConnection) -> None:
    """Ring's published 2021 totals: 3,147 legal demands and 2,774 preservation requests."""
    first = page("requests_page_h1_2021.html", "https://ring.com/law-enforcement-information-requests")
    second = page("layouts/list_items_h2_2021.html", "https://ring.com/law-enforcement-information-requests/h2")
    load_reports(con, [parsed(first, 1, LATER), parsed(second, 2, datetime(2022, 2, 1, tzinfo=UTC))])
    year = {r[0]: r[1:] for r in rows(con, "SELECT request_type, received, months_covered FROM le_requests_by_year "
                                           "WHERE year = 2021")}
    assert year["all"] == (3147, 12)
    assert year["preservation_requests"] == (2774, 12)
    halves = {r[0]: r[1] for r in rows(con, "SELECT request_type, sum(received) FROM le_requests_by_period "
                                            "WHERE year(period_start) = 2021 GROUP BY ALL HAVING count(received) = 2")}
    assert {t: year[t][0] for t in halves} == halves
    assert set(halves) == {"all", "search_warrants", "subpoenas", "court_orders", "preservation_requests"}


def test_a_reparse_corrects_the_figures_of_its_capture_without_adding_an_observation(
        con: duckdb.DuckDBPyConnection) -> None:
    """A correction (same capture, better parser) replaces; a restatement (new capture) adds."""
    right = page("layouts/list_items_h2_2021.html", "https://ring.com/h2")
    # What the parser before issue 13 made of it: warrant outcomes filed under "all".
    wrong = replace(right, figures=tuple(
        replace(f, request_type="all") if f.request_type == "search_warrants" and f.outcome != "received" else f
        for f in right.figures))
    load_reports(con, [parsed(wrong, capture_id=7, observed=LATER)])
    observations = "SELECT count(DISTINCT capture_id), count(*) FROM le_request_counts"
    before = rows(con, observations)
    load_reports(con, [parsed(right, capture_id=7, observed=LATER)], replace_capture=True)
    assert rows(con, observations) == before
    assert rows(con, "SELECT value FROM le_request_counts_current WHERE request_type = 'search_warrants' "
                     "AND outcome = 'full_response'") == [(842,)]
    assert rows(con, "SELECT count(*) FROM le_request_counts WHERE request_type = 'all' "
                     "AND outcome = 'full_response'") == [(0,)]
