"""Documents nested far deeper than any real one: each parser reads them or refuses them with
a ParseError naming the URL, within seconds and little memory; never RecursionError,
MemoryError or a hang. Before this, a report page nested 20,000 deep ended in
"Error: unexpected RecursionError"."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from click.testing import CliRunner

from ringwatch.flows.cli import cli
from ringwatch.scrapers import transparency_layout as layout
from ringwatch.scrapers.agency_map import MAX_KML_DEPTH, parse_agency_map
from ringwatch.scrapers.errors import ParseError
from ringwatch.scrapers.html_tree import MAX_HTML_DEPTH, parse_html
from ringwatch.scrapers.transparency import find_report_links, parse_report_page
from ringwatch.scrapers.transparency_layout import PageReader
from ringwatch.scrapers.wayback import parse_cdx
from tests.conftest import within

DEEP = 100_000
TITLE = b"<h1>Law enforcement requests, January-June 2020</h1>"
KML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
PLACEMARK = (b"<Placemark><name>Lakeside Police Department</name><address>Lakeside, MN</address>"
             b"<ExtendedData><Data name=\"Active Date\"><value>2020-01-15</value></Data></ExtendedData></Placemark>")


def nested(opening: str, closing: str, depth: int, inside: bytes) -> bytes:
    return opening.encode() * depth + inside + closing.encode() * depth


def report(body: bytes) -> bytes:
    return b"<html><body><article>" + TITLE + body + b"</article></body></html>"


# -- transparency report pages ---------------------------------------------------------------------


LAYOUTS = [("<div>", "</div>"), ("<span>", "</span>"), ("<ul><li>", "</li></ul>"), ("<section>", "</section>"),
           ("<details><summary>Subpoenas</summary>", "</details>"), ("<dl><dt>Subpoenas</dt><dd>", "</dd></dl>"),
           ("<div><b>Subpoenas</b> ", "</div>"), ("<table><tr><td>", "</td></tr></table>")]
READ_IN_CONTEXT = LAYOUTS[:-1]  # a table's cells are read as cells, not as prose


@pytest.mark.parametrize(("opening", "closing"), LAYOUTS, ids=[o for o, _ in LAYOUTS])
def test_a_report_page_nested_100000_deep_is_refused_naming_the_url(opening: str, closing: str) -> None:
    html = report(nested(opening, closing, DEEP, b"Subpoenas received: 5"))
    with within(5), pytest.raises(ParseError) as caught:
        parse_report_page(html, source_url="https://example.org/deep")
    message = str(caught.value)
    assert message.startswith("transparency: https://example.org/deep nests its elements more than 256 deep")
    assert "please report it" in message and caught.value.url == "https://example.org/deep"


def test_the_refusal_comes_before_the_tree_is_built_so_memory_stays_small() -> None:
    html = report(nested("<div>", "</div>", DEEP, b"Subpoenas received: 5"))
    tracemalloc.start()
    try:
        with pytest.raises(ParseError):
            parse_report_page(html, source_url="https://example.org/deep")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # About 1.1 MB here (a copy of the 1.1 MB page); the whole tree took 48 MB.
    assert peak < 10_000_000, peak


@pytest.mark.parametrize(("opening", "closing"), READ_IN_CONTEXT, ids=[o for o, _ in READ_IN_CONTEXT])
def test_a_report_nested_just_within_the_limit_is_read(opening: str, closing: str) -> None:
    per_level = opening.count("<") - opening.count("</")
    depth = (MAX_HTML_DEPTH - 4) // per_level  # html, body, article, and the figure's own <p>
    html = report(nested(opening, closing, depth, b"<p>Subpoenas received: 1,045</p>"))
    with within(5):
        page = parse_report_page(html, source_url="https://example.org/deep")
    assert [(str(f.period.start), str(f.period.end), f.request_type, f.outcome, f.value) for f in page.figures] == [
        ("2020-01-01", "2020-06-30", "subpoenas", "received", 1045)]


def test_the_layout_reader_walks_a_tree_far_deeper_than_the_python_stack() -> None:
    """The walk keeps its own stack: a tree deeper than the recursion limit (built here without
    the bound, as a library might hand one over) is read to the figure at its bottom."""
    depth = 3 * sys.getrecursionlimit()
    soup = BeautifulSoup(report(nested("<div>", "</div>", depth, b"<p>Subpoenas received: 7</p>")), "lxml")
    article = soup.find("article")
    assert isinstance(article, Tag)
    reader = PageReader(url="https://example.org/deep")
    with within(10):
        reader.heading(1, "Law enforcement requests, January-June 2020")
        reader.walk(article)
    assert [(f.request_type, f.outcome, f.value) for f in reader.figures.values()] == [
        ("subpoenas", "received", 7)]


@pytest.fixture
def text_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The characters of every element text the layout reader gathers, one count per reading."""
    counts: list[int] = []
    text_of = layout.text_of

    def counting(element: Tag | None) -> str:
        text = text_of(element)
        counts.append(len(text))
        return text

    monkeypatch.setattr(layout, "text_of", counting)
    return counts


def test_tables_nested_in_cells_are_read_once_not_once_per_table_around_them(text_read: list[int]) -> None:
    """Each row's own cells only: a cell's nested tables are read in their own rows, not again in
    every row around them (80 deep around 28 KB of text: 92 MB of text read, 10 s)."""
    text = b"Warrants were served on the company. " * 750
    html = report(nested("<table><tr><td>", "</td></tr></table>", 80, text))
    with within(10), pytest.raises(ParseError, match="has no request figures"):
        parse_report_page(html, source_url="https://example.org/tables")
    assert 79 * len(text) < sum(text_read) < 82 * len(text)  # each level's cell once


def test_blocks_opening_in_bold_are_not_read_whole_at_every_level(text_read: list[int]) -> None:
    """A block is a heading only when its whole text is short: that is seen from its first 80
    characters, not by reading all of it at every level of nesting."""
    text = b"Warrants were served on the company. " * 2000
    html = report(nested("<div><b>Subpoenas</b> received 5", "</div>", 120, b"<p>Subpoenas received: 5</p>" + text))
    with within(10):
        page = parse_report_page(html, source_url="https://example.org/bold")
    assert {(f.request_type, f.outcome, f.value) for f in page.figures} == {("subpoenas", "received", 5)}
    assert sum(text_read) < 3 * len(text)


# -- transparency index pages ------------------------------------------------------------------------


def test_an_index_page_nested_100000_deep_is_refused_naming_the_url() -> None:
    html = b"<html><body>" + nested("<div>", "</div>", DEEP, b'<a href="/law-enforcement-requests">Report</a>')
    with within(5), pytest.raises(ParseError, match=r"^transparency: https://example\.org/index nests its "
                                                    r"elements more than 256 deep.*links to transparency reports"):
        find_report_links(html, base_url="https://example.org/index")


def test_an_index_page_nested_within_the_limit_gives_its_links() -> None:
    html = b"<html><body>" + nested("<div>", "</div>", 250, b'<a href="/law-enforcement-requests">Report</a>')
    assert find_report_links(html, base_url="https://example.org/index") == [
        "https://example.org/law-enforcement-requests"]


def test_the_bound_counts_open_elements_not_tags_written() -> None:
    """Paragraphs and list items close themselves: a long flat page of them is not deep."""
    flat = b"<p>one<p>two<ul><li>a<li>b</ul>" * 5_000
    soup = parse_html(b"<html><body>" + flat, source="test", url="https://example.org/flat", expected="a page")
    assert len(soup.find_all("li")) == 10_000


# -- KML -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("element", ["Folder", "Placemark", "ExtendedData"])
def test_a_kml_nested_100000_deep_is_refused_naming_the_url(element: str) -> None:
    kml = KML_HEAD + nested(f"<{element}>", f"</{element}>", DEEP, b"") + b"</Document></kml>"
    with within(5), pytest.raises(ParseError) as caught:
        parse_agency_map(kml, source_url="https://example.org/deep.kml")
    message = str(caught.value)
    assert message.startswith("agency_map: https://example.org/deep.kml nests its elements more than 256 deep")
    assert "XML_PARSE_HUGE" not in message and "not well-formed" not in message


def test_a_kml_nested_within_the_limit_is_read() -> None:
    depth = MAX_KML_DEPTH - 10
    kml = KML_HEAD + nested("<Folder>", "</Folder>", depth, PLACEMARK) + b"</Document></kml>"
    agencies = parse_agency_map(kml, source_url="https://example.org/folders.kml")
    assert [(a.name, a.state) for a in agencies] == [("Lakeside Police Department", "MN")]


# -- CDX JSON ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [
    b"[" * DEEP + b"]" * DEEP,
    b'[["timestamp","original","statuscode","digest"],' + b"[" * DEEP + b"]" * DEEP + b"]",
    b'{"a":' * DEEP + b"1" + b"}" * DEEP,
], ids=["list", "row", "object"])
def test_a_cdx_answer_nested_100000_deep_is_refused_naming_the_url(answer: bytes) -> None:
    with within(5), pytest.raises(ParseError, match=r"^wayback: the CDX answer from https://example\.org/cdx is "
                                                    r"nested too deep to read"):
        parse_cdx(answer, url="https://example.org/cdx")


def test_a_cdx_row_holding_a_nested_value_is_refused() -> None:
    answer = b'[["timestamp","original","statuscode","digest"],["20200101000000",' + b"[" * 400 + b"]" * 400 + b"]]"
    with pytest.raises(ParseError, match="not a list of rows of values"):
        parse_cdx(answer, url="https://example.org/cdx")
    good = b'[["timestamp","original","statuscode","digest"],["20200101000000","https://ring.com/","200","X"]]'
    assert [c.original for c in parse_cdx(good, url="https://example.org/cdx")] == ["https://ring.com/"]


# -- through the command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "source", "content"), [
    ("deep.html", "transparency", report(nested("<div>", "</div>", DEEP, b"Subpoenas received: 5"))),
    ("deep.kml", "agency_map", KML_HEAD + nested("<Folder>", "</Folder>", DEEP, b"") + b"</Document></kml>"),
])
def test_a_deep_file_given_to_sync_ends_in_one_plain_error(tmp_path: Path, name: str, source: str,
                                                           content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with within(20):
        result = CliRunner().invoke(cli, ["sync", "--from-file", str(path), "--source", source,
                                          "--db", str(tmp_path / "r.duckdb")])
    assert result.exit_code == 1, result.output
    assert "unexpected" not in result.output and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"Error: {source}: {path.resolve().as_uri()} nests its elements more than 256 deep")


@pytest.mark.parametrize("body", [
    "<table><tr><th>Subpoenas received</th><td>{n}</td></tr></table>",
    "<p>Subpoenas: {n}</p>",
    "<p>Ring received {n} subpoenas in 2021.</p>",
])
def test_a_figure_of_thousands_of_digits_is_a_parse_error_naming_the_page(body: str) -> None:
    """int() refuses more than 4,300 digits with a bare ValueError; no count has more than a dozen."""
    from ringwatch.scrapers.transparency import parse_report_page

    page = f"<html><body><article><h1>Law Enforcement Requests 2021</h1>{body.format(n='9' * 5000)}"
    page += "<p>Search warrants: 12</p></article></body></html>"
    with pytest.raises(ParseError, match=r"https://example\.org/deep-figure .*5,000 digits long"):
        parse_report_page(page.encode(), source_url="https://example.org/deep-figure")


def test_a_figure_of_a_dozen_digits_is_still_read() -> None:
    from ringwatch.scrapers.transparency import parse_report_page

    page = ("<html><body><article><h1>Law Enforcement Requests 2021</h1><p>Subpoenas: 123,456,789,012</p>"
            "</article></body></html>")
    figures = parse_report_page(page.encode(), source_url="https://example.org/big").figures
    assert [(f.outcome, f.value) for f in figures if f.request_type == "subpoenas"] == [("received", 123456789012)]
