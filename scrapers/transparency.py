"""Ring's law-enforcement transparency reports: find report links and parse the figures
(fetching is scrapers/transparency_fetch.py).

The real pages are only partly known (shared/docs/SOURCES.md section 3), so figures are found
by their labels, never by position, and each is read in its context: its sentence or cell,
then the list item, definition term, summary, caption and headings around it
(scrapers/transparency_layout.py). Tested on the 2020 post's structure and on layouts written
as other web teams might (tests/fixtures/transparency/layouts/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from ringwatch.scrapers.errors import ParseError, snippet_of
from ringwatch.scrapers.html_tree import parse_html
from ringwatch.scrapers.records import Capture, QualityWarning, ReportPage, RequestFigure
from ringwatch.scrapers.sources import Source
from ringwatch.scrapers.transparency_layout import MAX_FIGURE_DIGITS, FigureTooLong, Frame, PageReader
from ringwatch.scrapers.transparency_ledger import NumberEntry
from ringwatch.scrapers.transparency_terms import (
    find_date,
    find_periods,
    types_named,
)

SOURCE = Source.TRANSPARENCY
RESPONSES = ("full_response", "partial_response", "no_response")
# The kinds of legal process counted among "legal demands" (national security within its range).
LEGAL_DEMAND_TYPES = ("subpoenas", "search_warrants", "court_orders", "national_security_requests")
# Counted apart from legal demands unless the total's own words include them.
SEPARATE_TYPES = ("emergency_requests", "preservation_requests", "non_us_requests")
_REPORT_LINK = re.compile(
    r"law[\s_-]+enforcement[\s_-]+(information[\s_-]+)?requests?|transparency", re.I)
_NOISE = ("script", "style", "noscript", "nav", "footer", "aside", "form", "iframe", "svg")


# -- discovery -------------------------------------------------------------------


def find_report_links(html: bytes, *, base_url: str) -> list[str]:
    """Links on an index page whose text or address speaks of law-enforcement requests or
    transparency, as absolute http(s) URLs without fragments, in page order."""
    soup = parse_html(html, source=SOURCE, url=base_url, expected="a page of links to transparency reports")
    links: list[str] = []
    for anchor in soup.find_all("a", href=True):
        href = str(anchor["href"])
        text = anchor.get_text(" ", strip=True)
        if not (_REPORT_LINK.search(text) or _REPORT_LINK.search(href)):
            continue
        url = urldefrag(urljoin(base_url, href))[0]
        if urlsplit(url).scheme not in ("http", "https") or url == urldefrag(base_url)[0]:
            continue
        if url not in links:
            links.append(url)
    return links


@dataclass(frozen=True, slots=True)
class Candidate:
    """A fetched page that may be a report: configured (must parse) or discovered (may not)."""

    capture: Capture
    discovered: bool


def parse_candidates(candidates: list[Candidate]) -> tuple[list[tuple[int, ReportPage]], list[QualityWarning]]:
    """Parse every candidate; return (position, page) for the reports and warnings for skips.

    A configured page that fails raises; a discovered one is skipped with a warning (an index
    page, or a post that only mentions transparency). No report at all is an error.
    """
    reports: list[tuple[int, ReportPage]] = []
    skipped: list[QualityWarning] = []
    for position, candidate in enumerate(candidates):
        capture = candidate.capture
        try:
            reports.append((position, parse_report_page(capture.body, source_url=capture.url)))
        except ParseError as exc:
            if not candidate.discovered:
                raise
            skipped.append(QualityWarning(kind="not_a_report", subject=capture.url,
                                          detail=f"skipped {capture.url}, found by following links: {exc}"))
    if not reports:
        urls = ", ".join(c.capture.url for c in candidates) or "no pages"
        raise ParseError(f"{SOURCE}: none of the pages fetched ({urls}) holds report figures; check "
                         "[sources.transparency] in the config.",
                         url=candidates[0].capture.url if candidates else "", expected="at least one report")
    return reports, skipped


# -- parsing ------------------------------------------------------------------------------------


def parse_report_page(html: bytes, *, source_url: str) -> ReportPage:
    """Parse one report page into its periods and figures, each read in its context
    (scrapers/transparency_layout.py), with the ledger of its numbers (scrapers/transparency_ledger.py).

    Raises ParseError when the page holds no figures at all, or figures without any
    period we can tell, or nests deeper than any real page (scrapers/html_tree.py).
    """
    return read_report_page(html, source_url=source_url)[0]


def read_report_page(html: bytes, *, source_url: str) -> tuple[ReportPage, tuple[NumberEntry, ...]]:
    """parse_report_page, and how each number of the page was accounted for, in page order: to
    see why a page was not read completely."""
    if not html.strip():
        raise ParseError(f"{SOURCE}: {source_url} returned an empty page; expected a report.",
                         url=source_url, expected="an HTML report page")
    soup = parse_html(html, source=SOURCE, url=source_url, expected="a Ring law-enforcement requests report")
    for noise in soup.find_all(_NOISE):
        noise.decompose()
    main = soup.find("article") or soup.find("main") or soup.body or soup
    title = _title(soup, main)
    published = _published_on(soup, main)
    page_periods = find_periods(title)
    reader = PageReader(url=source_url, page=Frame(period=page_periods[0] if page_periods else None),
                        periods_seen=list(page_periods))
    try:
        reader.walk(main)
    except FigureTooLong as exc:
        digits = len(exc.text.replace(",", ""))
        raise ParseError(
            f"{SOURCE}: {source_url} holds a figure {digits:,} digits long ({exc.text[:20]}...); no count of "
            f"requests has more than {MAX_FIGURE_DIGITS}, so the page was not read rather than guessed at. "
            "Check that the file or capture is the report you meant.",
            url=source_url, expected="request counts of at most a dozen digits", snippet=snippet_of(html),
        ) from None
    ledger, entries = reader.finish(main)
    if not reader.figures:
        unplaced = f" ({ledger.unplaced} number(s) could not be placed)" if ledger.unplaced else ""
        raise ParseError(
            f"{SOURCE}: {source_url} ({title or 'untitled'!r}) has no request figures{unplaced}: no table, "
            "list or sentence with a labelled count was found. Expected a Ring law-enforcement requests "
            "report; if the layout changed, teach scrapers/transparency_layout.py and run 'ringwatch reparse'.",
            url=source_url, expected="labelled request figures", snippet=snippet_of(html),
        )
    figures = tuple(reader.figures.values())
    warnings = reader.warnings + check_totals(figures, url=source_url)
    periods = tuple(dict.fromkeys(f.period for f in figures))
    page = ReportPage(url=_canonical_url(soup, source_url), title=title, published_on=published, periods=periods,
                      figures=figures, warnings=tuple(warnings), ledger=ledger)
    return page, tuple(entries)


def check_totals(figures: tuple[RequestFigure, ...], *, url: str) -> list[QualityWarning]:
    """Where a page gives a whole and its parts, warn when they really disagree.

    Received = full + partial + no response, per period, country and type. And a total of
    legal demands ("all") = subpoenas + search warrants + court orders (+ national security
    within its range), per period, country and outcome, when the page gives at least two
    parts; any other legal process the page names (a type ringwatch has no name for) may be
    counted among them; emergency, preservation and non-U.S. requests only when the total's own
    words include them. The warning comes only when no such reading makes the figures agree.
    """
    exact = {(f.period, f.country, f.request_type, f.outcome): f.value
             for f in figures if f.value is not None}
    bounds = {(f.period, f.country, f.request_type, f.outcome): (f.low, f.high)
              for f in figures if f.value is None and f.low is not None and f.high is not None}
    labels = {(f.period, f.country, f.request_type, f.outcome): f.label for f in figures}
    warnings: list[QualityWarning] = []
    groups = {(p, c, t) for (p, c, t, _o) in exact}
    for period, country, rtype in sorted(groups, key=lambda g: (g[0].start, g[1], g[2])):
        received = exact.get((period, country, rtype, "received"))
        parts = [exact.get((period, country, rtype, o)) for o in RESPONSES]
        if received is not None and all(p is not None for p in parts):
            total = sum(p for p in parts if p is not None)
            if total != received:
                warnings.append(_mismatch(url, f"{period.label} {country} {rtype}: received", received,
                                          "full + partial + no response", f"{total:,}"))
    known = set(LEGAL_DEMAND_TYPES) | set(SEPARATE_TYPES) | {"all"}
    outcomes = {(p, c, o) for (p, c, _t, o) in exact}
    for period, country, outcome in sorted(outcomes, key=lambda g: (g[0].start, g[1], g[2])):
        whole = exact.get((period, country, "all", outcome))
        if whole is None:
            continue
        present = {k[2]: k for k in (*exact, *bounds) if (k[0], k[1], k[3]) == (period, country, outcome)}
        core = [t for t in LEGAL_DEMAND_TYPES if t in present]
        if len(core) < 2:
            continue
        others = [t for t in present if t not in known]
        said = labels.get((period, country, "all", outcome), "").lower()
        named = [t for t in SEPARATE_TYPES if t in present and t in types_named(said)]
        readings = [core, core + others, core + named, core + others + named]
        spans = []
        for types in readings:
            low = sum(exact[present[t]] if present[t] in exact else bounds[present[t]][0] for t in types)
            high = sum(exact[present[t]] if present[t] in exact else bounds[present[t]][1] for t in types)
            spans.append((low, high, types))
        if any(low <= whole <= high for low, high, _types in spans):
            continue
        low, high, types = spans[0]
        span = f"{low:,}" if low == high else f"{low:,}-{high:,}"
        warnings.append(_mismatch(url, f"{period.label} {country} all requests, {outcome}", whole,
                                  f"the sum of {', '.join(sorted(types))}", span))
    return warnings


def _mismatch(url: str, what: str, whole: int, parts: str, total: str) -> QualityWarning:
    return QualityWarning(
        kind="total_mismatch",
        subject=what,
        detail=f"{url}: {what} is {whole:,} but {parts} is {total}; both figures kept as published.",
    )


# -- page structure ---------------------------------------------------------------------------


def _text(element: Tag | None) -> str:
    return " ".join(element.get_text(" ", strip=True).split()) if element is not None else ""


def _title(soup: BeautifulSoup, main: Tag) -> str:
    for candidate in (main.find("h1"), soup.find("h1")):
        if candidate is not None and _text(candidate):
            return _text(candidate)
    meta = soup.find("meta", attrs={"property": "og:title"})
    if isinstance(meta, Tag) and meta.get("content"):
        return " ".join(str(meta["content"]).split())
    return _text(soup.title) if soup.title else ""


def _canonical_url(soup: BeautifulSoup, source_url: str) -> str:
    """The page's own address (link rel=canonical, og:url), so that a saved copy loaded with
    --from-file is the same report as the live page; else the URL it was read from."""
    candidates = [soup.find("link", rel="canonical"), soup.find("meta", attrs={"property": "og:url"})]
    for tag in candidates:
        if isinstance(tag, Tag):
            value = str(tag.get("href") or tag.get("content") or "").strip()
            if urlsplit(value).scheme in ("http", "https"):
                return value
    return source_url


def _published_on(soup: BeautifulSoup, main: Tag) -> date | None:
    meta = soup.find("meta", attrs={"property": "article:published_time"})
    if isinstance(meta, Tag) and meta.get("content"):
        try:
            return date.fromisoformat(str(meta["content"])[:10])
        except ValueError:
            pass
    time_tag = main.find("time")
    if isinstance(time_tag, Tag) and time_tag.get("datetime"):
        try:
            return date.fromisoformat(str(time_tag["datetime"])[:10])
        except ValueError:
            pass
    for element in main.find_all(["p", "span", "div", "time"], limit=40):
        text = _text(element)
        if re.search(r"\b(by|posted|published)\b.*\bon\b", text, re.I) and len(text) < 200:
            found = find_date(text)
            if found:
                return found
    return None
