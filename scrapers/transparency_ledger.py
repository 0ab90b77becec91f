"""The ledger of a report page: every number in its main content, accounted for exactly once.

A reader that guesses can guess wrong on a page nobody has seen; what it must never do is lose a
number without a word. So the numbers are counted apart from the reading: every run of digits in
the text of the page's main content (thousands separators, no-break and thin spaces between
digit groups and a decimal part belong to the number; digits glued to letters, as in "H1" or
"26th", are part of a word; attributes, comments, scripts and the noise removed before reading
hold none). Each is then, from what the reader recorded while it read:

- *placed*: read as (part of) a figure that was kept: type, outcome, country and period;
- *explained*: not a count, for a reason `terms.not_counts` or the page's structure gives (a date
  or year, a period bound, a percentage, a legal citation, a footnote or its marker, the other
  end of a placed range, ...);
- *unplaced*: anything else, and every number the reader took for a figure but could not place
  (no type anywhere around it, no period, given twice with different values). Each becomes an
  `unplaced_number` warning quoting it in its context.

The reader reports numbers by where they were written (`Text` keeps, for each number in a piece
of text it reads, the text node and offset it came from), so the count and the reading cannot
drift apart: a number the reader never saw is unplaced, never silently skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeGuard

from bs4.element import NavigableString, PreformattedString, Script, Stylesheet, TemplateString

from ringwatch.scrapers.records import PageLedger, QualityWarning
from ringwatch.scrapers.transparency_terms import not_counts

# Where a number was written: the id of its text node and its offset in that node.
NumberKey = tuple[int, int]
_GROUP = "[,\u00a0\u202f\u2009\u2007]"
NUMBER = re.compile(rf"\d{{1,3}}(?:{_GROUP}\d{{3}})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?")
_GROUP_SPACE = re.compile(r"(?<=\d)[\u00a0\u202f\u2009\u2007](?=\d{3}(?!\d))")
_DIGIT = re.compile(r"\d")
_DROPPED = re.compile(r"(?:\s|[¹²³⁴⁵⁶⁷⁸⁹⁰])+")
QUOTE_CHARS = 160


def is_text(piece: object) -> TypeGuard[NavigableString]:
    """Text a reader sees: not a comment, CDATA, doctype, script, style or template."""
    return isinstance(piece, NavigableString) and not isinstance(
        piece, (PreformattedString, Script, Stylesheet, TemplateString))


def _glued(text: str, at: int) -> bool:
    return 0 <= at < len(text) and (text[at].isalpha() or text[at] == "_")


def numbers_in(text: str) -> list[tuple[int, int]]:
    """Spans of the numbers written in `text` (digits glued to a letter are part of a word)."""
    if not _DIGIT.search(text):
        return []
    return [m.span() for m in NUMBER.finditer(text) if not (_glued(text, m.start() - 1) or _glued(text, m.end()))]


class Text(str):
    """Page text as the reader reads it (white space collapsed, digit groups joined by commas,
    superscript markers dropped) that knows where each of its numbers was written."""

    numbers: tuple[tuple[int, int, NumberKey], ...]

    def __new__(cls, value: str, numbers: tuple[tuple[int, int, NumberKey], ...] = ()) -> Text:
        made = super().__new__(cls, value)
        made.numbers = numbers
        return made


def gather(pieces: Iterable[object]) -> Text:
    """Text nodes, texts already gathered and plain separators, joined by spaces and cleaned."""
    parts: list[str] = []
    spans: list[tuple[int, int, NumberKey]] = []
    at = 0
    for piece in pieces:
        if isinstance(piece, Text):
            spans.extend((a + at, b + at, key) for a, b, key in piece.numbers)
        elif isinstance(piece, NavigableString):
            spans.extend((a + at, b + at, (id(piece), a)) for a, b in numbers_in(str(piece)))
        value = str(piece)
        parts.append(value)
        parts.append(" ")
        at += len(value) + 1
    return clean_text("".join(parts), spans)


def clean_text(raw: str, spans: list[tuple[int, int, NumberKey]]) -> Text:
    """`raw` with white space collapsed, superscript digits dropped and digit groups joined by
    no-break or thin spaces given commas; each number's span moved to where it now stands."""
    raw = _GROUP_SPACE.sub(",", raw)  # same length: spans stay put
    out: list[str] = []
    chunks: list[tuple[int, int, int]] = []  # (raw start, raw end, out start) of each kept run
    size, kept, space = 0, 0, False
    for start, end in [*(m.span() for m in _DROPPED.finditer(raw)), (len(raw), len(raw))]:
        if start > kept:
            if space and size:
                out.append(" ")
                size += 1
            chunks.append((kept, start, size))
            out.append(raw[kept:start])
            size += start - kept
            space = False
        space = space or any(ch.isspace() for ch in raw[start:end])
        kept = end
    moved: list[tuple[int, int, NumberKey]] = []
    chunk = 0
    for a, b, key in sorted(spans):
        while chunk < len(chunks) and chunks[chunk][1] <= a:
            chunk += 1
        if chunk < len(chunks) and chunks[chunk][0] <= a and b <= chunks[chunk][1]:
            start = chunks[chunk][2] + a - chunks[chunk][0]
            moved.append((start, start + b - a, key))
    return Text("".join(out), tuple(moved))


def quote(text: str, start: int, end: int) -> str:
    """About QUOTE_CHARS characters of `text` around [start, end), white space collapsed."""
    if len(text) <= QUOTE_CHARS:
        return " ".join(text.split())
    half = (QUOTE_CHARS - (end - start)) // 2
    left, right = max(0, start - half), min(len(text), end + half)
    return ("…" if left else "") + " ".join(text[left:right].split()) + ("…" if right < len(text) else "")


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where the reader first read a number: the text it stood in and the structure around it."""

    text: str
    start: int
    end: int
    path: str  # the headings above it, outermost first: "Law Enforcement Requests 2021 > Court Orders"
    label: str  # the innermost label around it (list item lead, term, summary, caption), if any

    def context(self) -> str:
        where = f"under {self.path}" if self.path else "before any heading"
        return f"{where}, in {self.label!r}" if self.label else where


@dataclass(frozen=True, slots=True)
class NumberEntry:
    """One number of the page and how it was accounted for (for tests and for explaining a page)."""

    written: str
    status: str  # placed | explained | unplaced
    reason: str  # the figure it was placed in, why it is no count, or why it could not be placed
    context: str
    quote: str


@dataclass
class Book:
    """What the reader recorded about numbers while it read a page."""

    sightings: dict[NumberKey, Sighting] = field(default_factory=dict)
    explained: dict[NumberKey, str] = field(default_factory=dict)
    tried: dict[NumberKey, str] = field(default_factory=dict)
    placed: dict[NumberKey, str] = field(default_factory=dict)

    def saw(self, text: str, path: str, label: str) -> None:
        """Record where the numbers of `text` stand, and explain those the text shows are no counts."""
        numbers = getattr(text, "numbers", ())
        if not numbers:
            return
        for start, end, key in numbers:
            if key not in self.sightings:
                self.sightings[key] = Sighting(str(text), start, end, path, label)
        for start, end, reason in not_counts(text):
            for a, b, key in numbers:
                if a < end and start < b:
                    self.explained.setdefault(key, reason)

    def explain(self, text: str, reason: str) -> None:
        """Every number of `text` not otherwise explained is no count, for `reason`."""
        for _a, _b, key in getattr(text, "numbers", ()):
            self.explained.setdefault(key, reason)

    def try_to_place(self, keys: Iterable[NumberKey], why: str) -> None:
        """The reader took these numbers for a figure and could not place it: they stay unplaced."""
        for key in keys:
            self.tried.setdefault(key, why)

    def place(self, keys: list[NumberKey], figure: str) -> None:
        """Numbers read as one kept figure: the first placed, the other end of a range explained."""
        for index, key in enumerate(keys):
            if index == 0:
                self.placed.setdefault(key, figure)
            else:
                self.explained.setdefault(key, f"the other end of the range placed as {figure}")


def keys_in(text: str, start: int, end: int) -> list[NumberKey]:
    """The numbers of `text` within [start, end), in order."""
    return [key for a, b, key in getattr(text, "numbers", ()) if a < end and start < b]


@dataclass(frozen=True, slots=True)
class Written:
    """A number as the enumeration found it in the page's text."""

    key: NumberKey
    written: str
    node_text: str
    start: int
    path: str
    footnote: str | None  # why its place in the page makes it no count (a footnote or its marker)


def account(found: list[Written], book: Book, *, url: str) -> tuple[PageLedger, list[QualityWarning],
                                                                     list[NumberEntry]]:
    """Each number found, accounted for once: placed, else (taken for a figure but not placed)
    unplaced, else explained, else unplaced. Returns the counts, one `unplaced_number` warning per
    unplaced number, and every number's entry."""
    entries: list[NumberEntry] = []
    warnings: list[QualityWarning] = []
    for number in found:
        seen = book.sightings.get(number.key)
        context = seen.context() if seen else (f"under {number.path}" if number.path else "before any heading")
        shown = quote(seen.text, seen.start, seen.end) if seen else quote(
            re.sub(r"\s", " ", number.node_text), number.start, number.start + len(number.written))
        if number.key in book.placed:
            status, reason = "placed", book.placed[number.key]
        elif number.key in book.tried:
            status, reason = "unplaced", book.tried[number.key]
        elif number.key in book.explained:
            status, reason = "explained", book.explained[number.key]
        elif number.footnote:
            status, reason = "explained", number.footnote
        else:
            status = "unplaced"
            reason = ("is not read as a figure: nothing in its sentence, cell or label ties it to a request type or "
                      "outcome" if seen else "stands where the reader does not look for figures")
        entries.append(NumberEntry(number.written, status, reason, context, shown))
        if status == "unplaced":
            warnings.append(QualityWarning(
                kind="unplaced_number", subject=number.written,
                detail=(f"{url}: the number {number.written} in {shown!r} ({context}) {reason}; it was not loaded, "
                        "and it is not a date, footnote, citation or other number known to be no count. If it "
                        "is a count, teach scrapers/transparency_layout.py this layout and run 'ringwatch reparse'."),
            ))
    counts = {status: sum(e.status == status for e in entries) for status in ("placed", "explained", "unplaced")}
    return PageLedger(seen=len(entries), **counts), warnings, entries
