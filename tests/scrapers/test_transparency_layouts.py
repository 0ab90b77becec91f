"""Figures read in their context, on layouts written the way other web teams might write them.

The fixtures in tests/fixtures/transparency/layouts/ are not shaped after the 2020 post: one
list item per type, a section per type (paragraphs, a one-row table, a definition list),
an accordion of <details>. Each test states every figure the page holds, not a sample.
"""

from __future__ import annotations

import pytest

from ringwatch.scrapers.records import ReportPage
from ringwatch.scrapers.transparency import parse_report_page
from tests.conftest import read_fixture

Figures = dict[tuple[str, str, str], object]


def parse(name: str) -> ReportPage:
    return parse_report_page(read_fixture(f"transparency/layouts/{name}"), source_url=f"https://example.org/{name}")


def figures(page: ReportPage) -> Figures:
    """(country, type, outcome) -> value or (low, high), for a one-period page."""
    assert len(page.periods) == 1, page.periods
    return {(f.country, f.request_type, f.outcome): f.value if f.value is not None else (f.low, f.high)
            for f in page.figures}


def outcomes(rtype: str, received: int, full: int, partial: int | None, none: int) -> Figures:
    found: Figures = {("US", rtype, "received"): received, ("US", rtype, "full_response"): full,
                      ("US", rtype, "no_response"): none}
    if partial is not None:
        found[("US", rtype, "partial_response")] = partial
    return found


def test_a_list_item_per_type_with_sentences_or_label_value_pairs() -> None:
    page = parse("list_items_h2_2021.html")
    assert [(p.label, str(p.start), str(p.end)) for p in page.periods] == [
        ("July 1 – December 31, 2021", "2021-07-01", "2021-12-31")]
    assert figures(page) == {
        **outcomes("search_warrants", 1270, 842, 131, 297),
        **outcomes("subpoenas", 176, 38, 9, 129),
        **outcomes("court_orders", 127, 41, 12, 74),
        **outcomes("emergency_requests", 212, 198, None, 14),
        ("US", "national_security_requests", "received"): (0, 249),
        ("US", "preservation_requests", "received"): 1353,
        ("US", "all", "received"): 1573,
        ("US", "all", "users_notified"): 319,
    }
    # Emergency requests are not legal demands: 1,573 = warrants + subpoenas + court orders, no false alarm.
    assert page.warnings == ()


def test_a_section_per_type_with_paragraphs_a_one_row_table_and_a_definition_list() -> None:
    page = parse("sections_h1_2022.html")
    assert [p.label for p in page.periods] == ["First half of 2022"]
    assert figures(page) == {
        **outcomes("subpoenas", 1198, 407, 88, 703),  # thin-space separator, figures in <strong>
        **outcomes("search_warrants", 2310, 1655, 301, 354),  # "Total" column is received; 2,310*
        **outcomes("court_orders", 95, 30, 9, 56),  # definition list; 95¹
        ("US", "national_security_requests", "received"): (0, 249),  # "0 – 249"
        ("US", "preservation_requests", "received"): 1502,
        ("US", "all", "received"): 3603,  # no-break-space separator
    }
    assert page.warnings == ()


def test_details_blocks_nested_lists_captions_and_a_country_table() -> None:
    page = parse("details_h2_2022.html")
    assert [p.label for p in page.periods] == ["H2 2022"]  # the caption's July–December 2022 is the same period
    assert figures(page) == {
        **outcomes("search_warrants", 2412, 1702, 344, 366),
        **outcomes("subpoenas", 1101, 389, 71, 641),
        **outcomes("court_orders", 88, 25, 7, 56),
        **outcomes("all", 3601, 2116, 422, 1063),
        ("DE", "all", "received"): 4, ("DE", "all", "full_response"): 0,
        ("DE", "all", "partial_response"): 0, ("DE", "all", "no_response"): 4,
    }
    assert page.warnings == ()


def test_a_dashboard_of_stat_cards() -> None:
    """Each figure in a card of its own, number and label in separate elements either way round, icons
    beside them; a type's outcomes in cards or a list of cards under its heading."""
    page = parse("stat_cards_h1_2023.html")
    assert [p.label for p in page.periods] == ["January 1 – June 30, 2023"]
    assert figures(page) == {
        ("US", "all", "received"): 3214,
        ("US", "preservation_requests", "received"): 1587,
        ("US", "emergency_requests", "received"): 260,  # <p><strong>260</strong></p>
        ("US", "national_security_requests", "received"): (0, 249),
        ("US", "all", "users_notified"): 512,
        **outcomes("search_warrants", 2051, 1604, 233, 214),  # a list of cards, label first in one
        **outcomes("subpoenas", 1022, 412, 77, 533),  # numbers in <h4>, "Total received", a <br>
        **outcomes("court_orders", 141, 40, 11, 90),  # label first
    }
    assert page.warnings == ()
    assert page.ledger.complete


@pytest.mark.parametrize("name", ["list_items_h2_2021.html", "sections_h1_2022.html"])
def test_numbers_in_footnotes_and_footnote_markers_are_not_figures(name: str) -> None:
    page = parse(name)
    # "Includes 12 search warrants ... withdrawn", "40 were duplicates", "3 sealed orders"
    assert not [f for f in page.figures if any(w in f.label for w in ("withdrawn", "duplicates", "sealed"))]
    assert {f.value for f in page.figures if f.request_type == "search_warrants"}.isdisjoint({12, 40, 1})


PAGE = "<html><body><h1>Law Enforcement Requests, H1 2023</h1>{}</body></html>"
SAME_FIGURES = {("US", "subpoenas", "received"): 1420, ("US", "subpoenas", "full_response"): 1000,
                ("US", "subpoenas", "no_response"): 420}


@pytest.mark.parametrize("body", [
    # a heading per type, label/value paragraphs
    "<h2>Subpoenas</h2><p>Received: 1,420</p><p>Full response: 1,000</p><p>No response: 420</p>",
    # a paragraph that is only a bold label acts as a heading
    "<p><b>Subpoenas</b></p><p>Received: 1,420</p><p>Full response: 1,000</p><p>No response: 420</p>",
    # a bold lead-in and sentences
    "<p><strong>Subpoenas.</strong> We received 1,420. We responded fully to 1,000 and did not respond to 420.</p>",
    # footnote markers of three kinds, a no-break space, a footnote whose number is not a figure
    "<h3>Subpoenas</h3><ul><li>Received: 1&#160;420<sup>2</sup></li><li>Full response: 1,000*</li>"
    "<li>No response: 420¹</li></ul><p class='footnotes'>² Includes 12 subpoenas later withdrawn.</p>",
    # a heading wrapped in a div, a table with a row header per outcome
    "<div class='h'><h4>Subpoenas</h4></div><table><tr><th>Received</th><td>1,420</td></tr>"
    "<tr><th>Full response</th><td>1,000</td></tr><tr><th>No response</th><td>420</td></tr></table>",
    # a type stated in the sentence wins over the heading above it
    "<h2>Search warrants</h2><p>Separately, we received 1,420 subpoenas; we gave a full response to 1,000 "
    "subpoenas and no response to 420 subpoenas.</p>",
    # a definition list under a summary
    "<details><summary>Subpoenas</summary><dl><dt>Requests received</dt><dd>1,420</dd><dt>Fully answered</dt>"
    "<dd>1,000</dd><dt>No data provided</dt><dd>420</dd></dl></details>",
    # stat cards: number and label in elements of their own, either first, an icon or a break beside
    "<h2>Subpoenas</h2><div class='stats'><div class='card'><p class='n'>1,420</p><p>Received</p></div>"
    "<div class='card'><svg><path d='M0 0h24'/></svg><h4>Full response</h4><div class='n'>1,000</div></div>"
    "<div class='card'><p>420</p><br><p>No response</p></div></div>",
    # a list of cards
    "<h3>Subpoenas</h3><ul class='grid'><li><h5>1,420</h5><span>Received</span></li>"
    "<li><span>Full response</span><div>1,000</div></li><li><div>420</div><div>No response</div></li></ul>",
], ids=["headings", "bold-paragraph", "lead-in", "markers", "wrapped-heading", "own-sentence", "details-dl",
        "cards", "card-list"])
def test_one_set_of_figures_in_many_layouts(body: str) -> None:
    page = parse_report_page(PAGE.format(body).encode(), source_url="u")
    assert figures(page) == SAME_FIGURES
    assert page.warnings == ()
    assert page.ledger.complete and page.ledger.placed == 3


def test_a_figure_whose_type_is_nowhere_is_a_warning_not_a_total() -> None:
    body = ("<h2>Our response</h2><p>We gave a full response to 300 of them.</p>"
            "<ul><li>Subpoenas: 10</li></ul>")
    page = parse_report_page(PAGE.format(body).encode(), source_url="u")
    assert figures(page) == {("US", "subpoenas", "received"): 10}
    (warning,) = page.warnings
    assert (warning.kind, warning.subject) == ("unplaced_number", "300")
    assert "'We gave a full response to 300 of them.' (under Law Enforcement Requests, H1 2023 > Our response)" in (
        warning.detail)
    assert "names no request type" in warning.detail and "not loaded" in warning.detail
    assert (page.ledger.seen, page.ledger.placed, page.ledger.unplaced) == (3, 1, 1)  # 2023, 300, 10


@pytest.mark.parametrize("heading", ["H1 2023", "Requests in H1 2023", "January 1 – June 30, 2023", "2023",
                                     "Overview", "At a glance"])
@pytest.mark.parametrize("figure", ["<p>1,612</p>", "<div class='card'><p>1,612</p></div>",
                                    "<div><div><strong>1,612</strong></div></div>"])
def test_a_bare_figure_under_a_heading_that_names_no_type_is_a_warning(heading: str, figure: str) -> None:
    """A number alone under a heading that names a period, or nothing ("Overview"), counts nothing the
    page says: once, it was loaded as a request type named after the heading ("h1_2023", "overview")
    without a word."""
    body = f"<h2>{heading}</h2>{figure}<ul><li>Subpoenas: 10</li></ul>"
    page = parse_report_page(PAGE.format(body).encode(), source_url="u")
    assert figures(page) == {("US", "subpoenas", "received"): 10}
    (warning,) = page.warnings
    assert (warning.kind, warning.subject) == ("unplaced_number", "1,612")
    assert "names no request type" in warning.detail and f"> {heading})" in warning.detail


@pytest.mark.parametrize("body", ["<dl><dt>H1 2023</dt><dd>1,612</dd></dl>", "<ul><li>H1 2023: 1,612</li></ul>",
                                  "<table><tr><th>January – June 2023</th><td>1,612</td></tr></table>"])
def test_a_label_that_is_only_a_period_names_no_type(body: str) -> None:
    """A figure's own label that is a period and nothing else gives it no type (it was "h1_2023")."""
    page = parse_report_page(PAGE.format(f"<h2>Overview</h2>{body}<ul><li>Subpoenas: 10</li></ul>").encode(),
                             source_url="u")
    assert figures(page) == {("US", "subpoenas", "received"): 10}
    (warning,) = page.warnings
    assert (warning.kind, warning.subject) == ("unplaced_number", "1,612")


@pytest.mark.parametrize("block", ["<h3>Search warrants</h3><p>1,612</p>", "<p>1,612</p><h3>Search warrants</h3>"],
                         ids=["heading-first", "figure-first"])
def test_a_heading_in_a_block_of_its_own_still_heads_what_follows(block: str) -> None:
    """A block of a heading and a figure in the page's flow: the heading labels the figure, whichever
    comes first, and goes on heading what follows the block, as HTML's outline has it ("Full response:
    400" is a search warrants figure)."""
    body = (f"<h2>Subpoenas</h2><p>Received: 100</p><div class='wp-block-group'>{block}</div>"
            "<p>Full response: 400</p>")
    page = parse_report_page(PAGE.format(body).encode(), source_url="u")
    assert figures(page) == {("US", "subpoenas", "received"): 100, ("US", "search_warrants", "received"): 1612,
                             ("US", "search_warrants", "full_response"): 400}


def test_a_lone_card_labelled_by_a_heading_is_still_a_card() -> None:
    """A grid of one card: its heading is its own (the number in a heading as well)."""
    body = ("<h2>H1 2023</h2><div class='stats'><div class='card'><h4>Users notified</h4><h3>12</h3></div></div>"
            "<h3>Subpoenas</h3><div class='stats'><div class='card'><p>Received</p><p>10</p></div>"
            "<div class='card'><p>No response</p><p>10</p></div></div>")
    page = parse_report_page(PAGE.format(body).encode(), source_url="u")
    assert figures(page) == {("US", "all", "users_notified"): 12, ("US", "subpoenas", "received"): 10,
                             ("US", "subpoenas", "no_response"): 10}
    assert page.warnings == ()


def test_a_cards_heading_goes_no_further_than_its_card() -> None:
    """In a grid, a card labelled by a heading is labelled alone: the next card's users notified are
    not preservation requests."""
    body = ("<h2>At a glance</h2><div class='stats'><div class='card'><h4>Preservation requests</h4><p>1,402</p></div>"
            "<div class='card'><p>12</p><p>Users notified</p></div><div class='card'><p>Subpoenas</p><p>10</p></div>"
            "</div>")
    page = parse_report_page(PAGE.format(body).encode(), source_url="u")
    assert figures(page) == {("US", "preservation_requests", "received"): 1402, ("US", "all", "users_notified"): 12,
                             ("US", "subpoenas", "received"): 10}
    assert page.warnings == ()


@pytest.mark.parametrize(("body", "why"), [
    ("<div class='card'><p>1,612</p><p>Search warrants</p><p>Signed by a judge</p></div>", "a third part with words"),
    ("<div class='card'>About <p>1,612</p><p>Search warrants</p></div>", "text of its own"),
    ("<div class='card'><p>1,612</p><p>Search warrants in 2023</p></div>", "a label with a number"),
    ("<div class='card'><p>1,612</p><p>2,000</p></div>", "two figures"),
], ids=["three-parts", "own-text", "numbered-label", "two-figures"])
def test_what_is_not_a_stat_card_is_read_as_before(body: str, why: str) -> None:
    """Only a block of a bare figure and a label without digits is a card; anything else is left to the
    rest of the reader, which here cannot place 1,612 and says so."""
    page = parse_report_page(PAGE.format(f"<h2>Overview</h2>{body}<ul><li>Subpoenas: 10</li></ul>").encode(),
                             source_url="u")
    assert ("US", "search_warrants", "received") not in figures(page), why
    assert "1,612" in {w.subject for w in page.warnings if w.kind == "unplaced_number"}, why


def test_a_total_that_really_disagrees_is_still_warned_about() -> None:
    body = ("<ul><li>Legal demands: 2,000</li><li>Subpoenas: 1,000</li><li>Search warrants: 500</li>"
            "<li>Court orders: 100</li><li>Emergency requests: 400</li></ul>")
    page = parse_report_page(PAGE.format(body).encode(), source_url="u")
    (warning,) = page.warnings
    assert warning.kind == "total_mismatch"
    assert "is 2,000 but the sum of court_orders, search_warrants" in warning.detail


def test_a_total_that_says_it_includes_emergency_requests_is_read_so() -> None:
    body = ("<ul><li>All requests, including emergency requests: 2,000</li><li>Subpoenas: 1,000</li>"
            "<li>Search warrants: 500</li><li>Court orders: 100</li><li>Emergency requests: 400</li></ul>")
    page = parse_report_page(PAGE.format(body).encode(), source_url="u")
    assert page.warnings == ()
