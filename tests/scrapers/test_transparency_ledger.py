"""Every number on a report page is accounted for (issue 20): placed as a figure, explained as no
count, or unplaced and warned about, exactly once; and the general rules that a page nobody had
seen broke: a type with a count and no outcome word is a count received, a bare total counts the
type in scope, and a heading that names several types gives none of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from bs4.element import Comment
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwatch.scrapers.errors import ParseError
from ringwatch.scrapers.records import ReportPage
from ringwatch.scrapers.transparency import read_report_page
from ringwatch.scrapers.transparency_ledger import NumberEntry, Text, gather, numbers_in
from tests.conftest import FIXTURES

Figures = dict[tuple[str, str, str], object]
PAGES = sorted(p for p in (FIXTURES / "transparency").rglob("*.html") if "generated" not in p.parts)
PAGE = "<html><body><article><h1>Law Enforcement Requests 2021</h1>{}</article></body></html>"


def read(body: str) -> tuple[ReportPage, tuple[NumberEntry, ...]]:
    return read_report_page(PAGE.format(body).encode(), source_url="https://example.org/r")


def figures(page: ReportPage) -> Figures:
    return {(f.country, f.request_type, f.outcome): f.value if f.value is not None else (f.low, f.high)
            for f in page.figures}


def kinds(page: ReportPage) -> list[str]:
    return [w.kind for w in page.warnings]


# -- the page of issue 20 ------------------------------------------------------------------------------


def test_the_unseen_half_year_page_gives_every_figure_and_loses_no_number() -> None:
    """Before: preservation 1,462 and emergency 31 dropped without a word, court orders received
    read as every legal demand (51) and a false conflicting_figure against the headline 1,661."""
    html = (FIXTURES / "transparency/layouts/help_centre_h1_2021.html").read_bytes()
    page, entries = read_report_page(html, source_url="https://support.ring.com/h1-2021")
    assert [(p.label, str(p.start), str(p.end)) for p in page.periods] == [
        ("January–June 2021", "2021-01-01", "2021-06-30")]
    assert figures(page) == {
        ("US", "all", "received"): 1661,
        ("US", "search_warrants", "received"): 1402, ("US", "search_warrants", "full_response"): 1120,
        ("US", "search_warrants", "partial_response"): 97, ("US", "search_warrants", "no_response"): 185,
        ("US", "subpoenas", "received"): 208, ("US", "subpoenas", "full_response"): 71,
        ("US", "subpoenas", "partial_response"): 12, ("US", "subpoenas", "no_response"): 125,
        ("US", "court_orders", "received"): 51, ("US", "court_orders", "full_response"): 19,
        ("US", "court_orders", "partial_response"): 6, ("US", "court_orders", "no_response"): 26,
        ("US", "preservation_requests", "received"): 1462,
        ("US", "emergency_requests", "received"): 31,
        ("US", "national_security_requests", "received"): (0, 249),
        ("US", "all", "users_notified"): 412,
    }
    assert page.warnings == ()  # no conflicting figure, no total mismatch, nothing unplaced
    assert page.ledger.unplaced == 0 and page.ledger.complete
    assert page.ledger.placed == 17  # one number per figure (0-249: 0 placed, 249 explained)
    assert page.ledger.seen == page.ledger.placed + page.ledger.explained == len(entries)
    reasons = {e.written: e.reason for e in entries if e.status == "explained"}
    assert reasons["64"] == "a percentage" and reasons["90"] == "a length of time"
    assert reasons["0142"] == "a phone number" and reasons["90404"] == "an address"
    assert reasons["4"] == "a number in a footnote" and reasons["1"] == "a footnote marker"
    assert reasons["249"].startswith("the other end of the range")


# -- the ledger on every fixture page ------------------------------------------------------------------


def digit_runs(html: bytes) -> int:
    """An independent count: digit runs (with their thousands groups) in the text of the report's
    main content, skipping comments and the page furniture the parser removes."""
    soup = BeautifulSoup(html, "lxml")
    for tag in soup.find_all(["script", "style", "noscript", "nav", "footer", "aside", "form", "iframe", "svg"]):
        tag.decompose()
    main = soup.find("article") or soup.find("main") or soup.body
    assert main is not None
    strings = [s for s in main.find_all(string=True) if not isinstance(s, Comment)]
    run = re.compile(r"(?<![A-Za-z_\d])\d+(?:[,\u00a0\u202f\u2009]\d{3})*(?:\.\d+)?(?![A-Za-z_\d])")
    return sum(len(run.findall(str(s))) for s in strings)


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_every_number_of_every_fixture_page_is_accounted_for_once(path: Path) -> None:
    try:
        page, entries = read_report_page(path.read_bytes(), source_url=f"https://example.org/{path.name}")
    except ParseError:
        assert "no_figures" in path.name or "index" in path.name  # pages that are not reports
        return
    ledger = page.ledger
    assert ledger.seen == digit_runs(path.read_bytes()) == len(entries) > 0
    assert ledger.seen == ledger.placed + ledger.explained + ledger.unplaced
    assert ledger.unplaced == kinds(page).count("unplaced_number") == 0, [
        w.detail for w in page.warnings if w.kind == "unplaced_number"]
    assert ledger.placed >= len({(f.period, f.country, f.request_type, f.outcome) for f in page.figures})


# -- rule 1: a type with a count and no outcome word is a count received ----------------------------------


@pytest.mark.parametrize("body", [
    "<details><summary>Preservation and emergency requests</summary>"
    "<p>Preservation requests: 1,462. Emergency requests: 31.</p></details>",
    "<p>Preservation requests: 1,462. Emergency requests: 31.</p>",
    "<ul><li>Preservation requests: 1,462; emergency requests: 31</li></ul>",
    "<h2>Subpoenas</h2><p>Preservation requests: 1,462, Emergency requests: 31.</p>",
    "<dl><dt>Other requests</dt><dd>Preservation requests: <b>1,462</b>. Emergency requests: <b>31</b>.</dd></dl>",
], ids=["details", "paragraph", "list-item", "under-another-type", "definition"])
def test_label_value_pairs_naming_a_type_are_counts_received_wherever_they_stand(body: str) -> None:
    page, _entries = read(body)
    assert figures(page) == {("US", "preservation_requests", "received"): 1462,
                             ("US", "emergency_requests", "received"): 31}
    assert page.warnings == () and page.ledger.unplaced == 0


# -- rule 2: a total that names no type counts the type in scope ------------------------------------------


@pytest.mark.parametrize(("body", "expected"), [
    ("<h2>Court Orders</h2><dl><dt>Total received</dt><dd>51</dd><dt>Full response</dt><dd>51</dd></dl>",
     {("US", "court_orders", "received"): 51, ("US", "court_orders", "full_response"): 51}),
    ("<ul><li>Search warrants<ul><li>Number of requests: 7</li><li>No response: 7</li></ul></li></ul>",
     {("US", "search_warrants", "received"): 7, ("US", "search_warrants", "no_response"): 7}),
    ("<table><tr><th></th><th>Total</th><th>Full response</th></tr>"
     "<tr><td>Emergency requests</td><td>9</td><td>9</td></tr></table>",
     {("US", "emergency_requests", "received"): 9, ("US", "emergency_requests", "full_response"): 9}),
    ("<section><h3>Subpoenas</h3><p>Received: 12</p></section><p>Total: 40</p>",
     {("US", "subpoenas", "received"): 12, ("US", "all", "received"): 40}),
    ("<h3>Subpoenas</h3><p>Legal demands received: 40</p><p>Total: 12</p>",
     {("US", "all", "received"): 40, ("US", "subpoenas", "received"): 12}),
], ids=["definition-list", "list-item", "row", "section-and-outside", "legal-demands-inside-a-type"])
def test_a_bare_total_counts_the_type_in_scope_and_only_legal_demands_are_all(body: str, expected: Figures) -> None:
    page, _entries = read(body)
    assert figures(page) == expected
    assert "figure_given_twice" not in kinds(page) and page.ledger.unplaced == 0


def test_a_total_in_a_type_section_raises_no_false_conflict_with_the_headline() -> None:
    body = ("<p>Ring received 1,661 legal demands.</p><h2>Court Orders</h2><dl><dt>Total received</dt><dd>51</dd>"
            "</dl><h2>Subpoenas</h2><p>Received: 1,610</p>")
    page, _entries = read(body)
    assert figures(page) == {("US", "all", "received"): 1661, ("US", "court_orders", "received"): 51,
                             ("US", "subpoenas", "received"): 1610}
    assert page.warnings == ()


# -- rule 3: a heading that names several types gives none of them --------------------------------------


@pytest.mark.parametrize("body", [
    "<details><summary>Preservation and emergency requests</summary><p>Received: 31</p></details>",
    "<h2>Emergency and preservation requests</h2><p>Received: 31</p>",
    "<table><caption>Subpoenas and search warrants</caption><tr><th>Received</th><td>31</td></tr></table>",
    "<h2>Subpoenas</h2><h3>Warrants and court orders</h3><p>Received: 31</p>",
], ids=["summary", "heading", "caption", "inside-one-type"])
def test_a_heading_naming_several_types_places_no_bare_figure_under_any_of_them(body: str) -> None:
    page, entries = read(body + "<p>Subpoenas: 5</p>")
    assert figures(page) == {("US", "subpoenas", "received"): 5}
    (warning,) = page.warnings
    assert warning.kind == "unplaced_number" and warning.subject == "31"
    assert "names no request type" in warning.detail
    assert [e.status for e in entries if e.written == "31"] == ["unplaced"]


# -- nothing placed by accident ------------------------------------------------------------------------------


def test_a_figure_given_twice_with_different_values_keeps_neither_and_says_both() -> None:
    body = ("<h2>Court orders</h2><p>Received: 51</p><p>Full response: 20</p>"
            "<h2>More on court orders</h2><p>Ring received 60 court orders.</p>")
    page, entries = read(body)
    assert figures(page) == {("US", "court_orders", "full_response"): 20}
    twice = [w for w in page.warnings if w.kind == "figure_given_twice"]
    assert len(twice) == 1 and twice[0].subject == "2021 US court_orders received"
    assert "51 in 'Received: 51' under Law Enforcement Requests 2021 > Court orders" in twice[0].detail
    assert "60 in 'Ring received 60 court orders.' under Law Enforcement Requests 2021 > More on court orders" in (
        twice[0].detail)
    assert "Neither was loaded" in twice[0].detail
    assert page.ledger.unplaced == 2 and kinds(page).count("unplaced_number") == 2
    assert {e.written for e in entries if e.status == "unplaced"} == {"51", "60"}


def test_a_figure_given_twice_with_the_same_value_is_one_figure() -> None:
    page, _entries = read("<p>Ring received 51 court orders.</p><h2>Court orders</h2><p>Received: 51</p>")
    assert figures(page) == {("US", "court_orders", "received"): 51}
    assert page.warnings == () and page.ledger.placed == 2


# -- explained, and only when surely no count --------------------------------------------------------------


def test_numbers_that_are_no_counts_are_explained_each_with_its_reason() -> None:
    body = ("<p class='meta'>Published on March 3, 2022 (covering January 1 - June 30, 2021).</p>"
            "<h2>2. Subpoenas</h2>"
            "<p>Ring received 1,045 subpoenas [1] under 18 U.S.C. § 2703(c)(2), 57% of all demands, "
            "and answered each within 30 days at a cost of $0.</p>"
            "<ol><li>1. Emergency requests: 5</li></ol>"
            "<p>Call 1-800-656-1918 or write to Ring LLC, 1523 26th St, Santa Monica, CA 90404.</p>"
            "<p class='footnote'>[1] Includes 12 subpoenas later withdrawn.</p>")
    page, entries = read(body)
    assert page.ledger.unplaced == 0, [w.detail for w in page.warnings]
    explained = [(e.written, e.reason) for e in entries if e.status == "explained"]
    assert explained == [
        ("2021", "a year"),  # the h1's
        ("3", "a date or reporting period"), ("2022", "a date or reporting period"),
        ("1", "a date or reporting period"), ("30", "a date or reporting period"),
        ("2021", "a date or reporting period"),
        ("2", "a list or section number"),
        ("1", "a footnote marker"), ("18", "a legal citation"), ("2703", "a legal citation"),
        ("2", "a legal citation"), ("57", "a percentage"), ("30", "a length of time"), ("0", "an amount of money"),
        ("1", "a list or section number"),
        ("1", "a phone number"), ("800", "a phone number"), ("656", "a phone number"), ("1918", "a phone number"),
        ("1523", "an address"), ("90404", "an address"),
        ("1", "a number in a footnote"), ("12", "a number in a footnote"),
    ]
    assert [(e.written, e.reason) for e in entries if e.status == "placed"] == [
        ("1,045", "2021 US subpoenas received"), ("5", "2021 US emergency_requests received")]


@pytest.mark.parametrize(("body", "number"), [
    ("<p>Subpoenas: 10. We processed 12 of them by hand.</p>", "12"),
    ("<p>Subpoenas: 10.</p><p>Ring received 2021 subpoenas.</p>", "2021"),  # a year or a count: neither
    ("<p>Subpoenas: 10.</p><h2>Top 5 reasons</h2>", "5"),
    ("<p>Subpoenas: 10.</p><p>Figures rose 1.5 times.</p>", "1.5"),
    ("<ul><li>Subpoenas: 10</li>7</ul>", "7"),  # where the reader does not look
    ("<p>Subpoenas: 10.</p><h3>Emergency and preservation requests</h3><p>Received: 8</p>", "8"),
], ids=["in-prose", "year-or-count", "heading", "decimal", "between-list-items", "total-of-several-types"])
def test_a_number_that_may_be_a_count_is_unplaced_and_quoted_never_silently_explained(body: str,
                                                                                       number: str) -> None:
    page, entries = read(body)
    unplaced = [w for w in page.warnings if w.kind == "unplaced_number"]
    assert [w.subject for w in unplaced] == [number]
    assert page.ledger.unplaced == 1 and [e.written for e in entries if e.status == "unplaced"] == [number]
    assert figures(page) == {("US", "subpoenas", "received"): 10}
    assert "https://example.org/r: the number" in unplaced[0].detail and "'ringwatch reparse'" in unplaced[0].detail


def test_the_warning_quotes_the_number_in_its_text_and_names_the_headings_and_label_around_it() -> None:
    body = ("<h2>Court Orders</h2><ul><li><b>Sealed</b><ul><li>Orders kept sealed at the court's request: 17 of them "
            "this half, " + "and more words " * 20 + "</li></ul></li></ul><p>Subpoenas: 3</p>")
    page, _entries = read(body)
    (warning,) = [w for w in page.warnings if w.kind == "unplaced_number"]
    assert warning.subject == "17"
    assert "under Law Enforcement Requests 2021 > Court Orders, in 'Sealed'" in warning.detail
    quoted = re.search(r"the number 17 in (['\"])(.*?)\1 \(under", warning.detail)
    assert quoted and quoted[2].startswith("Orders kept sealed at the court's request: 17 of them this half, and")
    assert quoted[2].endswith("…") and len(quoted[2]) <= 165


def test_comments_are_not_text_numbers_in_them_are_neither_read_nor_counted() -> None:
    page, entries = read("<!-- Subpoenas: 999 --><p>Subpoenas: 5<!-- 12 --></p>")
    assert figures(page) == {("US", "subpoenas", "received"): 5}
    assert [e.written for e in entries] == ["2021", "5"] and page.warnings == ()


def test_thousands_in_no_break_and_thin_spaces_are_one_number_written_as_on_the_page() -> None:
    page, entries = read("<p>Subpoenas: 1\u00a0420</p><p>Search warrants: 2\u202f310<sup>2</sup></p>")
    assert figures(page) == {("US", "subpoenas", "received"): 1420, ("US", "search_warrants", "received"): 2310}
    assert [(e.written, e.status) for e in entries] == [
        ("2021", "explained"), ("1\u00a0420", "placed"), ("2\u202f310", "placed"), ("2", "explained")]


def test_a_page_whose_only_figure_cannot_be_placed_is_an_error_saying_so() -> None:
    with pytest.raises(ParseError, match=r"has no request figures \(1 number\(s\) could not be placed\)"):
        read("<p>We gave a full response to 300 of them.</p>")


# -- where numbers stand: the text the reader reads, mapped back to the page ------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=" \u00a0\u202f\t\n¹²ab1234567890,.-%", max_size=20), min_size=1, max_size=4))
def test_gathered_text_knows_where_each_of_its_numbers_was_written(pieces: list[str]) -> None:
    nodes = BeautifulSoup("".join(f"<b>{p}</b>" for p in pieces), "lxml").find_all(string=True)
    text = gather(nodes)
    assert isinstance(text, Text)
    written = [(id(node), start, str(node)[start:end]) for node in nodes for start, end in numbers_in(str(node))]
    assert [key for _a, _b, key in text.numbers] == [(n, start) for n, start, _w in written]
    for (a, b, _key), (_n, _start, digits) in zip(text.numbers, written, strict=True):
        assert text[a:b] == re.sub(r"[\u00a0\u202f\u2009]", ",", digits)


def test_digits_glued_to_letters_are_words_not_numbers() -> None:
    assert [word for word in ["H1", "26th", "mp4", "COVID19", "2nd"] if numbers_in(word)] == []
    assert numbers_in("H1 2021: 1,420 (3.5%) 0–249") == [(3, 7), (9, 14), (16, 19), (22, 23), (24, 27)]


WORDS = ("Subpoenas", "Search warrants", "Court orders", "Emergency and preservation requests", "Total received",
         "Received", "Full response", "No response", "Legal demands", "Germany", "H1 2021", "January 1 - June 30,",
         "in 2021", "Ring received", "we notified", "users", "of them", "18 U.S.C. § 2703(d)", "Types of requests",
         ":", ".", ",", ";", "%", "–", "-", "*", "¹", "(", ")", "$", "days", "call", "CA")
NUMBERS = st.one_of(st.integers(0, 99_999).map(str), st.integers(1_000, 9_999_999).map(lambda n: f"{n:,}"),
                    st.integers(1_000, 999_999).map(lambda n: f"{n:,}".replace(",", "\u00a0")),
                    st.sampled_from(["0-249", "0 – 249", "1.5", "2021", "H1", "26th"]))
TAGS = ("p", "li", "h2", "h3", "td", "th", "dt", "dd", "summary", "strong", "sup", "small", "span")


@st.composite
def pages(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 12))):
        tag = draw(st.sampled_from(TAGS))
        text = " ".join(draw(st.lists(st.one_of(st.sampled_from(WORDS), NUMBERS), min_size=1, max_size=8)))
        html = f"<{tag}>{text}</{tag}>"
        wrapper = draw(st.sampled_from(("", "ul", "table", "dl", "details", "section", "div class='footnote'")))
        if wrapper == "table":
            html = f"<table><tr>{html if tag in ('td', 'th') else f'<td>{html}</td>'}</tr></table>"
        elif wrapper:
            html = f"<{wrapper}>{html}</{wrapper.split()[0]}>"
        if draw(st.booleans()):
            html += f"<!-- {draw(NUMBERS)} -->"
        parts.append(html)
    return PAGE.format("".join(parts))


@settings(max_examples=200, deadline=None)
@given(pages())
def test_on_any_page_each_number_is_counted_once_and_each_unplaced_one_is_a_warning(html: str) -> None:
    try:
        page, entries = read_report_page(html.encode(), source_url="https://example.org/any")
    except ParseError:
        return
    ledger = page.ledger
    assert ledger.seen == len(entries) == digit_runs(html.encode())
    assert ledger.seen == ledger.placed + ledger.explained + ledger.unplaced
    unplaced = [w for w in page.warnings if w.kind == "unplaced_number"]
    assert [w.subject for w in unplaced] == [e.written for e in entries if e.status == "unplaced"]
    assert ledger.placed >= len({(f.period, f.country, f.request_type, f.outcome) for f in page.figures})


@pytest.mark.parametrize("body", [
    "<h2>Subpoenas</h2><p>Subpoenas and search warrants: 1,675</p><p>Received: 5</p>",
    "<h2>Subpoenas</h2><p>Received: 5. Subpoenas and search warrants: 1,675.</p>",
    "<h2>Subpoenas</h2><p>Received: 5</p><p>We received 1,675 subpoenas and search warrants.</p>",
    "<h2>Subpoenas</h2><p>Received: 5</p><table><tr><th>Subpoenas and search warrants</th><td>1,675</td></tr></table>",
], ids=["label", "label-in-a-sentence", "words-after", "row"])
def test_a_figure_labelled_with_several_types_is_none_of_them_nor_the_type_in_scope(body: str) -> None:
    page, _entries = read(body)
    assert figures(page) == {("US", "subpoenas", "received"): 5}
    (warning,) = page.warnings
    assert (warning.kind, warning.subject) == ("unplaced_number", "1,675")
    assert "several request types together" in warning.detail


def test_a_heading_that_is_a_label_and_a_figure_is_read_and_frames_what_follows() -> None:
    page, _entries = read("<h3>Subpoenas: 1,045</h3><p>Full response: 1,045</p><h3>Court orders: 0–249</h3>")
    assert figures(page) == {("US", "subpoenas", "received"): 1045, ("US", "subpoenas", "full_response"): 1045,
                             ("US", "court_orders", "received"): (0, 249)}
    assert page.warnings == () and page.ledger.complete


def test_a_bold_label_leading_a_paragraph_of_pairs_is_the_label_of_its_pair_only() -> None:
    page, _entries = read("<h3>Emergency requests</h3><p><b>Full response</b>: 4<br><b>No response</b>: 1*<br>"
                          "<b>Total</b>: 5</p>")
    assert figures(page) == {("US", "emergency_requests", "full_response"): 4,
                             ("US", "emergency_requests", "no_response"): 1,
                             ("US", "emergency_requests", "received"): 5}


def test_pairs_under_an_outcome_of_the_structure_around_them_keep_that_outcome() -> None:
    page, _entries = read("<ul><li>Full responses<ul><li>Subpoenas: 504</li>"
                          "<li>Search warrants: 341; Court orders: 5</li></ul></li></ul>")
    assert figures(page) == {("US", "subpoenas", "full_response"): 504, ("US", "search_warrants", "full_response"): 341,
                             ("US", "court_orders", "full_response"): 5}
