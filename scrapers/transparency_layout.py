"""Reading a transparency report the way a person does: each figure in its context.

A figure's own sentence or cell may not say what it counts ("Full response: 38"); the page's
structure does. The request type, outcome, period and country of a figure come from, in order
of precedence: its own words; the lead words of its list item, its row and column headers, its
definition term, the label beside it in a stat card, a `<strong>`/`<b>` lead-in of its
paragraph, the `<summary>` of its `<details>`, its table caption; the headings above it (h1-h6,
and a paragraph that is only a bold label), deeper ones first, when they name a type; a period
the page states before any heading gives one.

Three rules hold wherever a figure stands. A type with a count and no outcome word is a count of
requests received ("Preservation requests: 1,462."). A total that names no type ("Total",
"Total received", "Received", "Number of requests") counts the type in scope (a section, list
item, row, term or summary of one type), and counts every legal demand (`all`) only where no type
is in scope; a total that names legal demands is `all` by its own words. A heading, summary,
caption or term that names several types gives no single type to what it holds, but the labels
inside it still place their own figures.

Nothing is placed by default or by accident: a figure whose type is found nowhere is not placed,
and a figure the page gives twice with different values keeps neither (`figure_given_twice`). The
reader reports every number it places or explains by where it was written, and the ledger
(scrapers/transparency_ledger.py) turns each number of the page it did neither with into an
`unplaced_number` warning that quotes it. Footnotes (a `footnote`/`note` class, `<small>`, a
paragraph opening with a marker) are not counted; footnote markers after numbers
(`1,420<sup>2</sup>`, `1,420*`, `1,420¹`) are dropped; non-breaking and thin spaces between
digit groups are thousands separators; comments are not text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from bs4 import Tag
from bs4.element import NavigableString

from ringwatch.scrapers.records import PageLedger, Period, QualityWarning, RequestFigure
from ringwatch.scrapers.transparency_ledger import (
    Book,
    NumberEntry,
    NumberKey,
    Text,
    Written,
    account,
    gather,
    is_text,
    keys_in,
    numbers_in,
)
from ringwatch.scrapers.transparency_terms import (
    country_of,
    find_periods,
    is_total,
    other_figure_of,
    outcome_of,
    request_type_of,
    several_types,
    slug,
    strip_dates,
    types_named,
    unnamed_type_of,
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
# "Preservation requests:" just before a number, in a sentence holding several such pairs.
_LABEL_BEFORE = re.compile(r"(?:^|[;,]\s*)(?P<label>[^;,:]{2,80}?)\s*(?::|\s[–—])\s*$")
# Words whose full stop ends no sentence: "U.S.", "Non-U.S.", "No.", "approx.", "Dec.", "e.g.".
_ABBREVIATION = re.compile(
    r"(?:\b[A-Za-z]\.(?:[A-Za-z]\.)*|\b(?:no|nos|approx|inc|ltd|co|corp|dept|st|vs|jan|feb|mar|apr|jun|jul|aug|sep|sept|"
    r"oct|nov|dec|u\.s\.c|sec|art|fig|ca|cf)\.)$", re.I)
# ... unless the next word is one that starts sentences ("... outside the U.S. We responded ...").
_SENTENCE_START = re.compile(r"(?:We|Ring|The|This|These|That|Our|It|Its|They|In|Of|For|Overall|All)\b")
# A year-like number after words that say it is a year ("in 2021", "since 2019"): no figure,
# and no bound to the words around the figures next to it ("Legal demands received in 2021: 3,147").
_YEAR = re.compile(
    r"(?P<words>(?:\b(?:in|of|since|during|for|from|until|through|between|and|to|by|year|fiscal|calendar|early|"
    r"late|mid|before|after|H[12]|Q[1-4])|[-–—/(])\s*)(?P<year>(?:19|20)\d\d)(?![\w,.]?\d)(?!\w)", re.I)

# A label that says its value is a time, not a count ("Reporting period: 2020").
_WHEN = re.compile(r"\b(period|year|date|as of|updated|published|posted|covers|covering|time)\b", re.I)
_LEAD = re.compile(r"^\s*(?P<lead>[^:\d–—]{2,80}?)\s*(?::|\s[–—]\s|\.\s)")
_DEFINITIONS = re.compile(r"types of (legal )?requests|definitions|glossary|what (is|are) ", re.I)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_PSEUDO_HEADING = 7
_SECTIONING = ("section", "article", "details", "aside", "nav")
_PROSE = ("p", "blockquote", "figcaption", "address", "pre", "summary", "td", "th", "dd", "dt")
_BLOCKS = ("p", "div", "section", "article", "ul", "ol", "dl", "table", "details", "blockquote",
           "h1", "h2", "h3", "h4", "h5", "h6", "main", "header", "figure", "li")
_BLOCK_NAMES = frozenset(_BLOCKS)
_FOOTNOTE_CLASS = re.compile(r"foot\s*note|\bfn\b|(^|[-_\s])notes?($|[-_\s])|endnote|disclaimer", re.I)
_FOOTNOTE_START = re.compile(r"^\s*(?:[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]+|\[\d+\]|\(\d+\))\s*\S")
_SUPERSCRIPTS = str.maketrans("", "", "¹²³⁴⁵⁶⁷⁸⁹⁰")
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
    several: bool = False  # it names several types: none of them, nor one from outside, is in scope
    total: bool = False  # a total that names no type ("Total received"): `all` where no type is in scope


def frame_of(text: str) -> Frame:
    """The frame a heading, lead, term, summary or caption sets."""
    periods = find_periods(text)
    other = other_figure_of(text)
    country = country_of(text)
    return Frame(
        period=periods[0] if periods else None,
        request_type=request_type_of(text) or unnamed_type_of(text),
        outcome=other or outcome_of(text),
        country=country if country not in (None, "ALL") else None,
        definitions=True if _DEFINITIONS.search(text) else None,
        label=text,
        several=several_types(strip_dates(text)),
        total=is_total(text),
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
    total: bool = False
    several: bool = False  # several types are in scope: a bare total is none of them, nor `all`

    def under(self, frame: Frame) -> Context:
        return Context(
            period=frame.period or self.period,
            request_type=None if frame.several else frame.request_type or self.request_type,
            outcome=frame.outcome or self.outcome,
            country=frame.country or self.country,
            definitions=self.definitions if frame.definitions is None else frame.definitions,
            label=frame.label or self.label,
            total=frame.total or self.total,
            several=frame.several or (self.several and not frame.request_type),
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """One reading of a figure: the numbers it was read from and where they stand."""

    figure: RequestFigure
    keys: tuple[NumberKey, ...]
    where: str


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
    book: Book = field(default_factory=Book)
    claims: dict[tuple[Period, str, str, str], list[Claim]] = field(default_factory=dict)

    # -- context ---------------------------------------------------------------------------

    def path(self) -> str:
        """The headings in force, outermost first."""
        return " > ".join(frame.label for _level, frame in self.outline if frame.label)

    def saw(self, text: str, enclosing: tuple[Frame, ...] = ()) -> None:
        """Tell the ledger where the numbers of `text` stand (and which of them are no counts)."""
        if getattr(text, "numbers", ()):
            label = next((f.label for f in reversed(enclosing) if f.label and f.label not in text), "")
            self.book.saw(text, self.path(), label)

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
        self.saw(text)
        frame = frame_of(text)
        # A heading starts a section: it says whether the section defines or counts.
        self.outline.append((level, replace(frame, definitions=bool(frame.definitions))))
        if frame.period and frame.period not in self.periods_seen:
            self.periods_seen.append(frame.period)
        match = _LABEL_VALUE.match(text)
        if match and FIGURE_CELL.match(match["value"]):  # "<h3>Subpoenas: 1,045</h3>": a heading that is a figure
            self.pair(match["label"], match["value"], self.context(()), where=text, source=(text, *match.span("value")))

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
                if is_text(child) and node.name not in ("ul", "ol", "dl", "table", "tr", "tbody", "thead"):
                    text = gather([child])
                    if text:
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
            frame = Frame()
            if isinstance(summary, Tag):
                said = text_of(summary)
                self.saw(said, enclosing)
                frame = frame_of(said)
            mark = len(self.outline)
            for child in tag.children:
                if isinstance(child, NavigableString):
                    text = gather([child]) if is_text(child) else Text("")
                    if text:
                        self.prose(text, (*enclosing, frame))
                elif isinstance(child, Tag) and child is not summary and not is_footnote(child):
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
        elif (card := stat_card(tag)) is not None:
            self.card(tag, *card, enclosing)
        elif has_blocks(tag):
            mark = len(self.outline)
            yield self._walk(tag, enclosing)
            if name in _SECTIONING:
                del self.outline[mark:]
        else:
            self.prose_element(tag, enclosing)

    def _item(self, item: Tag, enclosing: tuple[Frame, ...]) -> _Steps:
        """A list item: its lead words frame its own sentences and any list nested in it."""
        if (card := stat_card(item)) is not None:
            self.card(item, *card, enclosing)
            return
        own = gather(_own_text(item))
        lead = lead_of(item, own)
        inner = (*enclosing, frame_of(lead)) if lead else enclosing
        if own and (not lead or own != lead):
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
                said = text_of(child)
                self.saw(said, enclosing)
                term = frame_of(said)
            elif term is not None:
                if has_blocks(child):
                    yield self._walk(child, (*enclosing, term))
                else:
                    self.prose(text_of(child), (*enclosing, term))
            else:
                self.prose_element(child, enclosing)

    def card(self, card: Tag, label: Text, figure: Text, heading: int | None, enclosing: tuple[Frame, ...]) -> None:
        """A stat card's figure, labelled by its card as a definition is by its term. A label written as
        a heading is the card's own in a grid of cards (or alone in its container); in the page's flow
        ("<div><h3>Search warrants</h3><p>1,612</p></div>" among paragraphs) it is also the page's
        heading, as HTML's outline has it, and goes on heading what follows the card."""
        if heading is not None and not among_cards(card):
            self.heading(heading, label)
        else:
            self.saw(label, enclosing)
        self.prose(figure, (*enclosing, frame_of(label)))

    def prose_element(self, tag: Tag, enclosing: tuple[Frame, ...]) -> None:
        text = text_of(tag)
        if not text:
            return
        lead = bold_lead(tag)
        self.prose(text, (*enclosing, frame_of(lead)) if lead else enclosing, lead=lead)

    # -- figures -----------------------------------------------------------------------------

    def prose(self, text: Text, enclosing: tuple[Frame, ...], *, lead: str = "") -> None:
        self.saw(text, enclosing)
        ctx = self.context(enclosing)
        if ctx.period is None:
            found = find_periods(text)
            if found and not looks_like_figures(text):
                self.fallback_period = found[0]
                self.periods_seen.append(found[0])
                ctx = self.context(enclosing)
        if FIGURE_CELL.match(text):  # a bare figure: its label is the structure around it
            label = ctx.label
            if not any(frame.label for frame in enclosing) and not (ctx.request_type or ctx.outcome or ctx.total):
                label = ""  # nothing but a heading that names no type above it ("Overview"): no count's name
            self.pair(label, text, ctx, where=text, source=(text, 0, len(text)))
            return
        rest = 0
        for pattern in (_LABEL_VALUE, _LABEL_FIGURE_FIRST):
            match = pattern.match(text)
            if match and FIGURE_CELL.match(match["value"]):
                self.pair(match["label"], match["value"], ctx, where=text, source=(text, *match.span("value")))
                if pattern is _LABEL_VALUE:
                    return
                rest = match.end("value")  # "...: 0–249, reported in ranges" or "...: 1,462, Emergency requests: 31"
                break
        if ctx.request_type is None:
            named = types_named(strip_dates(text))
            if len(named) == 1:  # a paragraph about one type: that type is its context
                ctx = replace(ctx, request_type=named.pop())
        # In a section of definitions, sentences hold no counts; one that reads as a count is
        # warned about, not loaded, and every other number is explained by where it stands.
        # The outcome of the structure around the text, without the text's own lead: "<b>Full
        # response</b>: 0<br><b>Total</b>: 0" leads with a label, which says nothing of the next one.
        outer = self.context(enclosing[:-1]).outcome if lead else ctx.outcome
        self.sentences(text, ctx, dry=ctx.definitions, start_at=rest, outer_outcome=outer)
        if ctx.definitions:
            self.book.explain(text, "a number in a section of definitions, where sentences hold no counts")

    def pair(self, label: str, value_text: str, ctx: Context, *, where: str, source: tuple[str, int, int]) -> None:
        value = figure_value(value_text)
        if value is None:
            return
        rtype, outcome, other = request_type_of(label), outcome_of(label), other_figure_of(label)
        country = country_of(label)
        if rtype is None and outcome is None and not other and _WHEN.search(label) and is_year(value_text.strip()):
            return  # "Reporting period: 2020", "Last updated: 2022": a year, not a count
        if several_types(label):  # "Subpoenas and search warrants: 1,675": none of them, nor the type in scope
            self.book.try_to_place(keys_in(*source), f"is labelled {label[:80]!r}, which counts several request "
                                                     "types together, so it is none of them")
            return
        if other:
            outcome, rtype = other, (rtype if rtype != "all" else None)
        elif rtype is None and outcome is None and country not in (None, "ALL"):
            pass  # "Germany: 4": a country's figure of the type in context
        elif rtype is None and outcome is None and label and not several_types(label):
            if only_a_period(label):  # "<dt>H1 2021</dt><dd>1,612</dd>": 1,612 of what is not said
                self.book.try_to_place(keys_in(*source), f"is labelled {label[:80]!r}, which names a period, "
                                                         "not a request type")
                return
            rtype = slug(label)  # any other labelled type, kept under its own name
        self.add(ctx, label or where, value, request_type=rtype, outcome=outcome, total=is_total(label),
                 country=country if country not in (None, "ALL") else None, where=where, source=source)

    def sentences(self, text: Text, ctx: Context, *, dry: bool = False, start_at: int = 0,
                  outer_outcome: str | None = None) -> None:
        """Figures in prose: a number whose neighbouring words name a type, outcome or figure.

        The words considered stop at the neighbouring numbers, so "a full response to 919, a
        partial response to 171" gives each number its own outcome; a label just before a number
        ("Preservation requests: 1,462. Emergency requests: 31.") is that number's label.
        Percentages, years, dates and legal citations (18 U.S.C. § 2703) are never figures. With
        `dry`, a number that reads as a figure is only reported to the ledger as not placed; numbers
        before `start_at` were read already. A labelled number whose label names a type or a total
        and no outcome is a count received, unless the structure around the text (`outer_outcome`,
        not the text's own lead) says otherwise.
        """
        blanked = _YEAR.sub(lambda m: m["words"] + " " * len(m["year"]), strip_dates(text))  # dates, years gone
        for start, end in _clauses(blanked):
            clause = blanked[start:end]
            matches = list(_NUMBER_IN_TEXT.finditer(clause))
            for i, m in enumerate(matches):
                if start + m.start() < start_at:
                    continue
                before = clause[matches[i - 1].end() if i else 0:m.start()]
                after = clause[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(clause)]
                if _LEGAL_CITATION_BEFORE.search(before):
                    continue
                following = _LABEL_BEFORE.search(after)
                if following and i + 1 < len(matches):  # "Total: 0 Full response: 0": the next number's label
                    after = after[:following.start("label")]
                # The words that speak of this number stop at the punctuation around it.
                near_after = " ".join(re.split(r"[;,]", after)[0].split()[:6])
                near_before = " ".join(re.split(r"[;,]", before)[-1].split()[-8:])
                other = other_figure_of(f"{near_before} {m[0]} {near_after}")
                outcome = outcome_of(near_before) or outcome_of(near_after)
                if outcome == "received" and not _RECEIVED_VERB.search(f"{near_before} {near_after}"):
                    outcome = None
                if other:
                    outcome = other
                # A type counts only right after the number ("1,045 subpoenas") unless an outcome,
                # a verb of receiving or a label ("Subpoenas: 1,045") ties the number to the type named before it.
                named_after = " ".join(after.split()[:4])
                rtype = request_type_of(named_after)
                if rtype is None and (outcome or _RECEIVED_VERB.search(near_before)):
                    rtype = request_type_of(near_after) or request_type_of(near_before)
                labelled = _LABEL_BEFORE.search(before)
                total, several = False, several_types(named_after)
                if labelled:
                    label = labelled["label"].strip(" *†‡")
                    rtype = rtype or request_type_of(label)
                    outcome = outcome or other_figure_of(label) or outcome_of(label)
                    total, several = is_total(label), several or several_types(label)
                    if outcome is None and (request_type_of(label) or total):
                        outcome = outer_outcome or "received"  # "Emergency requests: 31", "Total: 0"
                if several and rtype is None:  # "1,675 subpoenas and warrants": several types, so none of them
                    self.book.try_to_place(keys_in(text, start + m.start(), start + m.end()),
                                           "counts several request types together, so it is none of them")
                    continue
                year = m[2] is None and is_year(m[1])
                if year and not (rtype or outcome or total):
                    continue  # a year
                if rtype is None and outcome is None and not total:
                    continue
                if outcome is None and _RECEIVED_VERB.search(near_before):
                    outcome = "received"
                value = figure_value(m[0])
                if value is None:
                    continue
                source = (text, start + m.start(), start + m.end())
                if year:
                    self.book.try_to_place(keys_in(*source), "could be a year or a count (a count this size is "
                                                             "written 2,021); read as neither")
                    continue
                if dry:
                    self.book.try_to_place(keys_in(*source), "reads as a figure, but stands in a section of "
                                                             "definitions, where sentences hold no counts")
                    continue
                label = " ".join(text[start:end].split())
                self.add(ctx, label, value, request_type=rtype, outcome=outcome, total=total, where=label,
                         source=source)

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
            said = text_of(caption)
            self.saw(said, enclosing)
            enclosing = (*enclosing, frame_of(said))
        ctx = self.context(enclosing)
        # A row's own cells: those of a table nested in a cell are read in their own rows, once
        # (read again for every row around them, nested tables would cost the square of their depth).
        rows = [[(text_of(cell), cell.name == "th") for cell in tr.find_all(["th", "td"])
                 if cell.find_parent("tr") is tr and not is_footnote(cell)] for tr in table.find_all("tr")]
        rows = [r for r in rows if any(text for text, _ in r)]
        if not rows:
            return
        for row in rows:
            for text, _is_header in row:
                self.saw(text, enclosing)
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
                if "request_type" not in dims and any(several_types(x) for x in labels):
                    self.book.try_to_place(keys_in(text, 0, len(text)), f"is headed {label[:80]!r}, which counts "
                                                                       "several request types together")
                    continue
                self.add(ctx, label, value, request_type=dims.get("request_type"),  # type: ignore[arg-type]
                         outcome=dims.get("outcome"), country=dims.get("country"),  # type: ignore[arg-type]
                         period=dims.get("period"), total=any(is_total(x) for x in labels),  # type: ignore[arg-type]
                         where=label, source=(text, 0, len(text)))

    def add(self, ctx: Context, label: str, value: tuple[int | None, int | None, int | None], *,
            request_type: str | None = None, outcome: str | None = None, country: str | None = None,
            period: Period | None = None, total: bool = False, where: str, source: tuple[str, int, int]) -> None:
        keys = keys_in(*source)
        when = period or ctx.period
        if when is None:
            self.book.try_to_place(keys, "is read as a figure, but the page states no reporting period before it")
            return
        when = self.canonical(when)
        outcome = outcome or ctx.outcome
        rtype = request_type or ctx.request_type
        if rtype is None and outcome in ("users_notified", "accounts_affected"):
            rtype = "all"  # page-wide counts, unless the context names a type
        if rtype is None and (total or ctx.total) and not ctx.several:
            rtype = "all"  # a total where no type is in scope: every legal demand
        if rtype is None:
            self.book.try_to_place(keys, f"is read as a figure ({label[:80]!r}), but names no request type, and "
                                         "neither does anything around it")
            return
        figure = RequestFigure(period=when, country=country or ctx.country or "US", request_type=rtype,
                               outcome=outcome or "received", value=value[0], low=value[1], high=value[2],
                               label=label)
        key = (figure.period, figure.country, figure.request_type, figure.outcome)
        claims = self.claims.setdefault(key, [])
        path = self.path()
        claims.append(Claim(figure, tuple(keys), f"{where[:120]!r}" + (f" under {path}" if path else "")))
        if len({(c.figure.value, c.figure.low, c.figure.high) for c in claims}) == 1:
            self.figures.setdefault(key, claims[0].figure)
        else:
            self.figures.pop(key, None)  # given twice with different values: neither is kept

    # -- the ledger --------------------------------------------------------------------------

    def finish(self, main: Tag) -> tuple[PageLedger, list[NumberEntry]]:
        """Settle the figures given more than once, then account for every number of `main`:
        adds a `figure_given_twice` warning per figure the page gives with different values and an
        `unplaced_number` warning per number neither placed nor explained."""
        for claims in self.claims.values():
            first = claims[0].figure
            what = f"{first.period.label} {first.country} {first.request_type} {first.outcome}"
            values = list(dict.fromkeys(show((c.figure.value, c.figure.low, c.figure.high)) for c in claims))
            if len(values) == 1:
                for claim in claims:
                    self.book.place(list(claim.keys), what)
                continue
            readings = "; ".join(f"{show((c.figure.value, c.figure.low, c.figure.high))} in {c.where}" for c in claims)
            given = " and as ".join(values)
            for claim in claims:
                self.book.try_to_place(claim.keys, f"is read as {what}, which the page gives as {given}; neither "
                                                   "value was kept")
            self.warnings.append(QualityWarning(
                kind="figure_given_twice", subject=what[:200],
                detail=(f"{self.url}: {what} is given with different values: {readings}. Neither was loaded, since "
                        "nothing says which is right; if one of them was misread, teach "
                        "scrapers/transparency_layout.py this layout and run 'ringwatch reparse'."),
            ))
        ledger, unplaced, entries = account(list(written_numbers(main, self.book)), self.book, url=self.url)
        self.warnings.extend(unplaced)
        return ledger, entries


# -- text and structure ------------------------------------------------------------------------


def _clauses(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the sentences and semicolon clauses of `text` (a full stop after an abbreviation,
    as in "Non-U.S. requests", ends no sentence)."""
    start = 0
    for m in re.finditer(r"(?<=[.!?])\s+(?=[A-Z(])|;\s*", text):
        if _ABBREVIATION.search(text, max(0, m.start() - 16), m.start()) and not _SENTENCE_START.match(text, m.end()):
            continue
        yield start, m.start()
        start = m.end()
    yield start, len(text)


def clean(text: str) -> str:
    """White space collapsed; digit groups joined by no-break or thin spaces get commas;
    superscript footnote digits dropped."""
    return str(gather([text]))


def is_marker(tag: Tag) -> bool:
    """A footnote marker: a `<sup>` of at most three characters."""
    return tag.name == "sup" and len(tag.get_text(strip=True)) <= 3


def text_of(element: Tag | None) -> Text:
    """The element's text without footnote markers (`<sup>2</sup>` after a number) or comments,
    knowing where each of its numbers was written."""
    if element is None or is_marker(element):
        return Text("")
    parts: list[object] = []
    for piece in element.descendants:
        if isinstance(piece, NavigableString):
            if is_text(piece) and not _inside_marker(piece, element):
                parts.append(piece)
        elif isinstance(piece, Tag) and piece.name in ("br", "p", "li", "div", "td", "th", "dd", "dt"):
            parts.append(" ")
    return gather(parts)


def _inside_marker(piece: NavigableString, root: Tag) -> bool:
    for parent in piece.parents:
        if parent is root:
            return False
        if is_marker(parent):
            return True
    return False


def _own_text(item: Tag) -> Iterator[object]:
    """The text of an element outside the blocks nested in it, piece by piece."""
    for child in item.children:
        if isinstance(child, NavigableString):
            if is_text(child):
                yield child
        elif isinstance(child, Tag) and child.name not in _BLOCKS and not is_footnote(child) and not is_marker(child):
            yield text_of(child)


# A stat card's parts are small: a figure or a label, perhaps wrapped once or twice. A part of more
# nodes or words is not one, and is not read whole to find that out (a page's every wrapper is asked).
_CARD_PART_NODES = 12
_CARD_LABEL_CHARS = 80


def among_cards(tag: Tag) -> bool:
    """Whether a card stands in a grid of cards, or alone in its container: not in the page's flow."""
    neighbours = [sibling for sibling in (tag.find_previous_sibling(True), tag.find_next_sibling(True))
                  if isinstance(sibling, Tag)]
    return not neighbours or any(stat_card(sibling) is not None for sibling in neighbours)


def stat_card(tag: Tag) -> tuple[Text, Text, int | None] | None:
    """(label, figure, the label's heading level if it is a heading) of a stat card: a block holding
    nothing but a bare figure and a label without digits, each in an element of its own, either
    first, beside perhaps an icon or a line break
    ("<div><p>1,612</p><p>Search warrants</p></div>", "<li><h3>204</h3><span>Subpoenas</span></li>").
    Anything else in it (text of its own, a third part with words, a label with a number) and it is
    no card: the rest of the reader takes it as it would have."""
    if not has_blocks(tag):
        return None  # "<div><b>1,612</b> Search warrants</div>" is a sentence, read as prose
    parts: list[Text] = []
    elements: list[Tag] = []
    for child in tag.children:
        if isinstance(child, NavigableString):
            if is_text(child) and str(child).strip():
                return None
            continue
        if not isinstance(child, Tag) or child.name in ("br", "hr", "img", "svg", "i", "picture"):
            continue
        text = _small_text(child)
        if text is None:
            return None
        if text:
            parts.append(text)
            elements.append(child)
            if len(parts) > 2:
                return None
    if len(parts) != 2:
        return None
    figures = [bool(FIGURE_CELL.match(part)) for part in parts]
    if figures.count(True) != 1:
        return None
    at = 1 if figures[0] else 0
    label, figure = parts[at], parts[1 - at]
    if re.search(r"\d", label) or len(label) > _CARD_LABEL_CHARS:
        return None
    return label, figure, _HEADINGS.get(elements[at].name)


def _small_text(part: Tag) -> Text | None:
    """The text of a card's part, or None when the part is too large to be one."""
    if part.name in ("table", "ul", "ol", "dl", "details", "section", "article") or is_footnote(part):
        return None
    for count, _node in enumerate(part.descendants):
        if count >= _CARD_PART_NODES:
            return None
    return text_of(part)


# Words around a period in a heading that say no more than the period does ("Requests in 2020").
_PERIOD_WORDS = re.compile(r"\b(?:requests?|demands?|in|for|during|from|of|the|reporting|period|calendar|year|"
                           r"half|first|second|(?:19|20)\d\d)\b|[\W_]+", re.I)


def only_a_period(label: str) -> bool:
    """Whether a label names a reporting period and nothing else: no type of its own."""
    return bool(find_periods(label)) and not _PERIOD_WORDS.sub("", strip_dates(label))


def has_blocks(tag: Tag) -> bool:
    """Whether any element inside `tag` is a block. Asked of every element the reader meets, so it
    stops at the first block and builds nothing (bs4's find() builds a name filter on every call,
    which was most of the time a long page took)."""
    return any(isinstance(node, Tag) and node.name in _BLOCK_NAMES for node in tag.descendants)


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


def written_numbers(main: Tag, book: Book) -> Iterator[Written]:
    """Every number in the text of `main`, in document order, with the headings above it (for one
    the reader never saw) and whether it stands in a footnote or is a footnote marker."""
    outline: list[tuple[int, Tag]] = []
    cache: dict[int, str | None] = {}
    for node in main.descendants:
        if isinstance(node, Tag):
            if node.name in _HEADINGS:
                while outline and outline[-1][0] >= _HEADINGS[node.name]:
                    outline.pop()
                outline.append((_HEADINGS[node.name], node))
            continue
        if not is_text(node):
            continue
        spans = numbers_in(str(node))
        if not spans:
            continue
        footnote = _footnote_of(node, main, cache)
        for start, end in spans:
            key = (id(node), start)
            path = "" if key in book.sightings else " > ".join(
                str(text_of(tag)) for _level, tag in outline)
            yield Written(key, str(node)[start:end], str(node), start, path, footnote)


def _footnote_of(node: NavigableString, main: Tag, cache: dict[int, str | None]) -> str | None:
    """Why a text node's place makes its numbers no counts: inside a footnote or a footnote marker."""
    chain: list[Tag] = []
    found: str | None = None
    for parent in node.parents:
        if parent is main:
            break
        if id(parent) in cache:
            found = cache[id(parent)]
            break
        chain.append(parent)
    for parent in reversed(chain):
        if found is None:
            if is_marker(parent):
                found = "a footnote marker"
            elif is_footnote(parent):
                found = "a number in a footnote"
        cache[id(parent)] = found
    return found


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


def is_year(digits: str) -> bool:
    """Four digits, no separator, 1900-2100: a year, or a count of that size written as no count is."""
    return len(digits) == 4 and digits.isdigit() and 1900 <= int(digits) <= 2100


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
        if request_type_of(label) not in (None, "all") or unnamed_type_of(label):
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
        if request_type_of(label) is not None:  # "Legal demands received": `all` by its words
            dims.setdefault("request_type", request_type_of(label))
    else:
        rtype = request_type_of(label)
        if rtype is not None:
            dims["request_type"] = rtype
        elif outcome_of(label) is None and not several_types(label):
            dims["request_type"] = slug(label)
        if outcome_of(label) not in (None, "received"):
            dims.setdefault("outcome", outcome_of(label))
