"""The vocabulary of Ring's transparency reports: request types, outcomes, periods, countries.

Figures are found by their labels, so this module is where a new label is taught. Every
function is pure and returns None for a label it does not know.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

import pycountry

from ringwatch.scrapers.records import Period

# Canonical request types; "all" is every legal demand together (a total).
REQUEST_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("national_security_requests", re.compile(
        r"national[\s-]+security|\bnsls?\b|\bfisa\b|foreign intelligence", re.I)),
    ("non_us_requests", re.compile(
        r"non[\s-]*u\.?\s?s\.?(?![a-z])|\binternational\b|\bforeign\b|outside (of )?the (united states|u\.?s\.?)",
        re.I)),
    ("preservation_requests", re.compile(r"preservation", re.I)),
    ("emergency_requests", re.compile(r"emergenc", re.I)),
    ("search_warrants", re.compile(r"\b(search\s+)?warrants?\b", re.I)),
    ("subpoenas", re.compile(r"\bsubpo?enas?\b", re.I)),
    ("court_orders", re.compile(r"\bcourt\s+orders?\b|\b2703\s*\(d\)\s+orders?\b", re.I)),
    # Only words that name legal demands as a whole ("other legal process" is a part of them): a
    # bare "Total" or "Number of requests" is a total of whatever type is in scope (is_total).
    ("all", re.compile(
        r"(?<!\bother\s)\blegal (demands|requests|process)\b|\ball (law enforcement |legal |government )?"
        r"(requests|demands)\b",
        re.I)),
)

OUTCOMES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("partial_response", re.compile(r"\bpartial(ly)?\b|\bin part\b", re.I)),
    ("no_response", re.compile(
        r"\bno (response|data|information|content)\b|\bnone\b|\bdid not (respond|provide|comply)|"
        r"\bnot (respond|provide|comply)|\bnot at all\b|\brejected\b|\bdeclined\b", re.I)),
    ("full_response", re.compile(r"\bfull(y)?\b|\bcomplete(ly)? (response|compl)", re.I)),
    ("received", re.compile(
        r"\breceived\b|\breceipts?\b|^\s*(total|number|count)(\s+of)?(\s+(requests|demands))?\s*$|"
        r"^\s*(requests|demands)\s*$", re.I)),
)

# Labelled figures that are neither a request type nor an outcome: kept under their own
# outcome name, with request type "all" unless the context says otherwise.
OTHER_FIGURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("users_notified", re.compile(r"\b(users?|customers?|account holders?) (were )?notified\b|"
                                  r"\bnotified\b.*\b(users?|customers?)\b", re.I)),
    ("accounts_affected", re.compile(r"\baccounts? (affected|specified)\b", re.I)),
)

_COUNTRY_ALIASES = {
    "us": "US", "u.s.": "US", "u.s": "US", "usa": "US", "u.s.a.": "US", "united states": "US",
    "united states of america": "US", "uk": "GB", "u.k.": "GB", "great britain": "GB",
    "england": "GB", "south korea": "KR", "korea": "KR", "russia": "RU",
    "total": "ALL", "all countries": "ALL", "worldwide": "ALL", "all": "ALL",
}
_NOT_COUNTRIES = {"other", "others", "n/a", "na", "-", "none"}


def request_type_of(label: str) -> str | None:
    """The one request type a label names. A label that names several ("Preservation and emergency
    requests") names none of them, unless it says the others are included in the first ("All
    requests, including emergency requests")."""
    found = [(m.start(), name) for name, pattern in REQUEST_TYPES for m in [pattern.search(label)] if m]
    if len(found) <= 1:
        return found[0][1] if found else None
    including = re.search(r"\binclud", label, re.I)
    if including:
        before = sorted(f for f in found if f[0] < including.start())
        if len({name for _, name in before}) == 1:
            return before[0][1]
    return None


# The nouns of legal process ("Pen register orders", "Other legal process"), to tell a heading that
# names a type ringwatch has no name for from one that names none ("Summary", "Other requests").
_LEGAL_NOUN = re.compile(r"\b(?:legal\s+process|orders?|warrants?|subpo?enas?|letters?|summons(?:es)?|writs?|"
                         r"applications?|certifications?)\b", re.I)


def unnamed_type_of(text: str) -> str | None:
    """The type a heading, summary, term or caption names when ringwatch has no name for it: the
    slug of its words ("Other legal process" -> other_legal_process); None when it names a known
    type, several, or none."""
    if types_named(text) or not _LEGAL_NOUN.search(text):
        return None
    words = re.sub(r"\([^)]*\)|\b(?:19|20)\d\d\b|\bH[12]\b", " ", strip_dates(text))
    return slug(words.strip(" ,:;.-–—")) if slug(words) != "unlabelled" else None


def types_named(text: str) -> set[str]:
    """Every request type the text names anywhere."""
    return {name for name, pattern in REQUEST_TYPES if pattern.search(text)}


def several_types(text: str) -> bool:
    """Whether the text names more than one request type ("Preservation and emergency requests"),
    so that it gives none of them to what it holds."""
    return request_type_of(text) is None and len(types_named(text)) > 1


_KIND = r"(?:law\s+enforcement|information|government)"
_TOTAL = re.compile(
    rf"^(?:(?:grand\s+)?totals?|number|count)(?:\s+number)?(?:\s+of)?(?:\s+{_KIND})*"
    r"(?:\s+(?:requests?|demands?))?(?:\s+received)?$"
    rf"|^(?:{_KIND}\s+)*(?:requests?|demands?)\s+received$"
    r"|^received$"
    rf"|^(?:{_KIND}\s+)*(?:requests?|demands?)\s+(?:by|per|from)\b.*$",
    re.I)


def is_total(label: str) -> bool:
    """Whether a label is a total that names no type: "Total", "Total received", "Received",
    "Number of requests", "Requests by country". It counts the type in scope, or every legal
    demand where no type is in scope; a total that names legal demands is `all` by its words."""
    text = strip_dates(label)
    text = re.sub(r"\([^)]*\)|\b(?:19|20)\d\d\b|[*:†‡.]", " ", text)
    text = re.sub(r"\s+(?:in|for|during|of|as of)\s*$", "", " ".join(text.split()), flags=re.I)
    return bool(_TOTAL.match(text))


def outcome_of(label: str) -> str | None:
    for name, pattern in OUTCOMES:
        if pattern.search(label):
            return name
    return None


def other_figure_of(label: str) -> str | None:
    for name, pattern in OTHER_FIGURES:
        if pattern.search(label):
            return name
    return None


def slug(label: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", label.lower())) or "unlabelled"


def country_of(label: str) -> str | None:
    """ISO 3166 alpha-2 code for a country name or code; 'ALL' for a total row."""
    text = " ".join(label.split()).strip(" :*").lower()
    if not text or text in _NOT_COUNTRIES or any(ch.isdigit() for ch in text):
        return None
    if text in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[text]
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


# -- periods ------------------------------------------------------------------------------

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DASH = r"\s*(?:-|–|—|to|through|until)\s*"
_DATE_RANGE = re.compile(
    rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})?{_DASH}{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})",
    re.I)
# "July–December 2022", "Jan-Jun 2021", "January through June 2021": whole months.
_MONTH_RANGE = re.compile(rf"\b{_MONTH}{_DASH}{_MONTH},?\s+(\d{{4}})\b", re.I)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*[-–—]?\s*\d)(?![,.]\d)", re.I)
_HALF = re.compile(
    r"\b(?:H([12])\s*[-/]?\s*(\d{4})|(\d{4})\s*[-/ ]?\s*H([12])|(first|second|1st|2nd) half of (\d{4}))\b", re.I)
_YEAR = re.compile(r"(?<![\d,.$])\b(20[12]\d)\b(?![\d,])")
_DATE = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b{_MONTH},?\s+(\d{{4}})\b", re.I)


def _month(text: str) -> int:
    key = text.lower().rstrip(".")
    return _MONTHS.get(key) or _MONTHS[key[:3]]


def find_periods(text: str) -> list[Period]:
    """Every reporting period written in `text`, in order: ranges, halves, then years.

    A year inside a range or a half is not reported again on its own.
    """
    found: list[tuple[int, Period]] = []
    taken: list[tuple[int, int]] = []
    for m in _DATE_RANGE.finditer(text):
        end_year = int(m[6])
        start_year = int(m[3]) if m[3] else end_year
        try:
            period = Period(date(start_year, _month(m[1]), int(m[2])),
                            date(end_year, _month(m[4]), int(m[5])), m[0].strip())
        except ValueError:
            continue
        if period.start <= period.end:
            found.append((m.start(), period))
            taken.append(m.span())
    for m in _MONTH_RANGE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        span_year, first, last = int(m[3]), _month(m[1]), _month(m[2])
        if first <= last:
            end = date(span_year, last, calendar.monthrange(span_year, last)[1])
            found.append((m.start(), Period(date(span_year, first, 1), end, m[0].strip())))
            taken.append(m.span())
    for m in _HALF.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        half, year = (m[1], m[2]) if m[1] else (m[4], m[3]) if m[4] else (
            "1" if m[5].lower() in ("first", "1st") else "2", m[6])
        y = int(year)
        period = (Period(date(y, 1, 1), date(y, 6, 30), m[0].strip()) if half == "1"
                  else Period(date(y, 7, 1), date(y, 12, 31), m[0].strip()))
        found.append((m.start(), period))
        taken.append(m.span())
    taken += [m.span() for m in _DATE.finditer(text)]  # the year of one day ("August 15, 2022") is no period
    for m in _YEAR.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        y = int(m[1])
        found.append((m.start(), Period(date(y, 1, 1), date(y, 12, 31), m[1])))
    return [p for _, p in sorted(found, key=lambda item: item[0])]


def find_date(text: str) -> date | None:
    """The first date written like 'January 20, 2021'."""
    m = _DATE.search(text)
    if not m:
        return None
    try:
        return date(int(m[3]), _month(m[1]), int(m[2]))
    except ValueError:
        return None


def strip_dates(text: str) -> str:
    """Blank out dates and date ranges so their numbers are never read as figures."""
    for pattern in (_DATE_RANGE, _MONTH_RANGE, _HALF, _DATE, _MONTH_DAY):
        text = pattern.sub(lambda m: " " * len(m[0]), text)
    return text


# -- numbers that are not counts ---------------------------------------------------------------

_NUM = r"(?<![\d,.])\d[\d,]*(?:\.\d+)?"  # from its first digit only: a long run is read once, not once per digit
# Each: a pattern whose match holds numbers that are not counts of requests, and what they are.
# Only what is surely not a count belongs here: a number the page may mean as a count, however
# unlikely, must stay unplaced and be warned about (the ledger, scrapers/transparency_ledger.py).
NOT_COUNTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?:{_NUM}\s*(?:-|–|—|to)\s*)?{_NUM}\s*(?:%|percent\b|per\s+cent\b|percentage\s+points?\b)", re.I),
     "a percentage"),
    (re.compile(rf"[$€£¥]\s*{_NUM}|{_NUM}\s*(?:dollars|usd|euros?)\b", re.I), "an amount of money"),
    (re.compile(r"\b\d+\s*U\.?\s?S\.?\s?C\.?\s*(?:§+\s*)?\d+[a-z]?(?:\s*\([a-z0-9]+\))*"
                r"(?:\s*(?:-|–|,|and|to)\s*\d+[a-z]?(?:\s*\([a-z0-9]+\))*)*"
                r"|\b\d+\s*C\.?\s?F\.?\s?R\.?\s*(?:§+\s*)?\d+(?:\.\d+)*"
                r"|(?:§+|\bsections?\b|\bsec\.|\btitle\b|\bchapter\b|\brule\b|\barticle\b|\bart\.|\bpub(?:lic)?\.?\s*l(?:aw)?\.?"
                r"(?:\s*no\.)?)\s*\d+[a-z]?(?:-\d+)?(?:\s*\([a-z0-9]+\))*"
                r"|\b\d{3,4}\s*\([a-z]\)(?:\s*\(\d+\))*", re.I), "a legal citation"),
    (re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s*|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b"), "a phone number"),
    (re.compile(r"\b\d{1,6}\s+(?:[A-Z0-9][\w'.-]*\s+){1,4}(?:St|Street|Ave|Avenue|Blvd|Boulevard|Rd|Road|Dr|Drive|"
                r"Ln|Lane|Pkwy|Parkway|Hwy|Highway)\b|\b(?:Suite|Ste\.?|P\.?\s?O\.?\s+Box)\s+\d+"
                r"|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"), "an address"),
    (re.compile(rf"\b{_NUM}(?:\s*(?:-|–|to)\s*{_NUM})?[\s-]*(?:business\s+)?(?:seconds?|minutes?|hours?|days?|weeks?|"
                r"months?|years?)\b", re.I), "a length of time"),
    (re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\b\.?|utc\b|gmt\b)", re.I), "a time of day"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"), "a date"),
    (re.compile(r"(?<![\d,.])\b(?:19|20)\d\d\b(?![,.]?\d)"), "a year"),
    (re.compile(r"\[\d{1,3}\]"), "a footnote marker"),
    (re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})+|\d{1,2}[.)])(?=\s)"), "a list or section number"),
)


def not_counts(text: str) -> list[tuple[int, int, str]]:
    """Spans of `text` that hold numbers which are not counts: dates and periods (and their
    bounds), years, percentages, money, legal citations, phone numbers, addresses, lengths of time,
    footnote markers, the number of a list item or section."""
    spans = [(m.start(), m.end(), "a date or reporting period")
             for pattern in (_DATE_RANGE, _MONTH_RANGE, _HALF, _DATE, _MONTH_DAY, _MONTH_YEAR)
             for m in pattern.finditer(text)]
    spans += [(m.start(), m.end(), what) for pattern, what in NOT_COUNTS for m in pattern.finditer(text)]
    return spans
