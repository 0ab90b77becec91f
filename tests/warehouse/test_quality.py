from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ringwatch.scrapers.errors import QualityGateError
from ringwatch.scrapers.records import Agency
from ringwatch.warehouse.quality import NO_DATES_WARNED_FROM, GatePolicy, merge_duplicates, validate_agency_snapshot
from tests.warehouse.test_load import agency, uid

URL = "https://maps.test/kml"


def validate(agencies: list[Agency], *, previous: int | None = None, force: bool = False,
             policy: GatePolicy | None = None):
    return validate_agency_snapshot(
        agencies, source="agency_map", url=URL, quarter="2024Q2",
        observed_at=datetime(2024, 6, 30, tzinfo=UTC), previous_count=previous,
        previous_quarter="2024Q1" if previous else None, policy=policy or GatePolicy(),
        force=force)


def many(n: int) -> list[Agency]:
    return [agency(f"id{i}", position=i) for i in range(n)]


def test_zero_agencies_is_an_error_naming_source_and_url() -> None:
    with pytest.raises(QualityGateError, match=r"agency_map: https://maps.test/kml parsed to no agencies") as info:
        validate([])
    assert info.value.gate == "min_rows"


def test_min_rows_is_configurable() -> None:
    with pytest.raises(QualityGateError, match="only 3 agencies"):
        validate(many(3), policy=GatePolicy(min_rows=100))


def test_a_drop_below_half_is_refused_unless_forced() -> None:
    message = r"has 40 agencies, less than 50% of the 100 held for 2024Q1.*--force"
    with pytest.raises(QualityGateError, match=message) as info:
        validate(many(40), previous=100)
    assert info.value.gate == "max_drop"
    assert len(validate(many(40), previous=100, force=True).agencies) == 40
    assert len(validate(many(50), previous=100).agencies) == 50  # exactly half passes


def test_the_drop_fraction_is_configurable() -> None:
    with pytest.raises(QualityGateError):
        validate(many(85), previous=100, policy=GatePolicy(min_fraction_of_previous=0.9))


@pytest.mark.parametrize("field", ["name", "state"])
def test_required_fields_must_be_present(field: str) -> None:
    broken = [*many(5), replace(agency("x", position=5), **{field: "" if field == "name" else None})]
    with pytest.raises(QualityGateError, match=f"1 of 6 placemarks have no {field}"):
        validate(broken)


def test_duplicates_keep_the_most_complete_then_the_first_and_are_reported() -> None:
    sparse = replace(agency("dup", position=0), latitude=None, active_date=None)
    full = agency("dup", position=2)
    twin = agency("dup", position=3)
    kept, warnings = merge_duplicates([sparse, agency("other", position=1), full, twin])
    assert sorted((a.agency_id, a.position) for a in kept) == sorted([(uid("dup"), 2), (uid("other"), 1)])
    assert len(warnings) == 1
    assert warnings[0].kind == "duplicate_agency"
    assert "kept #3, dropped #1, #4" in warnings[0].detail


def test_duplicate_handling_is_deterministic_whatever_the_input_order() -> None:
    a = agency("dup", position=0)
    b = replace(agency("dup", position=1), name="Other Name")
    first, _ = merge_duplicates([a, b])
    second, _ = merge_duplicates([b, a])
    assert first == second


@pytest.mark.parametrize("value", ["2/12/2022", "2022-02-12", "12.02.2022", "Feb 12, 2022", "12 February 2022"])
def test_a_date_field_under_another_name_is_named_and_quoted(value: str) -> None:
    """Ring renames 'Active Date' (or an older export called it otherwise): every join date is
    gone, and the field that holds them is named, not passed over in silence."""
    agencies = [agency(f"id{i}", active=None, position=i,
                       data_fields=(("Date Joined", value if i % 4 else ""), ("Agency Profile", "x")))
                for i in range(8)]
    (warning,) = validate(agencies).warnings
    assert (warning.kind, warning.subject) == ("dates_unread", "Date Joined")
    assert (f"none of the 8 agencies has a join date (the Active Date), but the map's field 'Date Joined' "
            f"holds a date in 6 of them (e.g. {value!r})") in warning.detail
    assert "run 'ringwatch reparse'" in warning.detail


def test_no_join_date_at_all_in_a_large_snapshot_is_a_warning() -> None:
    agencies = [replace(a, active_date=None) for a in many(NO_DATES_WARNED_FROM)]
    (warning,) = validate(agencies).warnings
    assert warning.kind == "dates_unread" and f"none of the {NO_DATES_WARNED_FROM} agencies" in warning.detail
    assert validate(agencies[:NO_DATES_WARNED_FROM - 1]).warnings == ()  # a handful of undated rows: no alarm


def test_one_join_date_is_enough_to_say_nothing() -> None:
    agencies = [agency(f"id{i}", active=None, position=i, data_fields=(("Date Joined", "2/12/2022"),))
                for i in range(NO_DATES_WARNED_FROM)]
    agencies[50] = replace(agencies[50], active_date=datetime(2020, 1, 2, tzinfo=UTC).date())
    assert validate(agencies).warnings == ()
