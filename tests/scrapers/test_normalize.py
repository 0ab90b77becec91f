from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwatch.scrapers.agency_names import agency_id_for
from ringwatch.scrapers.normalize import (
    _TYPE_RULES,
    _UUID,
    STATE_NAMES,
    USPS_CODES,
    _type_in,
    classify_agency,
    normalize_state,
    parse_active_date,
    parse_number,
    split_address,
    uuid_from_profile,
)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Greenfield, CA", ("Greenfield", "CA")),
        ("Louisville, Kentucky", ("Louisville", "KY")),
        ("Raleigh, North Carolina", ("Raleigh", "NC")),
        ("San Juan, PR", ("San Juan", "PR")),
        ("Hagatna, Guam", ("Hagatna", "GU")),
        ("Charlotte Amalie, U.S. Virgin Islands", ("Charlotte Amalie", "VI")),
        ("Saipan, Northern Mariana Islands", ("Saipan", "MP")),
        ("Washington, District of Columbia", ("Washington", "DC")),
        ("Austin, TX 78701", ("Austin", "TX")),
        ("Austin, Texas, USA", ("Austin", "TX")),
        ("1 Main St, Austin, tx", ("Austin", "TX")),
        ("Austin, N.C.", ("Austin", "NC")),
        ("Austin, Atlantis", ("Austin", None)),
        ("Texas", (None, "TX")),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_split_address(address: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_address(address) == expected


def test_every_state_name_maps_to_a_usps_code() -> None:
    for name, code in STATE_NAMES.items():
        assert normalize_state(name.title()) == code
        assert normalize_state(code.lower()) == code


@given(st.sampled_from(sorted(STATE_NAMES)) | st.sampled_from(sorted(USPS_CODES)) | st.text(max_size=30))
def test_normalize_state_is_idempotent(value: str) -> None:
    once = normalize_state(value)
    if once is not None:
        assert normalize_state(once) == once


@pytest.mark.parametrize(
    ("name", "layer", "expected"),
    [
        ("Greenfield Police Department", None, ("police", "name")),
        ("Jefferson County Sheriff's Office", "Law Enforcement", ("sheriff", "name")),
        ("Arvada Fire Protection District", None, ("fire", "name")),
        ("Town of Clarkstown Fire Marshal", None, ("fire", "name")),
        ("Town of Gilbert Marshal's Office", None, ("police", "name")),
        ("Precinct 4 Constable", None, ("police", "name")),
        ("Kentucky State Patrol", None, ("police", "name")),
        ("Dallas County District Attorney", None, ("other", "name")),
        ("Anytown Public Safety", None, ("police", "name")),
        ("Anytown", "Fire Departments", ("fire", "layer")),
        ("Anytown Police Department", "Fire Departments", ("fire", "layer")),
        ("Anytown Emergency Management", "Active Agencies", ("other", "name")),
    ],
)
def test_classify_agency(name: str, layer: str | None, expected: tuple[str, str]) -> None:
    assert classify_agency(name, layer) == expected


@pytest.mark.parametrize("value", ["13/1/2020", "2/30/2020", "March 2020", "2020/01/02"])
def test_bad_dates_raise(value: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - ValueError from date() or our own
        parse_active_date(value)


def test_two_digit_years_are_this_century() -> None:
    assert parse_active_date("12/31/99") == date(2099, 12, 31)
    assert parse_active_date("1/1/18") == date(2018, 1, 1)


def test_agency_id_prefers_the_profile_uuid() -> None:
    url = "https://agency.ring.com/agencies/3F0C1A52-8D9E-4B7A-9C11-2A6B5D1E7F01"
    assert agency_id_for(profile_url=url, name="x", city=None, state=None) == url.rsplit("/", 1)[1].lower()


def test_hashed_agency_id_ignores_case_spacing_and_punctuation() -> None:
    a = agency_id_for(profile_url=None, name="Greenfield Police Dept.", city="Greenfield", state="CA")
    b = agency_id_for(profile_url=None, name="greenfield  police dept", city="GREENFIELD", state="ca")
    c = agency_id_for(profile_url=None, name="Greenfield Police Dept.", city="Greenfield", state="WI")
    assert a == b != c
    assert a.startswith("h-")


def _type_rule_by_rule(text: str) -> str | None:
    """The classifier as written first: each rule searched in turn, the first that matches wins."""
    for agency_type, pattern in _TYPE_RULES:
        if pattern.search(text):
            return agency_type
    return None


_TYPE_WORDS = ["sheriff", "Sheriffs", "police", "Policía", "POLİCE", "marſhal", "\u212a", "patrol", "constable",
               "law enforcement", "PD", "fire", "firefighter", "EMS", "rescue", "FD", "marshal", "Marshals",
               "public safety", "DPS", "county", "town", "dept", "of", "s", "'", "x", "-", "."]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_TYPE_WORDS), max_size=8),
       st.lists(st.sampled_from([" ", "", "-", "'s ", "/"]), min_size=8, max_size=8))
def test_the_ascii_reading_names_the_type_the_rules_name(words: list[str], joins: list[str]) -> None:
    """Words run together or apart, in any order, in ASCII or not: a keyword inside another word,
    two types in one name ("Fire Marshal", "Sheriff Patrol"), letters that only re.I folds: the
    lower-cased ASCII reading agrees with the rules as written."""
    text = "".join(word + join for word, join in zip(words, joins, strict=False))
    assert _type_in(text) == _type_rule_by_rule(text)
    assert classify_agency(text, None) == (_type_rule_by_rule(text) or "other", "name")


@pytest.mark.parametrize(("name", "expected"), [
    ("Anytown POLİCE", "police"), ("Town Marſhal", "police"), ("ſheriff of Nowhere", "sheriff"),
    ("POLICÍA Municipal", "police"), ("Bomberos", "other"), ("Town Marshal", "police")])
def test_letters_only_re_i_folds_still_name_the_type(name: str, expected: str) -> None:
    """A dotted capital I and a long s match their plain letters under re.I, not under str.lower()."""
    assert _type_in(name) == _type_rule_by_rule(name) == (None if expected == "other" else expected)


@given(st.text(alphabet="0123456789abcdefABCDEF-/gx", max_size=40), st.sampled_from(["", "/", "?x=1"]))
def test_the_profile_uuid_is_the_first_in_the_url_however_it_is_written(tail: str, after: str) -> None:
    for url in (f"https://agency.ring.com/agencies/{tail}{after}", f"https://agency.ring.com/agencies/{tail}",
                f"https://example.org/{tail}"):
        first = _UUID.search(url)
        assert uuid_from_profile(url) == (first[0].lower() if first else None)


def test_the_plain_profile_url_gives_its_uuid_lowercased() -> None:
    uuid = "3F0C1A52-8D9E-4B7A-9C11-2A6B5D1E7F01"
    assert uuid_from_profile(f"https://agency.ring.com/agencies/{uuid}") == uuid.lower()
    assert uuid_from_profile(f"https://agency.ring.com/agencies/{uuid}x") == uuid.lower()
    assert uuid_from_profile("https://agency.ring.com/agencies/" + "g" * 36) is None


@pytest.mark.parametrize(("text", "number"), [
    ("1,204", 1204.0), (" 12 ", 12.0), ("-3", -3.0), ("1.5", 1.5), ("1,204.25", 1204.25),
    ("1,2,3", None), ("12,34", None), ("~1,200", None), ("12 (est.)", None), ("N/A", None), ("", None),
])
def test_parse_number_reads_plain_numbers_only(text: str, number: float | None) -> None:
    """Commas group thousands or the text is no number: '1,2,3' was read as 123."""
    assert parse_number(text) == number
