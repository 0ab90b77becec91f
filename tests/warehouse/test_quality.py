from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ringwatch.scrapers.errors import QualityGateError
from ringwatch.scrapers.records import Agency
from ringwatch.warehouse.quality import GatePolicy, merge_duplicates, validate_agency_snapshot
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
