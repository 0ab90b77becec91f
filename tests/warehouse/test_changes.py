from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import duckdb

from ringwatch.scrapers.records import Snapshot
from ringwatch.scrapers.transparency import parse_report_page
from ringwatch.warehouse.changes import summarize_changes
from ringwatch.warehouse.load_transparency import ParsedReport, load_reports
from ringwatch.warehouse.presentation.render import changes_markdown
from tests.conftest import read_fixture
from tests.warehouse.test_load import agency, load

OBSERVED = datetime(2024, 4, 1, tzinfo=UTC)


def snap(quarter: str, records: list) -> Snapshot:
    return Snapshot("agency_map", quarter, OBSERVED, tuple(replace(r, position=i) for i, r in enumerate(records)))


def test_changes_name_exactly_who_joined_and_left(con: duckdb.DuckDBPyConnection) -> None:
    load(con, snap("2024Q1", [agency("a", state="CA"), agency("b", state="TX"), agency("c", state="TX")]))
    load(con, snap("2024Q2", [agency("a", state="CA"), agency("d", state="WA"), agency("e", state="CA")]))
    summary = summarize_changes(con)
    assert (summary.quarter, summary.compared_with, summary.agencies, summary.joined, summary.left) == (
        "2024Q2", "2024Q1", 3, 2, 2)
    assert sorted((c.change, c.name) for c in summary.changes) == [
        ("joined", "d Police Department"), ("joined", "e Police Department"),
        ("left", "b Police Department"), ("left", "c Police Department")]
    assert summary.states_added == ("WA",)
    text = changes_markdown(summary, limit=1)
    assert "Joined since 2024Q1: **2**" in text and "Left since 2024Q1: **2**" in text
    assert "… and 1 more" in text  # the list is cut at the limit, the count is not
    assert summarize_changes(con, "2024Q1").compared_with is None
    assert "nothing to compare" in changes_markdown(summarize_changes(con, "2024Q1"))


def test_changes_on_an_empty_database(con: duckdb.DuckDBPyConnection) -> None:
    summary = summarize_changes(con)
    assert summary.quarter is None and "No agency-map snapshot is held yet" in changes_markdown(summary)
    assert "No agency-map snapshot is held for 2021Q3" in changes_markdown(summarize_changes(con, "2021Q3"))


def test_new_and_restated_transparency_periods(con: duckdb.DuckDBPyConnection) -> None:
    page = parse_report_page(read_fixture("transparency/report_2020_table_rows.html"), source_url="https://x/r")
    load_reports(con, [ParsedReport(page, 1, datetime(2021, 1, 25, tzinfo=UTC))])
    restated = replace(page, figures=tuple(replace(f, value=1) if f.request_type == "court_orders" and
                                           f.outcome == "received" else f for f in page.figures))
    load_reports(con, [ParsedReport(restated, 2, datetime(2021, 7, 5, tzinfo=UTC))])
    load(con, snap("2020Q4", [agency("a")]))
    load(con, snap("2021Q2", [agency("a")]))
    assert summarize_changes(con, "2020Q4").new_periods == ("2020",)
    assert summarize_changes(con, "2021Q2").restated_periods == ("2020",)
    assert summarize_changes(con, "2021Q2").new_periods == ()
