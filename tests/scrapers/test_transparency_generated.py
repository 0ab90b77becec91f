"""Report pages from a generator, not from hand: one set of figures, rendered in every layout family.

A hand-written fixture tests the layout its author thought of; the next page Ring (or its next web
team) publishes is written differently. Here a hypothesis strategy draws one set of figures (one to
three periods; subpoenas, search warrants, court orders, a national-security range, emergency,
preservation and non-U.S. requests with a per-country table, the legal-demands total, users
notified; outcomes received / full / partial / no response; in a second test also "Other legal
process") and renders it as a report page in one layout family: sentences, list items with sentences
or `Label: value` pairs, tables either way round (with or without a Total column, a percentage
column), one-row tables, definition lists, a section per type, `<details>` blocks (one whose summary
names several types), bold lead-ins, stat cards (a dashboard's grid of cards, or a list of them, the
number and its label in elements of their own), periods as table columns, and pages that combine several
families; periods as headings, sections, `<details>`, the title or a "Reporting period:" line.
Every page also varies what any web team varies: label wording within Ring's vocabulary
(scrapers/transparency_terms.py), the order of types and outcomes, `<strong>`/`<b>`/`<em>`/`<span>`
wrappers around labels and numbers, lines broken by `<br>`, `<dt>`/`<dd>` pairs wrapped in `<div>`,
footnote markers after numbers (`<sup>1</sup>`, linked or not, `*`, `¹`) with the footnotes at the
bottom, no-break or thin spaces (or their entities) as thousands separators, "approximately", a
period named in a sentence ("In 2020, Ring received ..."), a byline date, an address and a phone
number, the 2020 post's "Types of Requests" definitions, and line breaks between blocks.

The property, for every page: every figure comes back exactly (period, country, type, outcome,
value or range; nothing missing and nothing extra), the page's ledger has no unplaced number and
accounts for every number it saw, and no warning fires (no total that fails to add up, no figure
given twice, no unplaced number: the generated figures agree, so any warning is a misreading).

Runs: 20 pages per family in CI (derandomized, so every run draws the same pages; a quarter of that
with "Other legal process"). Set RINGWATCH_SLOW_PROPERTIES=1 to draw 5,000 per family (a number over 1: that many),
as before any change to the transparency parser (tens of minutes on two cores).

A failure hypothesis finds becomes a fixture: run (one command, on one line)

    .venv/bin/python -m tests.scrapers.test_transparency_generated FAMILY SHORT-NAME "what it tests"
        [--other] [--match REGEX | --where REGEX] [--distinct] [--gap "why it fails"] [--examples N]

to shrink the family's first failure (one whose description matches --match; --other: pages with
"Other legal process") and write tests/fixtures/transparency/generated/SHORT-NAME.html (with an HTML
comment saying what it tests) and SHORT-NAME.json (the figures it must give); test_generated_fixture
reads every pair in that folder. A failing page is recorded with a "known_gap" (the failure, or --gap),
which makes it a strict xfail: delete the key when the parser reads the page. --where REGEX records
instead the smallest page whose HTML matches (a layout that once failed, kept as a regression guard),
and --distinct keeps its figures distinct and non-zero, so that a value given to the wrong type shows.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ringwatch.scrapers.errors import RingwatchError
from ringwatch.scrapers.records import ReportPage
from ringwatch.scrapers.transparency import parse_report_page

GENERATED = Path(__file__).resolve().parents[1] / "fixtures" / "transparency" / "generated"
URL = "https://ring.com/law-enforcement-information-requests"

# (start, end, country, request type, outcome, value, low, high): one figure as the warehouse keeps it.
Fig = tuple[date, date, str, str, str, int | None, int | None, int | None]
Draw = Callable[[st.SearchStrategy[Any]], Any]
T = TypeVar("T")

OUTCOMES = ("full_response", "partial_response", "no_response")
CORE = ("subpoenas", "search_warrants", "court_orders")

# -- vocabulary: what Ring's pages say (tests/fixtures/transparency/, shared/docs/SOURCES.md) ----------

TYPE_LABELS: dict[str, tuple[str, ...]] = {
    "subpoenas": ("Subpoenas",),
    "search_warrants": ("Search warrants", "Search Warrants", "Warrants"),
    "court_orders": ("Court orders", "Court Orders"),
    "national_security_requests": ("National security requests", "National Security Requests", "National security"),
    "emergency_requests": ("Emergency requests", "Emergency Requests"),
    "preservation_requests": ("Preservation requests", "Preservation Requests", "Preservation orders"),
    "non_us_requests": ("Non-U.S. requests", "Non-U.S. Requests", "Requests from outside the United States"),
    "other_legal_process": ("Other legal process",),
    "all": ("Total legal demands", "Legal demands received", "All legal demands"),
    "users_notified": ("Users notified",),
}
# How a sentence names the type after its number ("Ring received 1,045 subpoenas").
PLURAL = {
    "Subpoenas": "subpoenas", "Search warrants": "search warrants", "Search Warrants": "search warrants",
    "Warrants": "warrants", "Court orders": "court orders", "Court Orders": "court orders",
    "National security requests": "national security requests",
    "National Security Requests": "national security requests", "National security": "national security requests",
    "Emergency requests": "emergency requests", "Emergency Requests": "emergency requests",
    "Preservation requests": "preservation requests", "Preservation Requests": "preservation requests",
    "Preservation orders": "preservation orders", "Non-U.S. requests": "non-U.S. requests",
    "Non-U.S. Requests": "non-U.S. requests",
    "Requests from outside the United States": "requests from outside the United States",
}
# The words a summary uses for several types at once ("Preservation and emergency requests").
GROUP_WORD = {"national_security_requests": "national security", "emergency_requests": "emergency",
              "preservation_requests": "preservation", "non_us_requests": "non-U.S."}
OUTCOME_LABELS = (
    ("Full response", "Partial response", "No response"),
    ("Full Response", "Partial Response", "No Response"),
    ("Full", "Partial", "None"),
    ("Complied in full", "Complied in part", "Did not comply"),
)
# A type's own count of requests received, where the type is in scope (a row, a section, a dt).
RECEIVED_LABELS = ("Received", "Requests received", "Total received", "Total", "Number of requests")
NEUTRAL_HEADINGS = ("Summary", "At a glance", "Other requests", "More figures")
COUNTRIES = (("United Kingdom", "GB"), ("Canada", "CA"), ("Germany", "DE"), ("Australia", "AU"),
             ("France", "FR"), ("Mexico", "MX"), ("Ireland", "IE"), ("Japan", "JP"))
NOTES = (
    "Includes {k} requests that were later withdrawn by the requesting agency.",
    "Of these, {k} were duplicates of requests served earlier.",
    "Requests that named more than one account are counted once; {k} named more than one.",
    "Figures for this period were revised on March 3, 2022.",
)
SEPARATORS = (",", "\u00a0", "\u202f", "\u2009")
RANGE_DASHES = ("-", "\u2013", " \u2013 ", " - ")
DEFINITIONS = """<h2>Types of Requests</h2>
<p><strong>Subpoenas:</strong> A subpoena is a legal demand issued under 18 U.S.C. &#167; 2703(c)(2) that can compel
the production of basic subscriber information, such as a name or address.</p>
<p><strong>Search warrants:</strong> A search warrant is signed by a judge and requires a showing of probable
cause; it can compel the production of content such as videos.</p>
<p><strong>Court orders:</strong> Court orders issued under Section 2703(d) require a showing of specific and
articulable facts and can compel non-content information.</p>
<p><strong>National security requests:</strong> The law only allows us to report them in bands of 250, such as
0-249.</p>
"""
CONTACT = ("<p>Law enforcement agencies can serve requests on Ring LLC at 1523 26th St, Santa Monica, CA 90404. "
           "For questions about this report, call 1-800-656-1918.</p>")

# -- the figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodSpec:
    start: date
    end: date
    label: str


@dataclass(frozen=True)
class Entry:
    """One request type's figures in one period (rtype "users_notified": the page-wide count)."""

    rtype: str
    received: int | None = None
    rng: tuple[int, int] | None = None
    outcomes: tuple[int, int, int] | None = None  # full, partial, no response


@dataclass(frozen=True)
class PeriodFigures:
    period: PeriodSpec
    entries: tuple[Entry, ...]
    countries: tuple[tuple[str, str, Entry], ...] = ()  # name, ISO code, its non-U.S. figures


def expected_of(figures: Sequence[PeriodFigures]) -> frozenset[Fig]:
    found: set[Fig] = set()
    for pf in figures:
        s, e = pf.period.start, pf.period.end
        rows = [("US", entry) for entry in pf.entries] + [(code, entry) for _n, code, entry in pf.countries]
        for country, entry in rows:
            rtype = entry.rtype
            if rtype == "users_notified":
                found.add((s, e, country, "all", "users_notified", entry.received, None, None))
                continue
            if entry.rng is not None:
                found.add((s, e, country, rtype, "received", None, *entry.rng))
            else:
                found.add((s, e, country, rtype, "received", entry.received, None, None))
            for outcome, value in zip(OUTCOMES, entry.outcomes or (), strict=False):
                found.add((s, e, country, rtype, outcome, value, None, None))
    return frozenset(found)


HALF_LABELS: tuple[Callable[[int, int], str], ...] = (
    lambda y, h: f"H{h} {y}",
    lambda y, h: f"January 1 - June 30, {y}" if h == 1 else f"July 1 - December 31, {y}",
    lambda y, h: f"January 1 \u2013 June 30, {y}" if h == 1 else f"July 1 \u2013 December 31, {y}",
    lambda y, h: f"{'First' if h == 1 else 'Second'} half of {y}",
    lambda y, h: f"January\u2013June {y}" if h == 1 else f"July\u2013December {y}",
)
YEAR_LABELS: tuple[Callable[[int], str], ...] = (
    lambda y: str(y),
    lambda y: f"January 1 - December 31, {y}",
    lambda y: f"January\u2013December {y}",
)


@st.composite
def period_specs(draw: Draw) -> list[PeriodSpec]:
    count = draw(st.integers(1, 3))
    if draw(st.booleans()):
        label = draw(st.sampled_from(YEAR_LABELS))
        first = draw(st.integers(2019, 2023))
        return [PeriodSpec(date(y, 1, 1), date(y, 12, 31), label(y)) for y in range(first, first + count)]
    half_label = draw(st.sampled_from(HALF_LABELS))
    index = draw(st.integers(2021 * 2, 2024 * 2 + 1))
    specs = []
    for i in range(index, index + count):
        y, h = divmod(i, 2)
        start, end = (date(y, 1, 1), date(y, 6, 30)) if h == 0 else (date(y, 7, 1), date(y, 12, 31))
        specs.append(PeriodSpec(start, end, half_label(y, h + 1)))
    return specs


COUNT = st.integers(0, 2500)


@st.composite
def counts(draw: Draw, rtype: str, *, outcomes: bool) -> Entry:
    if outcomes:
        parts = (draw(COUNT), draw(COUNT), draw(COUNT))
        return Entry(rtype, received=sum(parts), outcomes=parts)
    return Entry(rtype, received=draw(COUNT))


def outcome_sums(entries: Sequence[Entry]) -> tuple[int, int, int]:
    full, partial, none = (sum((e.outcomes or (0, 0, 0))[i] for e in entries) for i in range(3))
    return full, partial, none


@st.composite
def period_figures(draw: Draw, period: PeriodSpec, *, other: bool) -> PeriodFigures:
    """One period's figures, consistent as Ring's are: received = full + partial + no response,
    and the legal-demands total = subpoenas + search warrants + court orders (+ other legal process);
    national-security figures are the 0-249 band, which the total leaves out."""
    entries = [draw(counts(t, outcomes=draw(st.booleans()))) for t in CORE]
    if draw(st.booleans()):
        entries.append(Entry("national_security_requests", rng=(0, 249)))
    if draw(st.booleans()):
        entries.append(draw(counts("emergency_requests", outcomes=draw(st.booleans()))))
    if draw(st.booleans()):
        entries.append(draw(counts("preservation_requests", outcomes=False)))
    countries: list[tuple[str, str, Entry]] = []
    if draw(st.booleans()):
        if draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3, unique=True))
            with_outcomes = draw(st.booleans())
            small = st.integers(0, 40)
            for name, code in chosen:
                parts = (draw(small), draw(small), draw(small))
                entry = (Entry("non_us_requests", received=sum(parts), outcomes=parts) if with_outcomes
                         else Entry("non_us_requests", received=draw(small)))
                countries.append((name, code, entry))
            total = sum(e.received or 0 for _n, _c, e in countries)
            sums = outcome_sums([e for _n, _c, e in countries]) if with_outcomes else None
            entries.append(Entry("non_us_requests", received=total, outcomes=sums))
        else:
            entries.append(draw(counts("non_us_requests", outcomes=draw(st.booleans()))))
    if other:
        entries.append(draw(counts("other_legal_process", outcomes=False)))
    if draw(st.booleans()):
        core = [e for e in entries if e.rtype in CORE]
        received = sum(e.received or 0 for e in core)
        totals = None
        if all(e.outcomes for e in core) and draw(st.booleans()):
            totals = outcome_sums(core)
        elif other:
            received += next(e.received or 0 for e in entries if e.rtype == "other_legal_process")
        entries.append(Entry("all", received=received, outcomes=totals))
    if draw(st.booleans()):
        entries.append(Entry("users_notified", received=draw(COUNT)))
    return PeriodFigures(period, tuple(entries), tuple(countries))


# -- the page's look ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    sep: str
    dash: str
    number_tag: str  # "" or the element wrapped around every number
    label_tag: str  # "" or the element wrapped around labels
    marker: str  # "" | "sup" | "super" | "symbol": footnote markers after numbers
    notes_form: int
    entities: bool  # no-break and thin spaces written as &nbsp; / &#8239; / &thinsp;
    linked_markers: bool  # <sup><a href="#fn1">1</a></sup>
    dl_divs: bool  # <dl><div><dt>..</dt><dd>..</dd></div></dl>
    labels: dict[str, str]
    outcome_labels: tuple[str, str, str]
    received_label: str
    we: str


@st.composite
def styles(draw: Draw) -> Style:
    return Style(
        sep=draw(st.sampled_from(SEPARATORS)),
        dash=draw(st.sampled_from(RANGE_DASHES)),
        number_tag=draw(st.sampled_from(("", "strong", "b", "em", "span"))),
        label_tag=draw(st.sampled_from(("", "strong", "em", "span"))),
        marker=draw(st.sampled_from(("", "sup", "super", "symbol"))),
        notes_form=draw(st.integers(0, 2)),
        entities=draw(st.booleans()),
        linked_markers=draw(st.booleans()),
        dl_divs=draw(st.booleans()),
        labels={t: draw(st.sampled_from(labels)) for t, labels in TYPE_LABELS.items()},
        outcome_labels=draw(st.sampled_from(OUTCOME_LABELS)),
        received_label=draw(st.sampled_from(RECEIVED_LABELS)),
        we=draw(st.sampled_from(("Ring", "We"))),
    )


PRETTY = re.compile(r"</(?:p|li|tr|td|th|dt|dd|h[1-6]|ul|ol|dl|table|thead|tbody|caption|details|summary|section|div)>")
ENTITIES = str.maketrans({"\u00a0": "&nbsp;", "\u202f": "&#8239;", "\u2009": "&thinsp;"})
SUPERSCRIPT = "¹²³"
SYMBOLS = ("*", "†", "‡")


@dataclass
class Writer:
    """Renders numbers and labels in the page's style, and keeps the figures it wrote."""

    draw: Draw
    s: Style
    written: set[Fig] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def wrap(self, tag: str, text: str, span_class: str) -> str:
        return f"<{tag}{span_class if tag == 'span' else ''}>{text}</{tag}>" if tag else text

    def marker(self) -> str:
        if not self.s.marker or len(self.notes) >= 3 or self.draw(st.integers(0, 5)) != 5:
            return ""
        note = self.draw(st.sampled_from(NOTES)).format(k=self.draw(st.integers(1, 40)))
        self.notes.append(note)
        i = len(self.notes)
        sup = f'<sup><a href="#fn{i}" id="ref{i}">{i}</a></sup>' if self.s.linked_markers else f"<sup>{i}</sup>"
        return {"sup": sup, "super": SUPERSCRIPT[i - 1], "symbol": SYMBOLS[i - 1]}[self.s.marker]

    def number(self, value: int) -> str:
        text = f"{value:,}".replace(",", self.s.sep)
        return text.translate(ENTITIES) if self.s.entities else text

    def fig(self, p: PeriodSpec, rtype: str, outcome: str, entry: Entry, country: str = "US") -> str:
        """The received count (or range) or one outcome of `entry`, as the page writes it."""
        if rtype == "users_notified":
            rtype, outcome = "all", "users_notified"
        if outcome == "received" and entry.rng is not None:
            low, high = entry.rng
            self.written.add((p.start, p.end, country, rtype, outcome, None, low, high))
            return self.wrap(self.s.number_tag, f"{low}{self.s.dash}{high}", ' class="num"') + self.marker()
        value = entry.received if outcome in ("received", "users_notified") else (
            (entry.outcomes or (0, 0, 0))[OUTCOMES.index(outcome)])
        assert value is not None
        self.written.add((p.start, p.end, country, rtype, outcome, value, None, None))
        return self.wrap(self.s.number_tag, self.number(value), ' class="num"') + self.marker()

    def received(self, p: PeriodSpec, e: Entry, country: str = "US") -> str:
        return self.fig(p, e.rtype, "received", e, country)

    def label(self, text: str) -> str:
        return self.wrap(self.s.label_tag, text, ' class="label"')

    @property
    def we_mid(self) -> str:
        """"we" or "Ring" inside a sentence."""
        return "we" if self.s.we == "We" else self.s.we

    def type_label(self, rtype: str) -> str:
        return self.s.labels[rtype]

    def outcome_label(self, outcome: str) -> str:
        return self.s.outcome_labels[OUTCOMES.index(outcome)]

    def order(self, items: Sequence[T]) -> list[T]:
        return list(self.draw(st.permutations(list(items)))) if len(items) > 1 else list(items)

    def pick(self, options: Sequence[T]) -> T:
        chosen: T = self.draw(st.sampled_from(list(options)))
        return chosen

    def flag(self) -> bool:
        return bool(self.draw(st.booleans()))


# -- pieces every family uses -------------------------------------------------------------------------


def and_join(parts: list[str], w: Writer) -> str:
    if len(parts) == 1:
        return parts[0]
    comma = "," if len(parts) > 2 and w.flag() else ""
    return f"{', '.join(parts[:-1])}{comma} and {parts[-1]}"


def outcome_sentence(w: Writer, p: PeriodSpec, e: Entry) -> str:
    """The outcomes of `e` in one sentence, in one of the ways a page words them."""
    form = w.pick(range(4))
    if form == 0:
        words = {"full_response": "a full response to", "partial_response": "a partial response to",
                 "no_response": "no response to"}
        parts = [f"{words[o]} {w.fig(p, e.rtype, o, e)}" for o in w.order(OUTCOMES)]
        return f"{w.s.we} provided {and_join(parts, w)}."
    if form == 1:
        words = {"full_response": "in full to", "partial_response": "in part to", "no_response": "not at all to"}
        parts = [f"{words[o]} {w.fig(p, e.rtype, o, e)}" for o in OUTCOMES]
        return f"{w.s.we} responded {and_join(parts, w)}."
    if form == 2:
        words = {"full_response": "fully complied with", "partial_response": "partially complied with",
                 "no_response": "did not respond to"}
        parts = [f"{words[o]} {w.fig(p, e.rtype, o, e)}" for o in w.order(OUTCOMES)]
        return f"Of these, we {and_join(parts, w)}."
    return " ".join(f"{w.label(w.outcome_label(o))}: {w.fig(p, e.rtype, o, e)}." for o in w.order(OUTCOMES))


def pair(w: Writer, label: str, value: str) -> str:
    return f"{w.label(label)}: {value}"


def received_sentence(w: Writer, p: PeriodSpec, e: Entry) -> str:
    """"Ring received 1,462 preservation requests." (a type with no sentence form: "Label: value.")"""
    if e.rtype == "all":
        about = w.pick(("", "approximately "))
        n = about + w.received(p, e)
        return w.pick((f"In total, {w.we_mid} received {n} legal demands.",
                       f"{w.s.we} received {n} legal demands from law enforcement.",
                       f"{in_period(w, p)}, {w.we_mid} received {n} legal demands from U.S. law enforcement."))
    if e.rtype == "users_notified":
        return f"{w.s.we} notified {w.received(p, e)} users about requests for their information."
    label = w.type_label(e.rtype)
    if label not in PLURAL:
        return f"{pair(w, label, w.received(p, e))}."
    if e.rng is not None and w.flag():
        return f"{pair(w, label, w.received(p, e))}, reported in the ranges the law allows."
    return f"{w.s.we} received {w.received(p, e)} {w.label(PLURAL[label])}."


def in_period(w: Writer, p: PeriodSpec) -> str:
    """The period as a sentence names it: "In 2020", "In the first half of 2021", "In H1 2021"."""
    if p.start.month == 1 and p.end.month == 12:
        return f"In {p.start.year}"
    return w.pick((f"In the {'first' if p.start.month == 1 else 'second'} half of {p.start.year}",
                   f"In H{1 if p.start.month == 1 else 2} {p.start.year}"))


def share(e: Entry) -> int | None:
    """The percentage complied with, fully or in part, as a page rounds it."""
    if not e.outcomes or not e.received:
        return None
    return round(100 * (e.outcomes[0] + e.outcomes[1]) / e.received)


def sentence_paragraph(w: Writer, p: PeriodSpec, e: Entry) -> str:
    text = received_sentence(w, p, e)
    if e.outcomes:
        text += " " + outcome_sentence(w, p, e)
        if share(e) is not None and w.flag():
            what = "demands we received" if e.rtype == "all" else "them"
            text += f" In other words, we complied, fully or in part, with {share(e)}% of the {what}."
    return f"<p>{text}</p>"


def outcome_pairs(w: Writer, p: PeriodSpec, e: Entry, *, received_label: str | None = None) -> list[str]:
    """`Label: value` for the received count and each outcome, in a drawn order."""
    items: list[tuple[str, str]] = [(received_label or w.s.received_label, "received")]
    items += [(w.outcome_label(o), o) for o in OUTCOMES] if e.outcomes else []
    received_first = w.flag()
    ordered = w.order(items[1:])
    items = [items[0], *ordered] if received_first else [*ordered, items[0]]
    return [pair(w, label, w.fig(p, e.rtype, outcome, e)) for label, outcome in items]


def users_line(w: Writer, p: PeriodSpec, e: Entry) -> str:
    if w.flag():
        return f"<p>{pair(w, w.type_label('users_notified'), w.received(p, e))}</p>"
    return f"<p>{received_sentence(w, p, e)}</p>"


def split(entries: Sequence[Entry], rtype: str) -> tuple[list[Entry], list[Entry]]:
    return [e for e in entries if e.rtype == rtype], [e for e in entries if e.rtype != rtype]


def country_block(w: Writer, pf: PeriodFigures, *, heading_period: bool = False) -> str:
    if not pf.countries:
        return ""
    p = pf.period
    title = w.pick(("Non-U.S. requests by country", "Requests from outside the United States, by country"))
    if heading_period:
        title += f", {p.label}"
    with_outcomes = all(e.outcomes for _n, _c, e in pf.countries)
    rows = w.order(pf.countries)
    if not with_outcomes and not heading_period and w.flag():
        items = "".join(f"<li>{pair(w, name, w.received(p, e, code))}</li>" for name, code, e in rows)
        return f"<h3>{title}</h3><ul>{items}</ul>"
    columns: list[tuple[str, str]] = [(w.pick(("Requests received", "Received", "Total")), "received")]
    if with_outcomes:
        outcomes = w.order([(w.outcome_label(o), o) for o in OUTCOMES])
        columns = [*columns, *outcomes] if w.flag() else [*outcomes, *columns]
    head = "".join(f"<th>{label}</th>" for label, _o in columns)
    body = "".join(
        f"<tr><td>{name}</td>" + "".join(f"<td>{w.fig(p, 'non_us_requests', o, e, code)}</td>" for _l, o in columns)
        + "</tr>" for name, code, e in rows)
    corner = w.pick(("Country", "Country or region"))
    table = f"<table><thead><tr><th>{corner}</th>{head}</tr></thead><tbody>{body}</tbody></table>"
    if not heading_period and w.flag():
        return table.replace("<thead>", f"<caption>{title}</caption><thead>", 1)
    return f"<h3>{title}</h3>{table}"


def period_level(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """The legal-demands total and users notified, before any type's heading opens."""
    out = []
    for e in w.order(entries):
        out.append(users_line(w, pf.period, e) if e.rtype == "users_notified" else sentence_paragraph(w, pf.period, e))
    return "".join(out)


# -- the families: each renders one period's entries ------------------------------------------------------

Render = Callable[[Writer, PeriodFigures, Sequence[Entry]], str]


def r_sentences(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    return "".join(sentence_paragraph(w, pf.period, e) for e in w.order(entries))


def r_list_sentences(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    p = pf.period
    items = []
    for e in w.order(entries):
        label = w.type_label(e.rtype)
        if e.rtype in ("all", "users_notified") or label not in PLURAL:
            items.append(sentence_paragraph(w, p, e)[3:-4])
        elif e.outcomes and w.flag():
            items.append(f"<b>{label}</b> \u2014 {w.received(p, e)} received; we responded in full to "
                         f"{w.fig(p, e.rtype, 'full_response', e)}, in part to "
                         f"{w.fig(p, e.rtype, 'partial_response', e)}, and not at all to "
                         f"{w.fig(p, e.rtype, 'no_response', e)}.")
        elif e.rng is not None:
            items.append(f"{pair(w, label, w.received(p, e))}, reported in the ranges the law allows.")
        else:
            text = f"{pair(w, label, w.received(p, e))} received."
            items.append(text + (" " + outcome_sentence(w, p, e) if e.outcomes else ""))
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def r_list_label_value(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    p = pf.period
    items = []
    plain = [e for e in entries if not e.outcomes and e.rtype in GROUP_WORD]
    grouped: list[Entry] = plain if len(plain) >= 2 and w.flag() else []
    if grouped:  # several types' Label: value pairs in one item ("Preservation requests: 1,462. Emergency ...")
        items.append(" ".join(f"{pair(w, w.type_label(e.rtype), w.received(p, e))}." for e in w.order(grouped)))
    for e in w.order([e for e in entries if e not in grouped]):
        label = w.type_label(e.rtype)
        if not e.outcomes:
            items.append(pair(w, label, w.received(p, e)))
            continue
        form = w.pick(range(3))
        if form == 0:  # "Subpoenas: 176. Full response: 38. ..." (the type's count has no outcome word)
            outcomes = " ".join(f"{pair(w, w.outcome_label(o), w.fig(p, e.rtype, o, e))}."
                                for o in w.order(OUTCOMES))
            items.append(f"{pair(w, label, w.received(p, e))}. {outcomes}")
        elif form == 1:
            inner = "".join(f"<li>{line}</li>" for line in outcome_pairs(w, p, e))
            items.append(f"{w.label(label)}<ul>{inner}</ul>")
        else:
            inner = "".join(f"<li>{pair(w, w.outcome_label(o), w.fig(p, e.rtype, o, e))}</li>"
                            for o in w.order(OUTCOMES))
            items.append(f"{w.label(label)}<ul><li>{pair(w, w.s.received_label, w.received(p, e))}</li>"
                         f"<li>Outcomes<ul>{inner}</ul></li></ul>")
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def missing(w: Writer) -> str:
    return str(w.pick(("\u2014", "", "N/A", "-")))


def cell(w: Writer, p: PeriodSpec, e: Entry | None, outcome: str) -> str:
    """A table cell: the figure, or what a page writes where a type has no such figure."""
    return w.fig(p, e.rtype, outcome, e) if e and (outcome == "received" or e.outcomes) else missing(w)


def r_table_rows(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """Request types as rows, outcomes as columns; the received column may be called "Total"."""
    p = pf.period
    users, rest = split(entries, "users_notified")
    totals, typed = split(rest, "all")
    columns: list[tuple[str, str]] = [(w.pick(RECEIVED_LABELS), "received")]
    if any(e.outcomes for e in rest):
        outcomes = w.order([(w.outcome_label(o), o) for o in OUTCOMES])
        columns = [*columns, *outcomes] if columns[0][0] != "Total" and w.flag() else [*outcomes, *columns]
    with_share = len(columns) > 1 and w.flag()  # a percentage column: not a count, never a figure
    share_label = w.pick(("% complied with", "Complied with, fully or in part (%)"))
    corner = w.pick(("Request type", "Type of request", ""))
    row_cell = w.pick(("td", "th"))
    rows = []
    for e in [*w.order(typed), *totals]:
        label = w.pick(("Total", w.type_label("all"))) if e.rtype == "all" else w.type_label(e.rtype)
        cells = "".join(f"<td>{cell(w, p, e, o)}</td>" for _l, o in columns)
        if with_share:
            cells += f"<td>{share(e)}%</td>" if share(e) is not None else f"<td>{missing(w)}</td>"
        rows.append(f"<tr><{row_cell}>{w.label(label)}</{row_cell}>{cells}</tr>")
    head = "".join(f"<th>{label}</th>" for label, _o in columns) + (f"<th>{share_label}</th>" if with_share else "")
    table = f"<table><thead><tr><th>{corner}</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return table + "".join(users_line(w, p, e) for e in users)


def r_table_columns(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """Request types as columns, outcomes as rows; the legal-demands total as a "Total" column."""
    p = pf.period
    users, rest = split(entries, "users_notified")
    totals, typed = split(rest, "all")
    columns = [*w.order(typed), *totals]
    head = "".join(f"<td><strong>{'Total' if e.rtype == 'all' else w.type_label(e.rtype)}</strong></td>"
                   for e in columns)
    received_label = w.pick([label for label in RECEIVED_LABELS if label != "Total"])
    row_labels = [(received_label, "received")]
    if any(e.outcomes for e in columns):
        row_labels += w.order([(w.outcome_label(o), o) for o in OUTCOMES])
    rows = "".join(
        f"<tr><td>{w.label(label)}</td>" + "".join(f"<td>{cell(w, p, e, o)}</td>" for e in columns) + "</tr>"
        for label, o in row_labels)
    return f"<table><tbody><tr><td></td>{head}</tr>{rows}</tbody></table>" + "".join(users_line(w, p, e) for e in users)


def one_row_table(w: Writer, p: PeriodSpec, e: Entry) -> str:
    columns: list[tuple[str, str]] = [(w.s.received_label, "received")]
    outcomes = w.order([(w.outcome_label(o), o) for o in OUTCOMES])
    columns = [*columns, *outcomes] if w.flag() else [*outcomes, *columns]
    head = "".join(f"<th>{label}</th>" for label, _o in columns)
    cells = "".join(f"<td>{w.fig(p, e.rtype, o, e)}</td>" for _l, o in columns)
    return f"<table><thead><tr>{head}</tr></thead><tbody><tr>{cells}</tr></tbody></table>"


def section(w: Writer, heading: str, body: str) -> str:
    html = f"<h3>{heading}</h3>{body}"
    return f"<section>{html}</section>" if w.flag() else html


def r_one_row_tables(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """A one-row table of outcomes per type; the types without outcomes in one row, a column each."""
    p = pf.period
    users, rest = split(entries, "users_notified")
    with_outcomes = [e for e in rest if e.outcomes]
    plain = [e for e in rest if not e.outcomes]
    out = [users_line(w, p, e) for e in users]
    if plain:
        ordered = w.order(plain)
        head = "".join(f"<th>{w.type_label(e.rtype)}</th>" for e in ordered)
        cells = "".join(f"<td>{w.received(p, e)}</td>" for e in ordered)
        out.append(section(w, w.pick(NEUTRAL_HEADINGS),
                           f"<table><thead><tr>{head}</tr></thead><tbody><tr>{cells}</tr></tbody></table>"))
    for e in w.order(with_outcomes):
        out.append(section(w, w.label(w.type_label(e.rtype)), one_row_table(w, p, e)))
    return "".join(out)


def dl_pair(w: Writer, term: str, value: str) -> str:
    html = f"<dt>{term}</dt><dd>{value}</dd>"
    return f"<div>{html}</div>" if w.s.dl_divs else html


def nested_dl(w: Writer, p: PeriodSpec, e: Entry) -> str:
    items = [line.split(": ", 1) for line in outcome_pairs(w, p, e)]
    return "<dl>" + "".join(dl_pair(w, label, value) for label, value in items) + "</dl>"


def r_definition_lists(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """One flat list (`<dt>` a type, `<dd>` its count), with outcomes in a list nested in the `<dd>`
    or in a list of their own under the type's heading."""
    p = pf.period
    nested = w.flag()
    flat, sections = [], []
    for e in w.order(entries):
        if e.outcomes and not nested:
            sections.append(section(w, w.label(w.type_label(e.rtype)), nested_dl(w, p, e)))
            continue
        label = "Total" if e.rtype == "all" and w.flag() else w.type_label(e.rtype)
        value = nested_dl(w, p, e) if e.outcomes else w.received(p, e)
        flat.append(dl_pair(w, w.label(label), value))
    return (f"<dl>{''.join(flat)}</dl>" if flat else "") + "".join(sections)


def lines_html(w: Writer, lines: list[str]) -> str:
    """`Label: value` lines as a list, a paragraph each, or one paragraph broken by `<br>`."""
    form = w.pick(range(3))
    if form == 0:
        return "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"
    if form == 1:
        return "".join(f"<p>{line}</p>" for line in lines)
    return "<p>" + "<br>".join(lines) + "</p>"


def type_section_body(w: Writer, p: PeriodSpec, e: Entry) -> str:
    if w.flag() and w.type_label(e.rtype) in PLURAL:
        return sentence_paragraph(w, p, e)
    return lines_html(w, outcome_pairs(w, p, e))


def r_section_per_type(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    p = pf.period
    users, rest = split(entries, "users_notified")
    totals, typed = split(rest, "all")
    out = [period_level(w, pf, users)]
    for e in totals:
        if e.outcomes or w.flag():
            typed.append(e)  # a section of its own, headed "Total legal demands"
        elif w.flag():
            out.append(f"<p>Legal demands received in {p.label}: {w.received(p, e)}. "
                       "The sections below break them down by type.</p>")
        else:
            out.append(sentence_paragraph(w, p, e))
    for e in w.order(typed):
        out.append(section(w, w.label(w.type_label(e.rtype)), type_section_body(w, p, e)))
    return "".join(out)


def r_details(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """An accordion: a `<details>` per type; types without outcomes may share one, whose summary names
    them all ("Preservation and emergency requests")."""
    p = pf.period
    users, rest = split(entries, "users_notified")
    out = [period_level(w, pf, users)]
    groupable = [e for e in rest if not e.outcomes and e.rtype in GROUP_WORD]
    grouped = groupable if len(groupable) >= 2 and w.flag() else []
    blocks = []
    if grouped:
        ordered = w.order(grouped)
        words = [GROUP_WORD[e.rtype] for e in ordered]
        summary = and_join(words, w) + " requests"
        lines = [f"{pair(w, w.type_label(e.rtype), w.received(p, e))}." for e in ordered]
        body = f"<p>{' '.join(lines)}</p>" if w.flag() else "".join(f"<p>{line}</p>" for line in lines)
        blocks.append(f"<details><summary>{summary[0].upper()}{summary[1:]}</summary>{body}</details>")
    for e in rest:
        if e in grouped:
            continue
        label = w.type_label(e.rtype)
        if e.outcomes and w.flag():
            body = f"<div class=\"panel\">{one_row_table(w, p, e)}</div>"
        else:
            body = lines_html(w, outcome_pairs(w, p, e))
        summary = f"<span>{label}</span>" if w.flag() else label
        blocks.append(f"<details{' open' if w.flag() else ''}><summary>{summary}</summary>"
                      f"<div class=\"panel\">{body}</div></details>")
    out.append("<div class=\"accordion\">" + "".join(w.order(blocks)) + "</div>")
    return "".join(out)


def r_bold_leads(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """Paragraphs led by the type in bold; or a bold label alone, as a heading for the lines below it."""
    p = pf.period
    out, under_labels = [], []
    for e in w.order(entries):
        label = w.type_label(e.rtype)
        lead = w.pick(("strong", "b"))
        if e.outcomes and w.flag() and e.rtype != "all":
            under_labels.append(f"<p><{lead}>{label}</{lead}></p>"
                                + "".join(f"<p>{line}</p>" for line in outcome_pairs(w, p, e)))
        elif e.outcomes and w.flag() and label in PLURAL:
            out.append(f"<p><{lead}>{label}</{lead}> \u2014 {w.received(p, e)} received; we responded in full to "
                       f"{w.fig(p, e.rtype, 'full_response', e)}, in part to "
                       f"{w.fig(p, e.rtype, 'partial_response', e)}, and not at all to "
                       f"{w.fig(p, e.rtype, 'no_response', e)}.</p>")
        elif e.outcomes:
            outcomes = " ".join(f"{w.outcome_label(o)}: {w.fig(p, e.rtype, o, e)}." for o in w.order(OUTCOMES))
            out.append(f"<p><{lead}>{label}:</{lead}> {w.received(p, e)} received. {outcomes}</p>")
        else:
            out.append(f"<p><{lead}>{label}:</{lead}> {w.received(p, e)}</p>")
    return "".join(out + under_labels)  # a bold label heads what follows it, up to the next heading


def stat_card(w: Writer, label: str, value: str) -> str:
    """A card's inside: the number and its label each in an element of its own, either first, an icon
    or a line break beside them: "<p class="stat">1,612</p><p>Search warrants</p>"."""
    number_tag = w.pick(("p", "div", "h3", "h4", "strong", "span"))
    label_tag = w.pick(("p", "div", "h4", "span"))
    if number_tag in ("strong", "span") and label_tag == "span":
        label_tag = "p"  # two inline elements are a sentence ("1,612 Search warrants"), read as one
    number = f'<{number_tag} class="stat-number">{value}</{number_tag}>'
    words = f'<{label_tag} class="stat-label">{w.label(label)}</{label_tag}>'
    extra = w.pick(("", '<svg class="icon" aria-hidden="true"></svg>', '<i class="icon-shield"></i>', "<br>"))
    return extra + (number + words if w.flag() else words + number)


def r_stat_cards(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """A dashboard: a grid of cards, one per type without outcomes (the total and users notified among
    them); a type with outcomes gets its heading and a grid of its own, received and each outcome."""
    p = pf.period
    listed = w.flag()

    def grid(cards: list[str]) -> str:
        if listed:
            return '<ul class="stats">' + "".join(f'<li class="stat-card">{c}</li>' for c in cards) + "</ul>"
        return '<div class="stats">' + "".join(f'<div class="stat-card">{c}</div>' for c in cards) + "</div>"

    plain = [e for e in entries if not e.outcomes]
    out = [grid([stat_card(w, w.type_label(e.rtype), w.received(p, e)) for e in w.order(plain)])] if plain else []
    for e in w.order([e for e in entries if e.outcomes]):
        items = [(w.s.received_label, "received"), *((w.outcome_label(o), o) for o in OUTCOMES)]
        cards = [stat_card(w, label, w.fig(p, e.rtype, outcome, e)) for label, outcome in w.order(items)]
        out.append(section(w, w.label(w.type_label(e.rtype)), grid(cards)))
    return "".join(out)


SIMPLE: dict[str, Render] = {
    "sentences": r_sentences,
    "list_sentences": r_list_sentences,
    "list_label_value": r_list_label_value,
    "table_rows": r_table_rows,
    "table_columns": r_table_columns,
    "one_row_tables": r_one_row_tables,
    "definition_lists": r_definition_lists,
    "section_per_type": r_section_per_type,
    "details": r_details,
    "bold_leads": r_bold_leads,
    "stat_cards": r_stat_cards,
}


def r_combined(w: Writer, pf: PeriodFigures, entries: Sequence[Entry]) -> str:
    """Two families on one period: the core types in one, everything else in another."""
    first = [e for e in entries if e.rtype in CORE]
    second = [e for e in entries if e.rtype not in CORE]
    a, b = w.pick(sorted(SIMPLE)), w.pick(sorted(SIMPLE))
    html = SIMPLE[a](w, pf, first)
    if second:
        html += f"<h3>{w.pick(NEUTRAL_HEADINGS)}</h3>" + SIMPLE[b](w, pf, second)
    return html


# -- the page -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedPage:
    family: str
    html: str
    expected: frozenset[Fig]

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example
        return f"GeneratedPage(family={self.family!r}, html=\n{self.html}\n)"


def wrap_period(w: Writer, mode: str, label: str, body: str) -> str:
    label = w.pick((label, f"Requests in {label}"))  # "Requests in 2020": the 2020 post's heading
    if mode == "section":
        return f"<section class=\"period\"><h2>{label}</h2>{body}</section>"
    if mode == "div_h2":
        return f"<div class=\"heading-wrap\"><h2>{label}</h2></div>{body}"
    if mode == "details":
        return f"<details open><summary>{label}</summary>{body}</details>"
    return f"<h2>{label}</h2>{body}"


def periods_as_columns(w: Writer, figures: Sequence[PeriodFigures]) -> str:
    """A table per outcome (received, full, partial, no response): types as rows, periods as columns."""
    order = w.order(list(range(len(figures))))
    cols = [figures[i] for i in order]
    corner = w.pick(("Request type", ""))
    head = f"<tr><th>{corner}</th>" + "".join(f"<th>{pf.period.label}</th>" for pf in cols) + "</tr>"
    types: list[str] = []
    for pf in figures:
        types += [e.rtype for e in pf.entries if e.rtype not in types and e.rtype != "users_notified"]
    typed = w.order([t for t in types if t != "all"]) + [t for t in types if t == "all"]
    out = []
    outcomes = ["received"] + ([o for o in OUTCOMES] if any(e.outcomes for pf in figures for e in pf.entries) else [])
    for outcome in w.order(outcomes):
        title = w.pick(("Requests received", "Received")) if outcome == "received" else w.outcome_label(outcome)
        rows = []
        for rtype in typed:
            by_period = [next((e for e in pf.entries if e.rtype == rtype), None) for pf in cols]
            if outcome != "received" and not any(e and e.outcomes for e in by_period):
                continue
            cells = "".join(f"<td>{cell(w, pf.period, e, outcome)}</td>" for pf, e in zip(cols, by_period, strict=True))
            label = "Total" if rtype == "all" and w.flag() else w.type_label(rtype)
            rows.append(f"<tr><td>{w.label(label)}</td>{cells}</tr>")
        table = f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
        out.append(table.replace("<thead>", f"<caption>{title}</caption><thead>", 1) if w.flag()
                   else f"<h3>{title}</h3>{table}")
    for pf in figures:
        users = [e for e in pf.entries if e.rtype == "users_notified"]
        if users:
            out.append(f"<h3>{w.type_label('users_notified')}, {pf.period.label}</h3>"
                       f"<p>{pair(w, w.type_label('users_notified'), w.received(pf.period, users[0]))}</p>")
        out.append(country_block(w, pf, heading_period=True))
    return "".join(out)


FAMILIES = (*SIMPLE, "combined", "periods_as_columns")


@st.composite
def report_pages(draw: Draw, family: str, *, other: bool = False) -> GeneratedPage:
    """A whole report page in `family` (see the module docstring); `other`: with "Other legal process"."""
    specs = draw(period_specs())
    figures = [draw(period_figures(spec, other=other)) for spec in specs]
    w = Writer(draw, draw(styles()))
    single = len(specs) == 1
    definitions = draw(st.booleans())
    # After a "Types of Requests" heading, a period needs a heading of its own to end the definitions.
    modes = ["h2", "section", "div_h2"] + ([] if definitions else ["details"]) + (
        ["title", "intro"] if single and not definitions else [])
    mode = draw(st.sampled_from(modes))
    spec = specs[0]
    if mode == "title":
        title = (f"Law Enforcement Information Requests in {spec.label}" if spec.label.isdigit()
                 else f"Transparency Report \u2014 {spec.label}")
    else:
        title = draw(st.sampled_from(("Law Enforcement Information Requests", "Law Enforcement Requests",
                                      "Transparency Report")))
    parts = [f"<h1>{title}</h1>"]
    if draw(st.booleans()):
        parts.append('<div class="entry-meta">By Ring on <time datetime="2022-08-15">August 15, 2022</time></div>')
    if mode == "intro":
        parts.append(f'<p class="rw-sub">Reporting period: {spec.label}</p>')
    parts.append(draw(st.sampled_from((
        "",
        "<p>At Ring, we believe in being transparent with our customers about how we respond to requests from "
        "law enforcement.</p>",
        "<p>This page reports the legal demands Ring received from government agencies, twice a year.</p>"))))
    if definitions:
        parts.append(DEFINITIONS)
    if family == "periods_as_columns":
        parts.append(periods_as_columns(w, figures))
    else:
        render = r_combined if family == "combined" else SIMPLE[family]
        if draw(st.booleans()):
            figures = figures[::-1]  # newest first
        for pf in figures:
            body = render(w, pf, list(pf.entries)) + country_block(w, pf)
            parts.append(body if mode in ("title", "intro") else wrap_period(w, mode, pf.period.label, body))
    if draw(st.booleans()):
        parts.append(CONTACT)
    if w.notes:
        parts.append(footnotes(w))
    main = draw(st.sampled_from(("article", "main", "div")))
    attrs = ' id="app"' if main == "div" else ""
    html = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title} | Ring</title></head><body>"
            "<header><nav><a href=\"/\">Home</a> <a href=\"/2021/01/12/new-doorbell/\">12 new doorbells</a></nav>"
            f"</header><{main}{attrs}>\n" + "\n".join(p for p in parts if p) + f"\n</{main}>"
            "<footer><p>&#169; 2022 Ring LLC. 1523 26th St, Santa Monica, CA 90404</p></footer></body></html>\n")
    if draw(st.booleans()):  # as a CMS writes it: a line break after every block
        html = PRETTY.sub(lambda m: m[0] + "\n", html)
    expected = expected_of(figures)
    assert w.written == expected, f"the generator wrote {w.written ^ expected} wrongly"  # a bug here, not in the parser
    return GeneratedPage(family, html, expected)


def footnotes(w: Writer) -> str:
    if w.s.marker == "sup":
        if w.s.notes_form == 0:
            return '<ol class="footnotes">' + "".join(f"<li>{n}</li>" for n in w.notes) + "</ol>"
        return "".join(f'<p class="footnote"><sup>{i}</sup> {n}</p>' for i, n in enumerate(w.notes, 1))
    marks = SUPERSCRIPT if w.s.marker == "super" else SYMBOLS
    if w.s.notes_form == 0:
        return "".join(f"<p><small>{marks[i]} {n}</small></p>" for i, n in enumerate(w.notes))
    if w.s.notes_form == 1:
        return '<div class="notes">' + "".join(f"<p>{marks[i]} {n}</p>" for i, n in enumerate(w.notes)) + "</div>"
    return "".join(f"<p>{marks[i]} {n}</p>" for i, n in enumerate(w.notes))


# -- the property ---------------------------------------------------------------------------------------

def figures_of(page: ReportPage) -> frozenset[Fig]:
    return frozenset((f.period.start, f.period.end, f.country, f.request_type, f.outcome, f.value, f.low, f.high)
                     for f in page.figures)


def failure_of(html: bytes, expected: frozenset[Fig]) -> str | None:
    """What the parser got wrong on the page, or None."""
    try:
        page = parse_report_page(html, source_url=URL)
    except RingwatchError as exc:
        return f"the page did not parse: {exc}"
    found = figures_of(page)
    problems = []
    if found != expected:
        problems.append(f"missing {sorted(expected - found)}; extra {sorted(found - expected)}")
    # The page's figures agree and every number on it is a count or plainly not one: any warning (a total
    # that does not add up, a figure given twice, a number not placed) means the parser misread it.
    if page.warnings:
        problems.append(f"warnings {[(w.kind, w.detail) for w in page.warnings]}")
    # Every number accounted for exactly once; and a generated page writes each figure once (a range as
    # one number placed, its other end explained), so the ledger places exactly one number per figure.
    ledger = page.ledger
    if ledger.unplaced != 0 or ledger.seen != ledger.placed + ledger.explained + ledger.unplaced:
        problems.append(f"ledger {ledger}")
    if ledger.placed != len(expected):
        problems.append(f"ledger {ledger} placed {ledger.placed} numbers for {len(expected)} figures")
    return "; ".join(problems) or None


def check(page: GeneratedPage) -> None:
    problem = failure_of(page.html.encode(), page.expected)
    assert problem is None, problem


def _examples(setting: str | None) -> int:
    """Pages per family: 20; with RINGWATCH_SLOW_PROPERTIES set, 5,000, or the number it gives."""
    if not setting:
        return 20
    return int(setting) if setting.isdigit() and int(setting) > 1 else 5000


EXAMPLES = _examples(os.environ.get("RINGWATCH_SLOW_PROPERTIES"))
PROPERTY_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Families the parser does not read yet, each with why (strict: an xpass fails, so fixing the
# parser makes the entry go). Their minimal failing pages are in tests/fixtures/transparency/generated/.
KNOWN_GAPS: dict[str, str] = {}
KNOWN_GAPS_OTHER: dict[str, str] = {}


def families(gaps: dict[str, str]) -> list[Any]:
    return [pytest.param(f, marks=pytest.mark.xfail(strict=True, reason=gaps[f])) if f in gaps else f
            for f in FAMILIES]


def property_settings(family: str, gaps: dict[str, str], examples: int = EXAMPLES) -> settings:
    """A family known to fail is not shrunk in CI (it fails as expected, and shrinking takes a minute):
    its minimal pages are the fixtures in tests/fixtures/transparency/generated/."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate] if family in gaps else list(Phase)
    return settings(PROPERTY_SETTINGS, max_examples=examples, phases=phases)


@pytest.mark.parametrize("family", families(KNOWN_GAPS))
def test_every_figure_comes_back_and_every_number_is_accounted_for(family: str) -> None:
    @property_settings(family, KNOWN_GAPS)
    @given(report_pages(family))
    def holds(page: GeneratedPage) -> None:
        check(page)

    holds()


@pytest.mark.parametrize("family", families(KNOWN_GAPS_OTHER))
def test_other_legal_process_is_its_own_type(family: str) -> None:
    """"Other legal process" is legal process ringwatch has no name for: kept under its own name
    (other_legal_process), counted in the total of legal demands, never read as that total."""
    @property_settings(family, KNOWN_GAPS_OTHER, max(EXAMPLES // 4, 5))
    @given(report_pages(family, other=True))
    def holds(page: GeneratedPage) -> None:
        check(page)

    holds()


def test_the_property_notices_a_lost_or_invented_figure() -> None:
    """The check itself can fail: a page missing one figure, or holding one more, is caught."""
    page = _first(report_pages("table_rows"))
    assert failure_of(page.html.encode(), page.expected) is None
    some = sorted(page.expected)[0]
    assert "extra" in (failure_of(page.html.encode(), page.expected - {some}) or "")
    invented = (*some[:5], 99_999_999, None, None)
    assert "missing" in (failure_of(page.html.encode(), page.expected | {invented}) or "")


def test_the_property_notices_a_warning_and_an_unplaced_number() -> None:
    """A number the page holds but the parser cannot place fails the property twice over: as a warning
    and in the ledger (hand-written: a generated page has no such number)."""
    html = (b"<html><body><article><h1>Law Enforcement Information Requests</h1><h2>2020</h2>"
            b"<ul><li>Subpoenas: 5</li><li>Search warrants: 6</li></ul>"
            b"<p>We also reviewed 12 of them twice.</p></article></body></html>")
    year = (date(2020, 1, 1), date(2020, 12, 31), "US")
    expected = frozenset({(*year, "subpoenas", "received", 5, None, None),
                          (*year, "search_warrants", "received", 6, None, None)})
    problem = failure_of(html, expected) or ""
    assert "warnings [('unplaced_number'" in problem and "ledger PageLedger(" in problem, problem
    assert "missing" not in problem  # the two figures themselves came back


def _first(strategy: st.SearchStrategy[GeneratedPage]) -> GeneratedPage:
    found: list[GeneratedPage] = []

    @settings(max_examples=1, database=None, derandomize=True, deadline=None)
    @given(strategy)
    def take(page: GeneratedPage) -> None:
        found.append(page)

    take()
    return found[0]


# -- fixtures from shrunk failures ------------------------------------------------------------------------


def _fixtures() -> list[Any]:
    params = []
    for html in sorted(GENERATED.glob("*.html")):
        meta = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
        marks = [pytest.mark.xfail(strict=True, reason=meta["known_gap"])] if meta.get("known_gap") else []
        params.append(pytest.param(html, marks=marks, id=html.stem))
    return params


@pytest.mark.parametrize("path", _fixtures())
def test_generated_fixture(path: Path) -> None:
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    expected = frozenset(
        (date.fromisoformat(s), date.fromisoformat(e), country, rtype, outcome, value, low, high)
        for s, e, country, rtype, outcome, value, low, high in meta["figures"])
    assert expected, f"{path.with_suffix('.json')} lists no figures"
    problem = failure_of(path.read_bytes(), expected)
    assert problem is None, problem


def write_fixture(name: str, page: GeneratedPage, what: str, known_gap: str = "") -> Path:
    """Save a (shrunk) failing page as a fixture: NAME.html, with a comment saying what it tests, and
    NAME.json, the figures it must give."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    comment = f"<!-- Generated by tests/scrapers/test_transparency_generated.py (family {page.family}): {what} -->\n"
    html = page.html.replace("<!DOCTYPE html>\n", "<!DOCTYPE html>\n" + comment, 1)
    target = GENERATED / f"{name}.html"
    target.write_text(html, encoding="utf-8")
    figures = sorted(json.dumps([s.isoformat(), e.isoformat(), *rest]) for s, e, *rest in page.expected)
    head = {"what": what, "family": page.family, **({"known_gap": known_gap} if known_gap else {})}
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    text = "{\n" + "\n".join(lines) + '\n "figures": [\n  ' + ",\n  ".join(figures) + "\n ]\n}\n"
    target.with_suffix(".json").write_text(text, encoding="utf-8")
    return target


def shrink_failure(family: str, *, other: bool = False, match: str = "", where: str = "", distinct: bool = False,
                   examples: int = 2000) -> GeneratedPage | None:
    """The smallest page of `family` that fails with a failure matching the regular expression `match`; or,
    given `where`, the smallest page whose HTML matches it (a layout that failed once, kept as a guard).
    `distinct`: its figures' values distinct and not 0, so that a value given to the wrong type shows."""
    from hypothesis import find
    from hypothesis.errors import NoSuchExample

    def wanted(page: GeneratedPage) -> bool:
        if distinct:
            values = [fig[5] for fig in page.expected if fig[5] is not None]
            if 0 in values or len(set(values)) != len(values):
                return False
        if where:
            return re.search(where, page.html, re.S) is not None
        problem = failure_of(page.html.encode(), page.expected)
        return problem is not None and re.search(match, problem) is not None

    try:
        return find(report_pages(family, other=other), wanted,
                    settings=settings(PROPERTY_SETTINGS, max_examples=examples))
    except NoSuchExample:
        return None


def _option(name: str) -> str:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else ""


if __name__ == "__main__":  # see the module docstring
    family_arg, name_arg, what_arg = sys.argv[1:4]
    shrunk = shrink_failure(family_arg, other="--other" in sys.argv, match=_option("--match"),
                            where=_option("--where"), distinct="--distinct" in sys.argv,
                            examples=int(_option("--examples") or 2000))
    if shrunk is None:
        print(f"no such page found in family {family_arg}")
        sys.exit(1)
    problem_found = failure_of(shrunk.html.encode(), shrunk.expected) or ""
    print(shrunk.html, problem_found or "(the parser reads it)", sep="\n")
    print(write_fixture(name_arg, shrunk, what_arg, known_gap=problem_found and (_option("--gap") or problem_found)))
