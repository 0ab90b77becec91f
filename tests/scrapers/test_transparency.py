from __future__ import annotations

from datetime import date

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwatch.scrapers.errors import ParseError
from ringwatch.scrapers.http import HttpSettings, PoliteClient
from ringwatch.scrapers.records import Capture, ReportPage
from ringwatch.scrapers.transparency import Candidate, find_report_links, parse_candidates, parse_report_page
from ringwatch.scrapers.transparency_fetch import fetch_reports
from ringwatch.scrapers.transparency_terms import find_periods
from tests.conftest import read_fixture

POST = "https://blog.ring.com/2021/01/20/law-enforcement-information-requests-in-2020"
LAYOUTS_2020 = ["report_2020_table_rows.html", "report_2020_table_columns.html", "report_2020_prose_lists.html"]


def parse(name: str, url: str = POST) -> ReportPage:
    return parse_report_page(read_fixture(f"transparency/{name}"), source_url=url)


def figures(page: ReportPage) -> dict[tuple[str, str, str, str], object]:
    return {(f.period.label, f.country, f.request_type, f.outcome):
            f.value if f.value is not None else (f.low, f.high) for f in page.figures}


@pytest.mark.parametrize("layout", LAYOUTS_2020)
def test_every_2020_layout_gives_the_same_headline_figures(layout: str) -> None:
    page = parse(layout)
    assert page.title == "Law Enforcement Information Requests in 2020"
    assert page.published_on == date(2021, 1, 20)
    assert [p.label for p in page.periods] == ["2020"]
    assert page.periods[0].start == date(2020, 1, 1) and page.periods[0].end == date(2020, 12, 31)
    found = figures(page)
    expected = {
        ("2020", "US", "all", "received"): 1900,
        ("2020", "US", "all", "full_response"): 919,
        ("2020", "US", "all", "partial_response"): 171,
        ("2020", "US", "all", "no_response"): 810,
        ("2020", "US", "subpoenas", "received"): 1045,
        ("2020", "US", "search_warrants", "received"): 630,
        ("2020", "US", "court_orders", "received"): 225,
        ("2020", "US", "national_security_requests", "received"): (0, 249),
    }
    assert {k: found.get(k) for k in expected} == expected
    assert page.warnings == ()


@pytest.mark.parametrize("layout", LAYOUTS_2020)
def test_definitions_percentages_and_citations_are_not_figures(layout: str) -> None:
    values = {f.value for f in parse(layout).figures} | {f.high for f in parse(layout).figures}
    # 2703 (18 U.S.C. § 2703), 250 (bands of 250), 57 and 68 (percentages), 2019 to 2021 (years)
    assert not values & {2703, 250, 57, 68, 2019, 2020, 2021}


def test_tables_in_either_orientation_give_identical_cells() -> None:
    rows, columns = figures(parse(LAYOUTS_2020[0])), figures(parse(LAYOUTS_2020[1]))
    shared = {k for k in columns if k[2] != "national_security_requests"}
    assert {k: rows[k] for k in shared} == {k: columns[k] for k in shared}
    assert len(shared) == 16
    assert rows[("2020", "US", "subpoenas", "no_response")] == 443
    assert rows[("2020", "US", "non_us_requests", "received")] == 0  # a zero the page wrote


def test_a_dash_is_not_a_zero() -> None:
    found = figures(parse(LAYOUTS_2020[0]))
    assert ("2020", "US", "national_security_requests", "full_response") not in found


def test_half_year_page_with_definition_list_countries_and_a_range() -> None:
    page = parse("requests_page_h1_2021.html", "https://ring.com/law-enforcement-information-requests")
    assert page.title == "Law Enforcement Information Requests"
    assert [(p.label, p.start, p.end) for p in page.periods] == [
        ("January 1 - June 30, 2021", date(2021, 1, 1), date(2021, 6, 30))]
    found = {(k[1], k[2], k[3]): v for k, v in figures(page).items()}
    assert found[("US", "all", "received")] == 1574
    assert found[("US", "search_warrants", "received")] == 1338
    assert found[("US", "preservation_requests", "received")] == 1421
    assert found[("US", "all", "users_notified")] == 329
    assert found[("US", "national_security_requests", "received")] == (0, 249)
    assert found[("US", "all", "full_response")] == 1089
    assert found[("GB", "all", "received")] == 12 and found[("GB", "all", "no_response")] == 12
    assert found[("CA", "all", "received")] == 3
    assert page.warnings == ()


def test_parts_that_do_not_add_up_are_warned_about_and_kept() -> None:
    page = parse("report_2020_total_mismatch.html")
    assert figures(page)[("2020", "US", "all", "received")] == 2300
    assert figures(page)[("2020", "US", "subpoenas", "received")] == 1045
    details = [w.detail for w in page.warnings]
    assert all(w.kind == "total_mismatch" for w in page.warnings)
    assert any("received is 2,300 but full + partial + no response is 1,900" in d for d in details)
    assert any("is 2,300 but the sum of" in d and "1,900-2,149" in d for d in details)


def test_a_page_with_no_figures_is_a_parse_error_naming_it() -> None:
    with pytest.raises(ParseError, match=r"transparency: https://blog.ring.com/x \('Our Commitment to Privacy"):
        parse("no_figures_2020-05-01.html", "https://blog.ring.com/x")


@pytest.mark.parametrize("body", [b"", b"   ", b"<html><body><p>Hello</p></body></html>"])
def test_empty_and_blank_pages_are_parse_errors(body: bytes) -> None:
    with pytest.raises(ParseError, match="transparency: u"):
        parse_report_page(body, source_url="u")


def test_figures_without_any_period_are_an_error() -> None:
    body = b"<html><body><h1>Requests</h1><table><tr><th>Type</th><th>Received</th></tr>" \
           b"<tr><td>Subpoenas</td><td>12</td></tr></table></body></html>"
    with pytest.raises(ParseError, match="no request figures|no reporting period"):
        parse_report_page(body, source_url="u")


def test_periods_as_table_columns() -> None:
    body = (b"<html><body><h1>Law enforcement requests</h1><table>"
            b"<tr><th>Requests received</th><th>H1 2022</th><th>H2 2022</th></tr>"
            b"<tr><td>Subpoenas</td><td>1,200</td><td>1,350</td></tr>"
            b"<tr><td>Search warrants</td><td>2,001</td><td>2,200</td></tr></table></body></html>")
    found = figures(parse_report_page(body, source_url="u"))
    assert found == {("H1 2022", "US", "subpoenas", "received"): 1200,
                     ("H2 2022", "US", "subpoenas", "received"): 1350,
                     ("H1 2022", "US", "search_warrants", "received"): 2001,
                     ("H2 2022", "US", "search_warrants", "received"): 2200}


def test_sentences_with_several_figures_give_each_its_own_label() -> None:
    body = (b"<html><body><h1>Law Enforcement Information Requests in 2021</h1>"
            b"<p>In 2021 Ring received 3,147 legal demands, and 2,774 preservation orders. "
            b"We notified 648 users. More than 85% were search warrants.</p></body></html>")
    found = figures(parse_report_page(body, source_url="u"))
    assert found == {("2021", "US", "all", "received"): 3147,
                     ("2021", "US", "preservation_requests", "received"): 2774,
                     ("2021", "US", "all", "users_notified"): 648}


def test_unknown_labelled_types_are_kept_under_their_own_name() -> None:
    body = (b"<html><body><h1>Law Enforcement Information Requests in 2023</h1><ul>"
            b"<li>Subpoenas: 10</li><li>Community requests via Axon: 1,234</li></ul></body></html>")
    found = figures(parse_report_page(body, source_url="u"))
    assert found[("2023", "US", "community_requests_via_axon", "received")] == 1234


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2020", [("2020", "2020-01-01", "2020-12-31")]),
     ("H1 2021", [("H1 2021", "2021-01-01", "2021-06-30")]),
     ("H2 2021", [("H2 2021", "2021-07-01", "2021-12-31")]),
     ("the second half of 2022", [("second half of 2022", "2022-07-01", "2022-12-31")]),
     ("January 1 - June 30, 2021", [("January 1 - June 30, 2021", "2021-01-01", "2021-06-30")]),
     ("July 1, 2021 – December 31, 2021", [("July 1, 2021 – December 31, 2021", "2021-07-01", "2021-12-31")]),
     ("Jan. 1 to Dec. 31, 2019", [("Jan. 1 to Dec. 31, 2019", "2019-01-01", "2019-12-31")]),
     ("no period here", [])],
)
def test_periods(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(p.label, str(p.start), str(p.end)) for p in find_periods(text)] == expected


def test_index_links_about_requests_or_transparency_are_followed() -> None:
    links = find_report_links(read_fixture("transparency/index_company_2022-03-01.html"),
                              base_url="https://blog.ring.com/category/company/")
    assert links == ["https://blog.ring.com/2021/01/20/law-enforcement-information-requests-in-2020/",
                     "https://blog.ring.com/2022/02/01/transparency-report-2021/"]


def test_the_2020_post_links_to_the_later_requests_page() -> None:
    links = find_report_links(read_fixture("transparency/report_2020_table_rows.html"), base_url=POST)
    assert links == ["https://ring.com/law-enforcement-information-requests"]


def test_discovered_pages_without_figures_are_skipped_configured_ones_fail() -> None:
    def cap(name: str, url: str) -> Capture:
        return Capture(source="transparency", url=url, fetched_at=__import__("datetime").datetime(2024, 1, 1),
                       http_status=200, content_type="text/html", body=read_fixture(f"transparency/{name}"))

    good = cap("report_2020_table_rows.html", POST)
    empty = cap("no_figures_2020-05-01.html", "https://blog.ring.com/privacy")
    reports, skipped = parse_candidates([Candidate(good, False), Candidate(empty, True)])
    assert [i for i, _ in reports] == [0]
    assert len(skipped) == 1 and skipped[0].kind == "not_a_report" and "blog.ring.com/privacy" in skipped[0].detail
    with pytest.raises(ParseError, match="has no request figures"):
        parse_candidates([Candidate(good, False), Candidate(empty, False)])


@responses.activate
def test_fetch_reports_follows_index_links_and_reports_each_capture() -> None:
    responses.add(responses.GET, "https://blog.ring.com/robots.txt", status=404)
    responses.add(responses.GET, "https://ring.com/robots.txt", status=404)
    responses.add(responses.GET, POST, body=read_fixture("transparency/report_2020_table_rows.html"))
    responses.add(responses.GET, "https://ring.com/law-enforcement-information-requests",
                  body=read_fixture("transparency/requests_page_h1_2021.html"))
    seen: list[str] = []
    fetched = fetch_reports(PoliteClient(HttpSettings(delay_seconds=0), sleep=lambda s: None),
                            report_urls=[POST], index_urls=[POST], on_capture=lambda c: seen.append(c.url))
    assert fetched.report_urls == [POST, "https://ring.com/law-enforcement-information-requests"]
    assert fetched.discovered == {"https://ring.com/law-enforcement-information-requests"}
    assert seen == fetched.report_urls
    assert [c.request.url for c in responses.calls].count(POST) == 1  # fetched once, used twice


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_gives_a_report_or_a_parse_error(text: str) -> None:
    html = f"<html><body><h1>Requests in 2020</h1><p>{text}</p></body></html>".encode()
    try:
        page = parse_report_page(html, source_url="u")
    except ParseError:
        return
    assert page.figures and all(f.value is not None or f.low is not None for f in page.figures)
