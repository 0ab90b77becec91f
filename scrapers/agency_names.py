"""Name keys: the comparison form of an agency's name, city and state.

The map has been typed by different hands over the years ("Police Dept.", "PD", "Sheriff's
Office", "St. Louis County Police"), the EFF Atlas by others again. A name key folds the
variations people make without meaning another agency (case, punctuation, spacing, "The",
the usual abbreviations) so that the same agency gets the same key. It never folds the city
or the state away: two agencies of one name in two places keep two keys.

Pure and idempotent: normalizing a normalized name returns it unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

from ringwatch.scrapers.normalize import normalize_state, uuid_from_profile

# Abbreviation -> the words it stands for. Applied to whole words after punctuation is gone,
# so "Dept." and "Dept" are one token, and "P.D." has become "pd".
_WORDS: dict[str, str] = {
    "dept": "department", "dpt": "department", "depart": "department",
    "pd": "police department", "fd": "fire department", "so": "sheriff office",
    "dps": "department of public safety",
    "twp": "township", "twsp": "township", "cnty": "county", "cty": "county",
    "st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort", "pt": "point",
    "dist": "district", "pub": "public", "div": "division", "prot": "protection", "svcs": "services",
    "svc": "service", "srvs": "services", "auth": "authority", "hwy": "highway", "twn": "town",
    "hts": "heights", "vlg": "village", "vill": "village", "boro": "borough",
    "univ": "university", "co": "county", "intl": "international", "natl": "national",
    "ofc": "office", "sheriffs": "sheriff", "sherriff": "sheriff",
    "sherriffs": "sheriff", "officers": "officer", "constables": "constable",
    "marshals": "marshal", "&": "and", "n": "north", "s": "south", "e": "east", "w": "west",
}
_SPELLED_OUT: dict[str, tuple[str, ...]] = {short: tuple(long.split()) for short, long in _WORDS.items()}
# "Co" is County, except after a fire-service word, where it is Company ("Hose Co. No. 1").
_COMPANY_AFTER = frozenset({"fire", "hose", "engine", "ladder", "rescue", "ambulance", "volunteer"})
# Dropped wherever they stand: they never tell two agencies apart.
_NOISE = frozenset({"the"})
# Apostrophes and dots join ("Sheriff's" -> "sheriffs", "P.D." -> "pd"); every other
# punctuation mark separates words.
_JOINERS = re.compile(r"[.'\u2019\u2018`]")
_SEPARATORS = re.compile(r"[^\w&]+")


@functools.lru_cache(maxsize=65536)
def normalize_agency_name(value: str | None) -> str:
    """Lower case, no accents, no punctuation, "The" gone, abbreviations spelled out."""
    if not value:
        return ""
    if value.isascii():  # nearly every name: NFKD changes no ASCII text and none of it is a combining mark
        text = value.lower()
    else:
        text = unicodedata.normalize("NFKD", value)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _JOINERS.sub("", text)
    text = text.replace("&", " & ")
    words: list[str] = []
    for token in _SEPARATORS.split(text):
        if not token or token in _NOISE:
            continue
        if token == "co" and words and words[-1] in _COMPANY_AFTER:
            words.append("company")
            continue
        spelled = _SPELLED_OUT.get(token)
        if spelled is None:
            words.append(token)
        else:
            words.extend(spelled)
    return " ".join(words)


def name_key_for(name: str | None, city: str | None, state: str | None) -> str:
    """`name|city|ST`, each part normalized; empty parts stay empty, never dropped.

    The state is the USPS code when it can be read, else the text as normalized, so an
    unreadable state never matches a readable one.
    """
    code = normalize_state(state) if state else None
    state_part = code or normalize_agency_name(state)
    return "|".join((normalize_agency_name(name), normalize_agency_name(city), state_part))


def agency_id_for(*, profile_url: str | None, name: str, city: str | None, state: str | None) -> str:
    """The id a placemark has on its own, before identity resolution: the profile uuid when
    there is one, else `h-` and a hash of its name key.

    The quality gates merge placemarks of one snapshot that share it; the warehouse then
    resolves ids across snapshots (warehouse/identity.py), where a name-only agency takes
    the same `h-` id as here unless a profile or an alias links it to another key.
    """
    uuid = uuid_from_profile(profile_url)
    if uuid:
        return uuid
    key = "name:" + name_key_for(name, city, state)
    return "h-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
