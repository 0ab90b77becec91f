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
    ("all", re.compile(
        r"^\s*(grand\s+)?totals?\b|\blegal (demands|requests|process)\b|\ball (law enforcement )?"
        r"(requests|demands)\b|\btotal (number of )?(law enforcement )?(information )?(requests|demands)|"
        r"^\s*(?:(?:law enforcement|legal|information|government)\s+)*(requests|demands)\s+(by|per|from)\b",
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
    for name, pattern in REQUEST_TYPES:
        if pattern.search(label):
            return name
    return None


def types_named(text: str) -> set[str]:
    """Every request type the text names anywhere."""
    return {name for name, pattern in REQUEST_TYPES if pattern.search(text)}


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
