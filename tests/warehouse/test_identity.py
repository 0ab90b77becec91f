"""Identity resolution as a pure function, name keys, and the aliases file."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwatch.scrapers.agency_names import name_key_for, normalize_agency_name
from ringwatch.scrapers.errors import ConfigError
from ringwatch.warehouse.aliases import parse_aliases, read_aliases
from ringwatch.warehouse.identity import AliasDecision, Decision, Key, KeyKind, resolve

U1 = Key(KeyKind.UUID, "11111111-1111-4111-8111-111111111111")
U2 = Key(KeyKind.UUID, "22222222-2222-4222-8222-222222222222")


def name(text: str, city: str = "Madison", state: str = "WI") -> Key:
    return Key(KeyKind.NAME, name_key_for(text, city, state))


@pytest.mark.parametrize(("a", "b"), [
    ("Greenfield Police Dept.", "Greenfield Police Department"),
    ("Greenfield PD", "greenfield police department"),
    ("The Greenfield P.D.", "GREENFIELD  POLICE   DEPARTMENT"),
    ("St. Johns Co. Sheriff's Office", "Saint Johns County Sheriff Office"),
    ("St Johns County SO", "St. Johns County Sheriffs Office"),
    ("Mt. Pleasant Twp. Police", "Mount Pleasant Township Police"),
    ("Ft. Myers Police Dept", "Fort Myers Police Department"),
    ("Fire Prot. Dist. 3", "Fire Protection District 3"),
    ("Housing Auth. Police", "Housing Authority Police"),
    ("Bay Village Dept. of Pub. Safety", "Bay Village Department of Public Safety"),
    ("Oak Park DPS", "Oak Park Department of Public Safety"),
    ("Cañon City Police Department", "Canon City Police Department"),
    ("Harris County Sheriff’s Office", "Harris County Sheriff's Office"),
    ("Cary FD", "Cary Fire Department"),
    ("Lower Moreland Twp Police Dept", "Lower Moreland Township Police Department"),
])
def test_name_variants_people_write_share_one_key(a: str, b: str) -> None:
    assert normalize_agency_name(a) == normalize_agency_name(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Greenfield Police Department", "Greenfield Fire Department"),
    ("Springfield Police Department", "Springfield Township Police Department"),
    ("Hose Co. No. 1", "Hose County No. 1"),  # a fire company is not a county
    ("Polk County Sheriff's Office", "Polk County Police Department"),
])
def test_different_agencies_keep_different_names(a: str, b: str) -> None:
    assert normalize_agency_name(a) != normalize_agency_name(b)


def test_city_and_state_are_part_of_the_key() -> None:
    assert name_key_for("Greenfield PD", "Greenfield", "Wisconsin") == name_key_for(
        "Greenfield Police Department", "GREENFIELD", "WI")
    assert name_key_for("Greenfield PD", "Greenfield", "WI") != name_key_for("Greenfield PD", "Greenfield", "CA")
    assert name_key_for("Greenfield PD", "Greenfield", "WI") != name_key_for("Greenfield PD", "Milwaukee", "WI")
    assert name_key_for("Greenfield PD", "St. Francis", "WI").split("|")[1] == "saint francis"


@given(st.text(max_size=60))
def test_normalizing_twice_changes_nothing(text: str) -> None:
    once = normalize_agency_name(text)
    assert normalize_agency_name(once) == once


def test_a_name_seen_with_one_profile_joins_it() -> None:
    resolution = resolve([(U1, name("Madison PD")), (name("Madison Police Department"),)])
    assert resolution.agency_for((name("Madison Police Dept."),)) == U1.value
    assert resolution.warnings == ()


def test_a_name_seen_with_two_profiles_joins_neither_and_says_so() -> None:
    shared = name("Madison Police Department")
    resolution = resolve([(U1, shared), (U2, shared), (shared,)])
    assert resolution.agency_for((U1, shared)) == U1.value
    assert resolution.agency_for((U2, shared)) == U2.value
    apart = resolution.agency_for((shared,))
    assert apart not in (U1.value, U2.value) and apart.startswith("h-")
    assert [w.kind for w in resolution.warnings] == ["ambiguous_identity"]


def test_a_profile_keeps_one_id_through_renames() -> None:
    old, new = name("Lakeside Police Department"), name("Lakeside Public Safety")
    resolution = resolve([(U1, old), (U1, new), (old,)])
    assert {resolution.agency_of[k] for k in (U1, old, new)} == {U1.value}


def test_atlas_numbers_link_names_an_export_wrote_differently() -> None:
    aos = Key(KeyKind.AOS, "AOS7")
    first, second = name("St. Louis County Police"), name("St. Louis County Police Department")
    resolution = resolve([(first, aos), (second, aos), (U1, second)])
    assert resolution.agency_of[first] == U1.value


def test_an_alias_decides_an_ambiguous_name() -> None:
    shared = name("Madison Police Department")
    decided = AliasDecision(Decision.SAME, shared, U2, line=2)
    resolution = resolve([(U1, shared), (U2, shared), (shared,)], [decided])
    assert resolution.agency_for((shared,)) == U2.value
    assert resolution.warnings == ()


def test_an_alias_can_say_two_profiles_are_one_agency() -> None:
    resolution = resolve([(U1,), (U2,)], [AliasDecision(Decision.SAME, U2, U1, line=2)])
    assert resolution.agency_of[U1] == resolution.agency_of[U2] == U1.value


def test_different_is_never_overruled_by_an_observation() -> None:
    shared = name("Madison Police Department")
    resolution = resolve([(U1, shared), (shared,)], [AliasDecision(Decision.DIFFERENT, shared, U1, line=2)])
    assert resolution.agency_for((shared,)) != U1.value
    assert [w.kind for w in resolution.warnings] == ["identity_conflict"]


sightings_strategy = st.lists(
    st.tuples(st.sampled_from([None, U1, U2]), st.sampled_from(["Madison PD", "Madison Police Dept", "Lakeside PD"]),
              st.sampled_from([None, "AOS1", "AOS2"])),
    min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(sightings_strategy, st.randoms(use_true_random=False))
def test_the_order_of_observations_changes_no_id(raw: list[tuple[Key | None, str, str | None]],
                                                  rng: random.Random) -> None:
    sightings = [tuple(k for k in (u, name(n), Key(KeyKind.AOS, a) if a else None) if k) for u, n, a in raw]
    shuffled = list(sightings)
    rng.shuffle(shuffled)
    assert resolve(sightings).agency_of == resolve(shuffled).agency_of
    assert resolve(sightings).warnings == resolve(shuffled).warnings


def test_the_aliases_file_normalizes_keys_and_skips_comments() -> None:
    decisions = parse_aliases(
        "# reviewed 2026-11\n"
        "decision,key_a,key_b,note\n"
        "\n"
        "same,name:Lakeside PD|Lakeside|California,uuid:https://agency.ring.com/agencies/"
        "11111111-1111-4111-8111-111111111111,renamed\n"
        "different,aos:aos12,ori:ca0371100,\n", file="a.csv")
    assert decisions == (
        AliasDecision(Decision.SAME, Key(KeyKind.NAME, "lakeside police department|lakeside|CA"), U1, "renamed", 4),
        AliasDecision(Decision.DIFFERENT, Key(KeyKind.AOS, "AOS12"), Key(KeyKind.ORI, "CA0371100"), "", 5),
    )


@pytest.mark.parametrize(("text", "message"), [
    ("same,a,b\n", "line 1: the first line must be the header"),
    ("decision,key_a,key_b\nmaybe,aos:1,aos:2\n", "line 2: the decision must be 'same' or 'different'"),
    ("decision,key_a,key_b\nsame,agency:1,aos:2\n", "line 2: 'agency:1' is not a key"),
    ("decision,key_a,key_b\nsame,uuid:abc,aos:2\n", "line 2: 'abc' holds no Ring profile uuid"),
    ("decision,key_a,key_b\nsame,name:Lakeside PD,aos:2\n", "line 2: a name key is"),
    ("decision,key_a,key_b\nsame,name:Lakeside PD|X|CA,name:Lakeside Police Dept|X|CA\n", "they are one key already"),
    ("decision,key_a,key_b\nsame,aos:1,aos:2\ndifferent,aos:2,aos:1\n", "lines 2 and 3 say"),
    ("decision,key_a,key_b\nsame,aos:1\n", "found 2 field(s)"),
])
def test_mistakes_in_the_aliases_file_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_aliases(text, file="config/agency_aliases.csv")


def test_a_missing_aliases_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; create it with the header"):
        read_aliases(tmp_path / "nope.csv")


def test_the_settings_read_the_aliases_file_beside_the_config(tmp_path: Path) -> None:
    from ringwatch.flows.core.settings import load_settings

    (tmp_path / "mine.csv").write_text("decision,key_a,key_b,note\nsame,aos:1,aos:2,x\n", encoding="utf-8")
    (tmp_path / "settings.toml").write_text('[identity]\naliases_file = "mine.csv"\n', encoding="utf-8")
    settings_ = load_settings(tmp_path / "settings.toml")
    assert settings_.aliases_file == str(tmp_path / "mine.csv")
    assert [a.line for a in settings_.aliases] == [2]
    assert load_settings().aliases == ()  # the packaged file holds only examples in comments


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
@settings(max_examples=300)
def test_the_ascii_fast_path_folds_as_the_unicode_path_does(text: str) -> None:
    """ASCII names skip NFKD and the combining-mark filter (the load's hot spot, bench --profile).
    The same text with a combining accent added is not ASCII, takes the full path, and loses the
    accent there: both must give one key."""
    assert normalize_agency_name(text) == normalize_agency_name(text + "\u0301")
