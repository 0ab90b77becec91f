"""Reading a transparency report the way a person does: each figure in its context.

A figure's own sentence or cell may not say what it counts ("Full response: 38"); the page's
structure does. The request type, outcome, period and country of a figure come from, in order
of precedence: its own words; the lead words of its list item, its row and column headers, its
definition term, a `<strong>`/`<b>` lead-in of its paragraph, the `<summary>` of its
`<details>`, its table caption; the headings above it (h1-h6, and a paragraph that is only a
bold label), deeper ones first; a period the page states before any heading gives one. A
figure whose type is found nowhere is not placed: it becomes an `unplaced_figure` warning that
quotes it. Footnotes (a `footnote`/`note` class, `<small>`, a paragraph opening with a marker)
are not counted; footnote markers after numbers (`1,420<sup>2</sup>`, `1,420*`, `1,420¹`) are
dropped; non-breaking and thin spaces between digit groups are thousands separators.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from bs4 import Tag
from bs4.element import NavigableString

from ringwatch.scrapers.records import Period, QualityWarning, RequestFigure
from ringwatch.scrapers.transparency_terms import (
    country_of,
    find_periods,
    other_figure_of,
    outcome_of,
    request_type_of,
    slug,
    strip_dates,
    types_named,
)

_NUMBER = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+"
_RANGE_DASH = r"(?:-|–|—|‒|−|to)"
FIGURE_CELL = re.compile(
    rf"^\s*(?:approx(?:imately|\.)?|about|~)?\s*({_NUMBER})(?:\s*{_RANGE_DASH}\s*({_NUMBER}))?\s*[*†‡]*\s*(?:\[\d+\])?\s*$",
    re.I)
_NUMBER_IN_TEXT = re.compile(
    rf"(?<![\w.$§/])({_NUMBER})(?:\s*(?:-|–|—|‒|−)\s*({_NUMBER}))?(?![\w%/])(?!\s*(?:%|percent|per cent|\(|u\.s\.c))",
    re.I)
_LEGAL_CITATION_BEFORE = re.compile(r"(§|section|sec\.|title|u\.s\.c\.?|chapter|rule|no\.)\s*$", re.I)
_RECEIVED_VERB = re.compile(r"\b(received|receive|receives|got|were served|was served)\b", re.I)
_LABEL_VALUE = re.compile(r"^\s*(?P<label>[^:]{2,120}?)\s*(?::|\s[–—]\s)\s*(?P<value>[^:]+?)\s*\.?\s*$")
# "National security requests: 0–249, reported in ranges": a labelled figure, then words about it.
_LABEL_FIGURE_FIRST = re.compile(
    rf"^\s*(?P<label>[^:\d]{{2,120}}?)\s*(?::|\s[–—]\s)\s*"
    rf"(?P<value>(?:{_NUMBER})(?!,?\d)(?:\s*{_RANGE_DASH}\s*(?:{_NUMBER})(?!,?\d))?)"
    r"\s*[,;(]")
_LEAD = re.compile(r"^\s*(?P<lead>[^:\d–—]{2,80}?)\s*(?::|\s[–—]\s|\.\s)")
_DEFINITIONS = re.compile(r"types of (legal )?requests|definitions|glossary|what (is|are) ", re.I)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_PSEUDO_HEADING = 7
_SECTIONING = ("section", "article", "details", "aside", "nav")
_PROSE = ("p", "blockquote", "figcaption", "address", "pre", "summary", "td", "th", "dd", "dt")
_BLOCKS = ("p", "div", "section", "article", "ul", "ol", "dl", "table", "details", "blockquote",
           "h1", "h2", "h3", "h4", "h5", "h6", "main", "header", "figure", "li")
_FOOTNOTE_CLASS = re.compile(r"foot\s*note|\bfn\b|(^|[-_\s])notes?($|[-_\s])|endnote|disclaimer", re.I)
_FOOTNOTE_START = re.compile(r"^\s*(?:[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]+|\[\d+\]|\(\d+\))\s*\S")
_SUPERSCRIPTS = str.maketrans("", "", "¹²³⁴⁵⁶⁷⁸⁹⁰")
_GROUP_SPACE = re.compile(r"(?<=\d)[\u00a0\u202f\u2009\u2007](?=\d{3}(?!\d))")
_SPACE = re.compile(r"\s+")
# A step of the walk: a generator that yields the steps for the structure nested in what it
# reads; PageReader.walk runs them from a list, so nesting never deepens Python's stack.
_Steps: TypeAlias = Iterator["_Steps"]


@dataclass(frozen=True, slots=True)
class Frame:
    """What one piece of structure says about the figures inside or below it (None: nothing)."""

    period: Period | None = None
    request_type: str | None = None
    outcome: str | None = None
    country: str | None = None
    definitions: bool | None = None
    label: str = ""  # its words, for a bare figure under it ("Received" / "1,101")


def frame_of(text: str) -> Frame:
    """The frame a heading, lead, term, summary or caption sets."""
    periods = find_periods(text)
    other = other_figure_of(text)
    country = country_of(text)
    return Frame(
        period=periods[0] if periods else None,
        request_type=request_type_of(text),
        outcome=other or outcome_of(text),
        country=country if country not in (None, "ALL") else None,
        definitions=True if _DEFINITIONS.search(text) else None,
        label=text,
    )


@dataclass(frozen=True, slots=True)
class Context:
    """The frames in force, folded: later (inner, deeper) frames win field by field."""

    period: Period | None = None
    request_type: str | None = None
    outcome: str | None = None
    country: str | None = None
    definitions: bool = False
    label: str = ""

    def under(self, frame: Frame) -> Context:
        return Context(
            period=frame.period or self.period,
            request_type=frame.request_type or self.request_type,
            outcome=frame.outcome or self.outcome,
            country=frame.country or self.country,
            definitions=self.definitions if frame.definitions is None else frame.definitions,
            label=frame.label or self.label,
        )


@dataclass
class PageReader:
    """Walks a page in document order, keeping the outline of headings, and collects figures."""

    url: str
    page: Frame = field(default_factory=Frame)
    outline: list[tuple[int, Frame]] = field(default_factory=list)
    fallback_period: Period | None = None
    figures: dict[tuple[Period, str, str, str], RequestFigure] = field(default_factory=dict)
    warnings: list[QualityWarning] = field(default_factory=list)
    periods_seen: list[Period] = field(default_factory=list)

    # -- context ---------------------------------------------------------------------------

    def context(self, enclosing: tuple[Frame, ...]) -> Context:
        ctx = Context(period=self.fallback_period).under(self.page)
        for _level, frame in self.outline:
            ctx = ctx.under(frame)
        for frame in enclosing:
            ctx = ctx.under(frame)
        return ctx

    def heading(self, level: int, text: str) -> None:
        while self.outline and self.outline[-1][0] >= level:
            self.outline.pop()
        frame = frame_of(text)
        # A heading starts a section: it says whether the section defines or counts.
        self.outline.append((level, replace(frame, definitions=bool(frame.definitions))))
        if frame.period and frame.period not in self.periods_seen:
            self.periods_seen.append(frame.period)

    # -- walking ---------------------------------------------------------------------------

    def walk(self, node: Tag, enclosing: tuple[Frame, ...] = ()) -> None:
        """Read `node` in document order. The nested structure is walked from an explicit stack of
        steps (each resumes after the steps it yielded), not by recursion: a deeply nested page
        must end in figures or a ParseError, never in RecursionError."""
        stack: list[_Steps] = [self._walk(node, enclosing)]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
            else:
                stack.append(step)

    def _walk(self, node: Tag, enclosing: tuple[Frame, ...]) -> _Steps:
        for child in node.children:
            if isinstance(child, NavigableString):
                text = clean(str(child))
                if text and node.name not in ("ul", "ol", "dl", "table", "tr", "tbody", "thead"):
                    self.prose(text, enclosing)
                continue
            if not isinstance(child, Tag) or is_footnote(child):
                continue
            yield self._element(child, enclosing)

    def _element(self, tag: Tag, enclosing: tuple[Frame, ...]) -> _Steps:
        name = tag.name
        if name in _HEADINGS:
            self.heading(_HEADINGS[name], text_of(tag))
        elif name == "details":
            summary = tag.find("summary")
            frame = frame_of(text_of(summary)) if isinstance(summary, Tag) else Frame()
            mark = len(self.outline)
            for child in tag.children:
                if isinstance(child, Tag) and child is not summary and not is_footnote(child):
                    yield self._element(child, (*enclosing, frame))
            del self.outline[mark:]
        elif name == "table":
            self.table(tag, enclosing)
        elif name == "dl":
            yield self._definition_list(tag, enclosing)
        elif name in ("ul", "ol"):
            for item in tag.find_all("li", recursive=False):
                if not is_footnote(item):
                    yield self._item(item, enclosing)
        elif name == "li":
            yield self._item(tag, enclosing)
        elif is_pseudo_heading(tag):
            self.heading(_PSEUDO_HEADING, text_of(tag))
        elif has_blocks(tag):
            mark = len(self.outline)
            yield self._walk(tag, enclosing)
            if name in _SECTIONING:
                del self.outline[mark:]
        else:
            self.prose_element(tag, enclosing)

    def _item(self, item: Tag, enclosing: tuple[Frame, ...]) -> _Steps:
        """A list item: its lead words frame its own sentences and any list nested in it."""
        own = clean(" ".join(_own_text(item)))
        lead = lead_of(item, own)
        inner = (*enclosing, frame_of(lead)) if lead else enclosing
        if own and (not lead or clean(own) != lead):
            self.prose(own, inner if lead else enclosing, lead=lead)
        for child in item.children:
            if isinstance(child, Tag) and child.name in _BLOCKS and not is_footnote(child):
                yield self._element(child, inner)

    def _definition_list(self, dl: Tag, enclosing: tuple[Frame, ...]) -> _Steps:
        term: Frame | None = None
        for child in dl.find_all(["dt", "dd"]):
            if child.find_parent("dl") is not dl:
                continue
            if child.name == "dt":
                term = frame_of(text_of(child))
            elif term is not None:
                if has_blocks(child):
                    yield self._walk(child, (*enclosing, term))
                else:
                    self.prose(text_of(child), (*enclosing, term))
            else:
                self.prose_element(child, enclosing)

    def prose_element(self, tag: Tag, enclosing: tuple[Frame, ...]) -> None:
        text = text_of(tag)
        if not text:
            return
        lead = bold_lead(tag)
        self.prose(text, (*enclosing, frame_of(lead)) if lead else enclosing, lead=lead)

    # -- figures -----------------------------------------------------------------------------

    def prose(self, text: str, enclosing: tuple[Frame, ...], *, lead: str = "") -> None:
        ctx = self.context(enclosing)
        if ctx.period is None:
            found = find_periods(text)
            if found and not looks_like_figures(text):
                self.fallback_period = found[0]
                self.periods_seen.append(found[0])
                ctx = self.context(enclosing)
        if FIGURE_CELL.match(text):  # a bare figure: its label is the structure around it
            self.pair(ctx.label, text, ctx, where=text)
            return
        for pattern in (_LABEL_VALUE, _LABEL_FIGURE_FIRST):
            match = pattern.match(text)
            if match and FIGURE_CELL.match(match["value"]):
                self.pair(match["label"], match["value"], ctx, where=text)
                return
        if ctx.definitions:
            return
        if ctx.request_type is None:
            named = types_named(strip_dates(text))
            if len(named) == 1:  # a paragraph about one type: that type is its context
                ctx = replace(ctx, request_type=named.pop())
        self.sentences(text, ctx)

    def pair(self, label: str, value_text: str, ctx: Context, *, where: str) -> None:
        value = figure_value(value_text)
        if value is None:
            return
        rtype, outcome, other = request_type_of(label), outcome_of(label), other_figure_of(label)
        if "all" in types_named(label) and re.search(r"\binclud", label, re.I):
            rtype = "all"  # "All requests, including emergency requests": a total that says what it holds
        country = country_of(label)
        if other:
            outcome, rtype = other, (rtype if rtype != "all" else None)
        elif rtype is None and outcome is None and country not in (None, "ALL"):
            pass  # "Germany: 4": a country's figure of the type in context
        elif rtype is None and outcome is None and label:
            rtype = slug(label)  # any other labelled type, kept under its own name
        if rtype == "all" and outcome == "received" and ctx.request_type:
            rtype = ctx.request_type
        self.add(ctx, label or where, value, request_type=rtype, outcome=outcome,
                 country=country if country not in (None, "ALL") else None, where=where)

    def sentences(self, text: str, ctx: Context) -> None:
        """Figures in prose: a number whose neighbouring words name a type, outcome or figure.

        The words considered stop at the neighbouring numbers, so "a full response to 919, a
        partial response to 171" gives each number its own outcome. Percentages, years, dates
        and legal citations (18 U.S.C. § 2703) are never figures.
        """
        blanked = strip_dates(text)  # same length as text: dates become spaces
        for start, end in _clauses(blanked):
            clause = blanked[start:end]
            matches = list(_NUMBER_IN_TEXT.finditer(clause))
            for i, m in enumerate(matches):
                before = clause[matches[i - 1].end() if i else 0:m.start()]
                after = clause[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(clause)]
                if _LEGAL_CITATION_BEFORE.search(before):
                    continue
                if m[2] is None and len(m[1]) == 4 and 1900 <= int(m[1]) <= 2100:
                    continue  # a year
                # The words that speak of this number stop at the punctuation around it.
                near_after = " ".join(re.split(r"[;,]", after)[0].split()[:6])
                near_before = " ".join(re.split(r"[;,]", before)[-1].split()[-8:])
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
                value = figure_value(m[0])
                if value is None:
                    continue
                label = " ".join(text[start:end].split())
                self.add(ctx, label, value, request_type=rtype, outcome=outcome, where=label)

    def canonical(self, period: Period) -> Period:
        """One Period per span of days on a page, labelled as first written ("H2 2022" and a
        caption's "July–December 2022" are one period)."""
        for seen in self.periods_seen:
            if (seen.start, seen.end) == (period.start, period.end):
                return seen
        self.periods_seen.append(period)
        return period

    def table(self, table: Tag, enclosing: tuple[Frame, ...]) -> None:
        caption = table.find("caption")
        if isinstance(caption, Tag):
            enclosing = (*enclosing, frame_of(text_of(caption)))
        ctx = self.context(enclosing)
        # A row's own cells: those of a table nested in a cell are read in their own rows, once
        # (read again for every row around them, nested tables would cost the square of their depth).
        rows = [[(text_of(cell), cell.name == "th") for cell in tr.find_all(["th", "td"])
                 if cell.find_parent("tr") is tr and not is_footnote(cell)] for tr in table.find_all("tr")]
        rows = [r for r in rows if any(text for text, _ in r)]
        if not rows:
            return
        first = rows[0]
        header_row = all(is_header or not FIGURE_CELL.match(text) for text, is_header in first) and len(rows) > 1
        header = [text for text, _ in first] if header_row else []
        body = rows[1:] if header_row else rows
        label_column = all(not FIGURE_CELL.match(row[0][0]) for row in body if row)
        col_labels = header[1:] if label_column else header
        col_axis = axis([h for h in col_labels if h]) if col_labels else None
        row_axis = None
        if label_column:
            corner = header[0] if header else ""
            row_axis = "country" if re.search(r"country|countries|region", corner, re.I) else axis(
                [r[0][0] for r in body if r])
            if col_axis == row_axis:
                row_axis = "type" if col_axis != "type" else "outcome"
        for row in body:
            cells = row[1:] if label_column else row
            for index, (text, _is_header) in enumerate(cells):
                value = figure_value(text)
                if value is None:
                    continue
                dims: dict[str, object] = {}
                labels: list[str] = []
                if label_column and row_axis:
                    assign(dims, row_axis, row[0][0])
                    labels.append(row[0][0])
                if col_axis and index < len(col_labels):
                    assign(dims, col_axis, col_labels[index])
                    labels.append(col_labels[index])
                label = " / ".join(labels) or text
                self.add(ctx, label, value, request_type=dims.get("request_type"),  # type: ignore[arg-type]
                         outcome=dims.get("outcome"), country=dims.get("country"),  # type: ignore[arg-type]
                         period=dims.get("period"), where=label)  # type: ignore[arg-type]

    def add(self, ctx: Context, label: str, value: tuple[int | None, int | None, int | None], *,
            request_type: str | None = None, outcome: str | None = None, country: str | None = None,
            period: Period | None = None, where: str) -> None:
        when = period or ctx.period
        if when is None:
            return
        when = self.canonical(when)
        outcome = outcome or ctx.outcome
        rtype = request_type or ctx.request_type
        if rtype is None and outcome in ("users_notified", "accounts_affected"):
            rtype = "all"  # page-wide counts, unless the context names a type
        if rtype is None:
            self.warnings.append(QualityWarning(
                kind="unplaced_figure", subject=f"{when.label}: {label}"[:200],
                detail=(f"{self.url}: the figure {show(value)} in {where[:200]!r} names no request type, and "
                        "neither does anything around it; it was not loaded. If the layout is new, teach "
                        "scrapers/transparency_layout.py and run 'ringwatch reparse'."),
            ))
            return
        figure = RequestFigure(period=when, country=country or ctx.country or "US", request_type=rtype,
                               outcome=outcome or "received", value=value[0], low=value[1], high=value[2],
                               label=label)
        key = (figure.period, figure.country, figure.request_type, figure.outcome)
        known = self.figures.get(key)
        if known is None:
            self.figures[key] = figure
        elif (known.value, known.low, known.high) != (figure.value, figure.low, figure.high):
            what = f"{figure.period.label} {figure.country} {figure.request_type} {figure.outcome}"
            self.warnings.append(QualityWarning(
                kind="conflicting_figure", subject=what,
                detail=(f"{self.url}: {what} is given as {show((known.value, known.low, known.high))} "
                        f"({known.label!r}) and as {show(value)} ({figure.label!r}); kept the first."),
            ))


# -- text and structure ------------------------------------------------------------------------


def _clauses(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the sentences and semicolon clauses of `text`."""
    start = 0
    for m in re.finditer(r"(?<=[.!?])\s+(?=[A-Z(])|;\s*", text):
        yield start, m.start()
        start = m.end()
    yield start, len(text)


def clean(text: str) -> str:
    """White space collapsed; digit groups joined by no-break or thin spaces get commas;
    superscript footnote digits dropped."""
    text = _GROUP_SPACE.sub(",", text.translate(_SUPERSCRIPTS))
    return _SPACE.sub(" ", text).strip()


def is_marker(tag: Tag) -> bool:
    """A footnote marker: a `<sup>` of at most three characters."""
    return tag.name == "sup" and len(tag.get_text(strip=True)) <= 3


def text_of(element: Tag | None) -> str:
    """The element's text without footnote markers (`<sup>2</sup>` after a number)."""
    if element is None or is_marker(element):
        return ""
    parts: list[str] = []
    for piece in element.descendants:
        if isinstance(piece, NavigableString) and not _inside_marker(piece, element):
            parts.append(str(piece))
        elif isinstance(piece, Tag) and piece.name in ("br", "p", "li", "div", "td", "th", "dd", "dt"):
            parts.append(" ")
    return clean(" ".join(parts))


def _inside_marker(piece: NavigableString, root: Tag) -> bool:
    for parent in piece.parents:
        if parent is root:
            return False
        if is_marker(parent):
            return True
    return False


def _own_text(item: Tag) -> Iterator[str]:
    """The text of an element outside the blocks nested in it."""
    for child in item.children:
        if isinstance(child, NavigableString):
            yield str(child)
        elif isinstance(child, Tag) and child.name not in _BLOCKS and not is_footnote(child) and not is_marker(child):
            yield text_of(child)


def has_blocks(tag: Tag) -> bool:
    return tag.find(_BLOCKS) is not None


def bold_lead(tag: Tag) -> str:
    """The words of a `<strong>`/`<b>` that opens the element, when they are words, not a figure."""
    for child in tag.children:
        if isinstance(child, NavigableString):
            if str(child).strip():
                return ""
            continue
        if isinstance(child, Tag) and child.name in ("strong", "b"):
            words = text_of(child).strip(" :.—–-")
            return words if words and not re.search(r"\d", words) else ""
        return ""
    return ""


def lead_of(item: Tag, own: str) -> str:
    """A list item's lead words: a bold lead-in, the words before its colon or dash, or all of
    its own text when it holds no number ("Outcomes", above a nested list)."""
    bold = bold_lead(item)
    if bold:
        return bold
    if own and not re.search(r"\d", own):
        return own.strip(" :")
    m = _LEAD.match(own)
    return m["lead"].strip() if m else ""


def is_pseudo_heading(tag: Tag) -> bool:
    """A paragraph that is only a short bold label acts as a heading ("<p><b>Subpoenas</b></p>")."""
    if tag.name not in ("p", "div"):
        return False
    lead = bold_lead(tag)  # first: it is cheap, and most blocks have none
    if not lead or _longer_than(tag, 80):
        return False
    text = text_of(tag)
    return lead == text.strip(" :.—–-") and len(text) <= 80


def _longer_than(element: Tag, limit: int) -> bool:
    """Whether text_of(element) is surely longer than `limit`, reading only as much of it as that
    takes: the blocks around a large one are asked too, and must not each read it whole."""
    visible = 0
    for piece in element.descendants:
        if isinstance(piece, NavigableString) and not _inside_marker(piece, element):
            visible += sum(map(len, str(piece).translate(_SUPERSCRIPTS).split()))
            if visible > limit:
                return True
    return False


def is_footnote(tag: Tag) -> bool:
    if tag.name in ("small", "aside", "footer", "nav", "script", "style", "noscript", "form", "iframe", "svg"):
        return True
    classes: object = tag.get("class") or []
    marks = " ".join([*(map(str, classes) if isinstance(classes, list) else [str(classes)]),
                      str(tag.get("id") or ""), str(tag.get("role") or "")])
    if _FOOTNOTE_CLASS.search(marks) or "doc-footnote" in marks or "doc-endnote" in marks:
        return True
    if tag.name in ("p", "li", "div"):
        first = next((c for c in tag.children if not (isinstance(c, NavigableString) and not str(c).strip())), None)
        if isinstance(first, Tag) and first.name == "sup":
            return True
        if isinstance(first, NavigableString) and _FOOTNOTE_START.match(str(first)):
            return True
    return False


def looks_like_figures(text: str) -> bool:
    return bool(request_type_of(text) or outcome_of(text)) and bool(_NUMBER_IN_TEXT.search(strip_dates(text)))


# -- figures and tables ---------------------------------------------------------------------------


# No count of requests has more digits; a longer run is a page ringwatch must not guess at
# (and int() of thousands of digits raises ValueError).
MAX_FIGURE_DIGITS = 12


class FigureTooLong(ValueError):
    """A figure's digits run past MAX_FIGURE_DIGITS; parse_report_page turns it into a
    ParseError naming the page."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def count_of(digits: str) -> int:
    plain = digits.replace(",", "")
    if len(plain) > MAX_FIGURE_DIGITS:
        raise FigureTooLong(digits)
    return int(plain)


def figure_value(value_text: str) -> tuple[int | None, int | None, int | None] | None:
    m = FIGURE_CELL.match(clean(value_text))
    if not m:
        return None
    first = count_of(m[1])
    if m[2] is None:
        return first, None, None
    second = count_of(m[2])
    return None, min(first, second), max(first, second)


def show(value: tuple[int | None, int | None, int | None]) -> str:
    exact, low, high = value
    return f"{exact:,}" if exact is not None else f"{low:,}-{high:,}"


def axis(labels: list[str]) -> str:
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


def assign(dims: dict[str, object], axis_name: str, label: str) -> None:
    if axis_name == "period":
        periods = find_periods(label)
        if periods:
            dims["period"] = periods[0]
    elif axis_name == "country":
        dims["country"] = country_of(label) or " ".join(label.split())  # ALL for a total row
    elif axis_name == "outcome":
        other = other_figure_of(label)
        dims["outcome"] = other or outcome_of(label) or slug(label)
        if request_type_of(label) not in (None, "all"):
            dims.setdefault("request_type", request_type_of(label))
    else:
        rtype = request_type_of(label)
        if rtype is not None:
            dims["request_type"] = rtype
        elif outcome_of(label) is None:
            dims["request_type"] = slug(label)
        if outcome_of(label) not in (None, "received"):
            dims.setdefault("outcome", outcome_of(label))
