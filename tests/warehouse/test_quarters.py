from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ringwatch.warehouse.quarters import Quarter, quarter_for, replaces


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2025-04-01T06:00:00", "2025Q1"),  # the scheduled run: the state at the end of Q1
        ("2025-05-15T12:00:00", "2025Q1"),  # 45 days after Q1's end, 46 before Q2's
        ("2025-05-16T00:00:00", "2025Q2"),  # 46 after, 45 before
        ("2025-05-20T09:00:00", "2025Q2"),
        ("2025-03-31T23:59:59", "2025Q1"),
        ("2025-01-01T00:00:00", "2024Q4"),
        ("2025-02-14T00:00:00", "2024Q4"),  # a tie (45 / 45 days) goes to the ended quarter
        ("2025-02-15T00:00:00", "2025Q1"),
        ("2024-02-14T00:00:00", "2023Q4"),  # leap year: 45 days after Q4, 46 before Q1
        ("2025-07-01T06:00:00", "2025Q2"),
        ("2025-10-01T06:00:00", "2025Q3"),
        ("2025-12-31T00:00:00", "2025Q4"),
        ("2025-08-15T12:00:00", "2025Q2"),
        ("2025-08-16T12:00:00", "2025Q3"),
    ],
)
def test_quarter_rule(moment: str, expected: str) -> None:
    assert str(quarter_for(datetime.fromisoformat(moment).replace(tzinfo=UTC))) == expected


def test_quarter_rule_uses_utc() -> None:
    from zoneinfo import ZoneInfo

    # 20:00 in Los Angeles on March 31 is already April 1 in UTC: still Q1 (1 day after).
    moment = datetime(2025, 3, 31, 20, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert str(quarter_for(moment)) == "2025Q1"
    # 2025-05-15 20:00 in Los Angeles is 2025-05-16 in UTC: Q2.
    assert str(quarter_for(datetime(2025, 5, 15, 20, 0, tzinfo=ZoneInfo("America/Los_Angeles")))) == "2025Q2"


@pytest.mark.parametrize("label", ["2025Q1", "2025q1", "2025-Q1", " 2025Q4 "])
def test_quarter_labels_parse(label: str) -> None:
    assert str(Quarter.parse(label)) in ("2025Q1", "2025Q4")


@pytest.mark.parametrize("label", ["2025Q5", "2025", "Q1 2025", "25Q1"])
def test_bad_quarter_labels_raise(label: str) -> None:
    with pytest.raises(ValueError, match="expected YYYYQn"):
        Quarter.parse(label)


def test_quarter_arithmetic() -> None:
    q = Quarter.parse("2024Q4")
    assert str(q.next()) == "2025Q1" and str(q.previous()) == "2024Q3"
    assert str(q.first_day) == "2024-10-01" and str(q.last_day) == "2024-12-31"
    assert str(Quarter.parse("2024Q1").last_day) == "2024-03-31"


def test_nearest_observation_wins_and_ties_go_to_the_later() -> None:
    q1 = Quarter.parse("2025Q1")

    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(tzinfo=UTC)

    assert replaces(at("2025-04-01T06:00"), at("2025-05-15T00:00"), q1)  # nearer
    assert not replaces(at("2025-05-15T00:00"), at("2025-04-01T06:00"), q1)  # farther
    assert replaces(at("2025-04-01T09:00"), at("2025-04-01T06:00"), q1)  # same day: later wins
    assert not replaces(at("2025-03-30T00:00"), at("2025-04-01T00:00"), q1)  # a tie: later stays
    assert not replaces(at("2025-03-30T00:00"), at("2025-03-30T12:00"), q1)
