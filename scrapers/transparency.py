"""Ring's law-enforcement transparency reports: discover, fetch and parse the figures.

The real pages are only partly known (shared/docs/SOURCES.md section 3), so figures are found
by their labels, never by position: in tables of either orientation (types by outcomes,
outcomes by types, periods or countries as an axis), in lists and definition lists
("Subpoenas: 1,045"), and in sentences ("Ring received 1,045 subpoenas"). Written against
the fixtures in tests/fixtures/transparency/, which follow the 2020 blog post's structure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from scrapers.errors import ParseError, snippet_of
from scrapers.http import PoliteClient
from scrapers.records import Capture, Period, QualityWarning, ReportPage, RequestFigure
from scrapers.transparency_terms import (
    country_of,
    find_date,
    find_periods,
    other_figure_of,
    outcome_of,
    request_type_of,
    slug,
    strip_dates,
)

SOURCE = "transparency"
RESPONSES = ("full_response", "partial_response", "no_response")
DEMAND_TYPES = ("subpoenas", "search_warrants", "court_orders", "emergency_requests",
                "national_security_requests", "non_us_requests")
_REPORT_LINK = re.compile(
    r"law[\s_-]+enforcement[\s_-]+(information[\s_-]+)?requests?|transparency", re.I)
_NUMBER = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+"
_FIGURE_CELL = re.compile(
    rf"^\s*(?:approx(?:imately|\.)?|about|~)?\s*({_NUMBER})(?:\s*(?:-|–|—|to)\s*({_NUMBER}))?\s*[*†‡]*\s*(?:\[\d+\])?\s*$",
    re.I)
_NUMBER_IN_TEXT = re.compile(
    rf"(?<![\w.$§/])({_NUMBER})(?:\s*(?:-|–|—)\s*({_NUMBER}))?(?![\w%/])(?!\s*(?:%|percent|per cent|\(|u\.s\.c))",
    re.I)
_LEGAL_CITATION_BEFORE = re.compile(r"(§|section|sec\.|title|u\.s\.c\.?|chapter|rule|no\.)\s*$", re.I)
_RECEIVED_VERB = re.compile(r"\b(received|receive|receives|got|were served|was served)\b", re.I)
_LABEL_VALUE = re.compile(r"^\s*(?P<label>[^:]{2,120}?)\s*[:–—]\s*(?P<value>[^:]+?)\s*\.?\s*$")
_DEFINITIONS = re.compile(r"types of (legal )?requests|definitions|glossary|what (is|are) ", re.I)
_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dt", "dd", "table")
_CONTAINERS = ("table", "p", "li", "dd", "dt")
_NOISE = ("script", "style", "noscript", "nav", "footer", "aside", "form", "iframe", "svg")


# -- discovery and fetching -------------------------------------------------------------------


def find_report_links(html: bytes, *, base_url: str) -> list[str]:
    """Links on an index page whose text or address speaks of law-enforcement requests or
    transparency, as absolute http(s) URLs without fragments, in page order."""
    soup = BeautifulSoup(html, "lxml")
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


@dataclass
class FetchedReports:
    """Every capture made, which URLs are report pages to parse, and which of those were only
    discovered (an index page or a followed link): a discovered page without figures is not a
    report, while a configured report without figures is an error."""

    captures: list[Capture] = field(default_factory=list)
    report_urls: list[str] = field(default_factory=list)
    discovered: set[str] = field(default_factory=set)


def fetch_reports(client: PoliteClient, *, report_urls: list[str], index_urls: list[str],
                  on_capture: Callable[[Capture], None] = lambda capture: None) -> FetchedReports:
    """Fetch the index pages, follow their report links, then fetch every report page.

    Index pages are candidates too: the later "Law Enforcement Information Requests page"
    may hold figures itself. Known report URLs come first, then what the indexes linked.
    `on_capture` sees each capture as it arrives, so the caller can keep it even if a later
    fetch fails.
    """
    result = FetchedReports()
    known = list(dict.fromkeys(report_urls))
    queue = list(known)
    for index_url in index_urls:
        capture = client.fetch(index_url, source=SOURCE)
        on_capture(capture)
        result.captures.append(capture)
        for link in find_report_links(capture.body, base_url=capture.url):
            if link not in queue and link not in index_urls:
                queue.append(link)
                result.discovered.add(link)
        result.report_urls.append(index_url)
        if index_url not in known:
            result.discovered.add(index_url)
    fetched = {c.url for c in result.captures}
    for url in queue:
        if url in fetched:
            continue
        capture = client.fetch(url, source=SOURCE)
        on_capture(capture)
        result.captures.append(capture)
        result.report_urls.append(url)
        fetched.add(url)
    return result


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


@dataclass
class _Context:
    """What the surrounding headings said: the period, type and outcome figures belong to."""

    period: Period | None
    request_type: str | None = None
    outcome: str | None = None
    definitions: bool = False  # a "Types of Requests" section: prose there defines, not counts


@dataclass
class _Collector:
    url: str
    figures: dict[tuple[Period, str, str, str], RequestFigure] = field(default_factory=dict)
    warnings: list[QualityWarning] = field(default_factory=list)

    def add(self, figure: RequestFigure) -> None:
        key = (figure.period, figure.country, figure.request_type, figure.outcome)
        known = self.figures.get(key)
        if known is None:
            self.figures[key] = figure
        elif (known.value, known.low, known.high) != (figure.value, figure.low, figure.high):
            self.warnings.append(QualityWarning(
                kind="conflicting_figure",
                subject=_describe(figure),
                detail=(f"{self.url}: {_describe(figure)} is given as {_show(known)} "
                        f"({known.label!r}) and as {_show(figure)} ({figure.label!r}); kept the first."),
            ))


def parse_report_page(html: bytes, *, source_url: str) -> ReportPage:
    """Parse one report page into its periods and labelled figures.

    Raises ParseError when the page holds no figures at all, or figures without any
    period we can tell.
    """
    if not html.strip():
        raise ParseError(f"{SOURCE}: {source_url} returned an empty page; expected a report.",
                         url=source_url, expected="an HTML report page")
    soup = BeautifulSoup(html, "lxml")
    for noise in soup.find_all(_NOISE):
        noise.decompose()
    main = soup.find("article") or soup.find("main") or soup.body or soup
    title = _title(soup, main)
    published = _published_on(soup, main)
    page_periods = find_periods(title)
    context = _Context(period=page_periods[0] if page_periods else None)
    collector = _Collector(source_url)
    periods_seen: list[Period] = list(page_periods)
    for block in _blocks(main):
        text = _text(block)
        if block.name and block.name[0] == "h" and block.name[1:].isdigit():
            context = _heading_context(text, context)
            if context.period and context.period not in periods_seen:
                periods_seen.append(context.period)
            continue
        if context.period is None:
            found = find_periods(text)
            if found and not _looks_like_figures(text):
                context = replace(context, period=found[0])
                periods_seen.append(found[0])
        if block.name == "table":
            _table_figures(block, context, collector)
        elif block.name == "dt":
            continue  # read with its dd
        elif block.name == "dd":
            label = _text(block.find_previous_sibling("dt")) if block.find_previous_sibling("dt") else ""
            _pair_or_sentences(label, text, context, collector)
        else:
            match = _LABEL_VALUE.match(text) if block.name in ("li", "p") else None
            if match and _FIGURE_CELL.match(match["value"]):
                _pair_or_sentences(match["label"], match["value"], context, collector)
            elif not context.definitions:
                _sentence_figures(text, context, collector)
    if not collector.figures:
        raise ParseError(
            f"{SOURCE}: {source_url} ({title or 'untitled'!r}) has no request figures: no table, list "
            "or sentence with a labelled count was found. Expected a Ring law-enforcement requests "
            "report; if the layout changed, teach scrapers/transparency.py and run 'ringwatch reparse'.",
            url=source_url, expected="labelled request figures", snippet=snippet_of(html),
        )
    figures = tuple(collector.figures.values())
    if any(f.period is None for f in figures):
        raise ParseError(
            f"{SOURCE}: {source_url} ({title!r}) gives figures but no reporting period we can read "
            "(a year, a half such as H1 2021, or a date range).",
            url=source_url, expected="a reporting period",
        )
    warnings = collector.warnings + check_totals(figures, url=source_url)
    periods = tuple(dict.fromkeys(f.period for f in figures))
    return ReportPage(url=_canonical_url(soup, source_url), title=title, published_on=published, periods=periods,
                      figures=figures, warnings=tuple(warnings))


def check_totals(figures: tuple[RequestFigure, ...], *, url: str) -> list[QualityWarning]:
    """Where a page gives a whole and its parts, check that they add up.

    Received = full + partial + no response, per period, country and type; and a total
    ("all") = the sum of the kinds of legal demand (DEMAND_TYPES; preservation requests are
    counted apart, as Ring did in 2021), per period, country and outcome, when the page gives
    at least two of them. A range among the parts makes the sum a range that must hold the total.
    """
    exact = {(f.period, f.country, f.request_type, f.outcome): f.value
             for f in figures if f.value is not None}
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
    bounds: dict[tuple[Period, str, str, str], tuple[int, int]] = {
        (f.period, f.country, f.request_type, f.outcome): (f.low, f.high)
        for f in figures if f.value is None and f.low is not None and f.high is not None}
    outcomes = {(p, c, o) for (p, c, _t, o) in exact}
    for period, country, outcome in sorted(outcomes, key=lambda g: (g[0].start, g[1], g[2])):
        whole = exact.get((period, country, "all", outcome))
        if whole is None:
            continue
        keys = [k for k in (*exact, *bounds) if (k[0], k[1], k[3]) == (period, country, outcome)
                and k[2] in DEMAND_TYPES]
        if len({k[2] for k in keys}) < 2:
            continue
        low = sum(exact[k] if k in exact else bounds[k][0] for k in keys)
        high = sum(exact[k] if k in exact else bounds[k][1] for k in keys)
        if not low <= whole <= high:
            names = ", ".join(sorted(k[2] for k in keys))
            span = f"{low:,}" if low == high else f"{low:,}-{high:,}"
            warnings.append(_mismatch(url, f"{period.label} {country} all requests, {outcome}", whole,
                                      f"the sum of {names}", span))
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


def _blocks(main: Tag) -> Iterator[Tag]:
    """Headings, paragraphs, list items, definitions and tables, outermost only, in order."""
    for element in main.find_all(_BLOCKS):
        if element.find_parent(_CONTAINERS) is not None:
            continue
        yield element


def _heading_context(text: str, context: _Context) -> _Context:
    periods = find_periods(text)
    request_type = request_type_of(text)
    outcome = outcome_of(text)
    return _Context(
        definitions=bool(_DEFINITIONS.search(text)),
        period=periods[0] if periods else context.period,
        request_type=request_type if request_type != "all" else None,
        outcome=outcome if outcome not in (None, "received") or request_type is None else None,
    )


def _looks_like_figures(text: str) -> bool:
    return bool(request_type_of(text) or outcome_of(text)) and bool(_NUMBER_IN_TEXT.search(strip_dates(text)))


# -- figures ----------------------------------------------------------------------------------


def _figure(value_text: str) -> tuple[int | None, int | None, int | None] | None:
    m = _FIGURE_CELL.match(value_text)
    if not m:
        return None
    first = int(m[1].replace(",", ""))
    if m[2] is None:
        return first, None, None
    second = int(m[2].replace(",", ""))
    return None, min(first, second), max(first, second)


def _make(context: _Context, label: str, value: tuple[int | None, int | None, int | None], *,
          request_type: str | None = None, outcome: str | None = None, country: str | None = None,
          period: Period | None = None) -> RequestFigure | None:
    when = period or context.period
    if when is None:
        return None
    return RequestFigure(
        period=when,
        country=country or "US",
        request_type=request_type or context.request_type or "all",
        outcome=outcome or context.outcome or "received",
        value=value[0], low=value[1], high=value[2],
        label=label,
    )


def _pair_or_sentences(label: str, value_text: str, context: _Context, collector: _Collector) -> None:
    value = _figure(value_text)
    if value is None:
        _sentence_figures(f"{label} {value_text}", context, collector)
        return
    rtype, outcome, other = request_type_of(label), outcome_of(label), other_figure_of(label)
    if other:
        outcome, rtype = other, (rtype if rtype != "all" else None)
    elif rtype is None and outcome is None:
        rtype = slug(label)  # any other labelled type, kept under its own name
    if rtype == "all" and outcome == "received" and context.request_type:
        rtype = context.request_type
    figure = _make(context, label, value, request_type=rtype, outcome=outcome)
    if figure:
        collector.add(figure)


def _sentence_figures(text: str, context: _Context, collector: _Collector) -> None:
    """Figures in prose: a number whose neighbouring words name a type, outcome or figure.

    The words considered stop at the neighbouring numbers, so "a full response to 919, a
    partial response to 171" gives each number its own outcome. Percentages, years, dates
    and legal citations (18 U.S.C. § 2703) are never figures.
    """
    clean = strip_dates(text)
    for clause in re.split(r"(?<=[.;!?])\s+(?=[A-Z(])", clean):
        matches = list(_NUMBER_IN_TEXT.finditer(clause))
        for i, m in enumerate(matches):
            before = clause[matches[i - 1].end() if i else 0:m.start()]
            after = clause[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(clause)]
            if _LEGAL_CITATION_BEFORE.search(before):
                continue
            if m[2] is None and "," not in m[1] and 1900 <= int(m[1]) <= 2100:
                continue  # a year
            near_after = " ".join(after.split()[:6])
            near_before = " ".join(before.split()[-8:])
            other = other_figure_of(f"{near_before} {m[0]} {near_after}")
            outcome = outcome_of(near_before) or outcome_of(near_after)
            if outcome == "received" and not _RECEIVED_VERB.search(f"{near_before} {near_after}"):
                outcome = None
            if other:
                outcome = other
            # A type counts only right after the number ("1,045 subpoenas") unless an outcome
            # or a verb of receiving ties the number to the type named before it.
            rtype = request_type_of(" ".join(after.split()[:4]))
            if rtype is None and (outcome or _RECEIVED_VERB.search(near_before)):
                rtype = request_type_of(near_after) or request_type_of(near_before)
            if rtype is None and outcome is None:
                continue
            if outcome is None and _RECEIVED_VERB.search(near_before):
                outcome = "received"
            value = _figure(m[0])
            if value is None:
                continue
            figure = _make(context, " ".join(f"{near_before} {m[0]} {near_after}".split()), value,
                           request_type=rtype, outcome=outcome)
            if figure:
                collector.add(figure)


def _table_figures(table: Tag, context: _Context, collector: _Collector) -> None:
    rows = [[_text(cell) for cell in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
    rows = [r for r in rows if any(r)]
    if len(rows) < 2 or max(len(r) for r in rows) < 2:
        return
    header, body = rows[0], rows[1:]
    caption = _text(table.find("caption"))
    if caption:
        context = _heading_context(caption, context)
    col_axis = _axis([h for h in header[1:] if h])
    row_axis = "country" if re.search(r"country|countries|region", header[0], re.I) else _axis([r[0] for r in body])
    if col_axis == row_axis:
        row_axis = "type" if col_axis != "type" else "outcome"
    for row in body:
        for col_index, cell in enumerate(row[1:], start=1):
            value = _figure(cell)
            if value is None or col_index >= len(header):
                continue
            dims: dict[str, object] = {}
            for axis, label in ((row_axis, row[0]), (col_axis, header[col_index])):
                _assign(dims, axis, label)
            figure = _make(context, f"{row[0]} / {header[col_index]}", value,
                           request_type=dims.get("request_type"), outcome=dims.get("outcome"),  # type: ignore[arg-type]
                           country=dims.get("country"), period=dims.get("period"))  # type: ignore[arg-type]
            if figure:
                collector.add(figure)


def _axis(labels: list[str]) -> str:
    """What an axis of a table holds: types, outcomes, periods or countries (by majority)."""
    votes = {"type": 0, "outcome": 0, "period": 0, "country": 0}
    for label in labels:
        if find_periods(label):
            votes["period"] += 1
        if request_type_of(label) not in (None, "all"):
            votes["type"] += 1
        if outcome_of(label) not in (None, "received") or other_figure_of(label):
            votes["outcome"] += 1
        if country_of(label) not in (None, "ALL"):
            votes["country"] += 1
    best = max(votes, key=lambda k: votes[k])
    if votes[best] == 0:
        # Only generic labels ("Total", "Requests received"): a one-column figure table.
        return "outcome" if any(outcome_of(label) for label in labels) else "type"
    return best


def _assign(dims: dict[str, object], axis: str, label: str) -> None:
    if axis == "period":
        periods = find_periods(label)
        if periods:
            dims["period"] = periods[0]
    elif axis == "country":
        dims["country"] = country_of(label) or " ".join(label.split())
    elif axis == "outcome":
        other = other_figure_of(label)
        dims["outcome"] = other or outcome_of(label) or slug(label)
        if request_type_of(label) not in (None, "all"):
            dims.setdefault("request_type", request_type_of(label))
    else:
        dims["request_type"] = request_type_of(label) or slug(label)
        if outcome_of(label) not in (None, "received"):
            dims.setdefault("outcome", outcome_of(label))


def _describe(figure: RequestFigure) -> str:
    return f"{figure.period.label} {figure.country} {figure.request_type} {figure.outcome}"


def _show(figure: RequestFigure) -> str:
    return f"{figure.value:,}" if figure.value is not None else f"{figure.low:,}-{figure.high:,}"
