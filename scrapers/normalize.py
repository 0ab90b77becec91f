"""Normalizers shared by every source: states, agency types, dates, identities.

Each is pure and idempotent (normalizing a normalized value returns it unchanged), which
the property tests check.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime

# USPS codes: the states, DC, the inhabited territories and the military "states".
STATE_NAMES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA",
    "kansas": "KS", "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD",
    "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS",
    "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC",
    "south dakota": "SD", "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT",
    "virginia": "VA", "washington": "WA", "west virginia": "WV", "wisconsin": "WI",
    "wyoming": "WY", "district of columbia": "DC", "washington dc": "DC",
"puerto rico": "PR", "guam": "GU",
"us virgin islands": "VI", "virgin islands": "VI",
    "united states virgin islands": "VI", "northern mariana islands": "MP",
    "commonwealth of the northern mariana islands": "MP", "american samoa": "AS",
    "armed forces americas": "AA", "armed forces europe": "AE", "armed forces pacific": "AP",
}
USPS_CODES: frozenset[str] = frozenset(STATE_NAMES.values())

_COUNTRY_SUFFIXES = {"usa", "us", "u.s.", "u.s.a.", "united states", "united states of america"}
_ZIP = re.compile(r"\s*\b\d{5}(?:-\d{4})?$")


@functools.lru_cache(maxsize=4096)
def normalize_state(value: str | None) -> str | None:
    """Return the USPS code for a state written as a code or a name, else None.

    Dots are ignored ("N.C.", "U.S. Virgin Islands") and a trailing ZIP code is dropped.
    """
    if not value:
        return None
    text = _ZIP.sub("", " ".join(value.split())).strip(" ,")
    key = " ".join(text.lower().replace(".", "").split())
    if len(key.replace(" ", "")) == 2 and key.replace(" ", "").upper() in USPS_CODES:
        return key.replace(" ", "").upper()
    return STATE_NAMES.get(key)


def split_address(address: str | None) -> tuple[str | None, str | None]:
    """Split the map's `City, ST` address (state possibly spelled out) into city and code.

    Tolerates a ZIP code, a trailing country and a street before the city. Returns
    (city, None) when the last part is not a state, so the caller can report it.
    """
    if not address:
        return None, None
    parts = [" ".join(p.split()) for p in address.split(",")]
    parts = [p for p in parts if p]
    while parts and parts[-1].lower() in _COUNTRY_SUFFIXES:
        parts.pop()
    if not parts:
        return None, None
    if len(parts) == 1:
        state = normalize_state(parts[0])
        return (None, state) if state else (parts[0], None)
    state = normalize_state(parts[-1])
    if state is None:
        return parts[-2] if len(parts) >= 2 else None, None
    return parts[-2], state


# Checked in this order: a "Fire Marshal" is fire, a "Town Marshal" is police.
_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("sheriff", re.compile(r"\bsheriff", re.I)),
    ("police", re.compile(r"\b(police|polic[ií]a|patrol|constables?|law enforcement|pd)\b", re.I)),
    ("fire", re.compile(r"\b(fire|firefighters?|ems|rescue|fd)\b", re.I)),
    ("police", re.compile(r"\b(marshals?|public safety|dps)\b", re.I)),
)
# The same rules for ASCII text, lower-cased once: a map's names are almost all ASCII, and a
# case-sensitive search is quicker. Other text keeps the rules above (re.I also folds the
# Kelvin sign, the long s and dotted capitals, which str.lower() does not).
_ASCII_TYPE_RULES = tuple((agency_type, re.compile(pattern.pattern)) for agency_type, pattern in _TYPE_RULES)


def _type_in(text: str) -> str | None:
    if text.isascii():
        text, rules = text.lower(), _ASCII_TYPE_RULES
    else:
        rules = _TYPE_RULES
    for agency_type, pattern in rules:
        if pattern.search(text):
            return agency_type
    return None


@functools.lru_cache(maxsize=256)
def _layer_type(layer: str) -> str | None:
    """A layer name's type, if it says one: a map has a handful of layers, read once each."""
    return None if "law enforcement" in layer.lower() else _type_in(layer)


def classify_agency(name: str, layer: str | None) -> tuple[str, str]:
    """Return (agency_type, basis): from the layer name when it says, else from the name.

    A layer called "Law Enforcement" does not say police or sheriff, so the name decides;
    a layer called "Fire Departments" does.
    """
    if layer:
        from_layer = _layer_type(layer)
        if from_layer:
            return from_layer, "layer"
    return _type_in(name) or "other", "name"


_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


@functools.lru_cache(maxsize=65536)
def parse_active_date(value: str | None) -> date | None:
    """Parse `M/D/YY`, `M/D/YYYY` or ISO `YYYY-MM-DD`; empty is None; anything else raises.

    Two-digit years are 20YY: the program started in 2018, so no earlier date is possible.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if m := _SLASH_DATE.match(text):
        month, day, year = int(m[1]), int(m[2]), int(m[3])
        if year < 100:
            year += 2000
        return date(year, month, day)
    if m := _ISO_DATE.match(text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    raise ValueError(f"not a date in M/D/YY, M/D/YYYY or YYYY-MM-DD form: {value!r}")


def clean_text(value: str | None) -> str:
    """Collapse runs of white space (CDATA names often carry newlines and tabs)."""
    return " ".join((value or "").split())


def name_key(value: str) -> str:
    """The comparison form of a name: case-folded, punctuation dropped, spaces collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", value.casefold()).split())


_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I
)


_PROFILE_PREFIX = "https://agency.ring.com/agencies/"


def uuid_from_profile(url: str | None) -> str | None:
    """Ring's `https://agency.ring.com/agencies/<uuid>` carries the agency's stable id: the
    first uuid in the URL, whatever else it holds. Every placemark has one, so the plain
    form is matched where it stands rather than searched for."""
    if not url:
        return None
    if len(url) == len(_PROFILE_PREFIX) + 36 and url.startswith(_PROFILE_PREFIX) and (
            m := _UUID.match(url, len(_PROFILE_PREFIX))):
        return m[0].lower()
    m = _UUID.search(url)
    return m[0].lower() if m else None


_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def parse_number(value: str | None) -> float | None:
    """A plain number, its thousands grouped by commas or not, else None ("1,2,3" is no number:
    its commas group nothing)."""
    if value is None:
        return None
    text = value.strip()
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    return float(text.replace(",", ""))


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC: every time in ringwatch is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
