from __future__ import annotations

import io
import time
import zipfile
from datetime import date

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from ringwatch.scrapers.agency_map import parse_agency_map, read_kml
from ringwatch.scrapers.agency_map_fetch import fetch_agency_map
from ringwatch.scrapers.errors import ParseError
from ringwatch.scrapers.http import HttpSettings, PoliteClient
from ringwatch.scrapers.records import Agency, Capture
from tests.conftest import MAP_URL, ROBOTS_URL, TARGET_URL, read_fixture

FULL = "agency_map/active_agency_map_2024-01-15.kml"


def parse(name: str) -> list[Agency]:
    return parse_agency_map(read_fixture(name), source_url=f"file:{name}")


def by_name(agencies: list[Agency]) -> dict[str, Agency]:
    return {a.name: a for a in agencies}


def kml(placemarks: str, *, prolog: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
            f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>M</name>'
            f"{placemarks}</Document></kml>").encode()


def placemark(name: str = "Test Police Department", address: str = "Austin, TX",
              data: str = "") -> str:
    return (f"<Placemark><name>{name}</name><address>{address}</address>"
            f"<ExtendedData>{data}</ExtendedData></Placemark>")


def test_parse_direct_2020_layer_whole_records() -> None:
    agencies = parse("agency_map/direct_layer_2020-07-01.kml")
    assert [a.name for a in agencies] == [
        "Town of Marshall Police Department", "Sussex County Sheriff's Office",
        "Lakeland Police Department",
    ]
    first = agencies[0]
    assert first == Agency(
        agency_id=first.agency_id, name="Town of Marshall Police Department",
        agency_type="police", type_basis="name", layer="Neighbors Active Law Enforcement Map",
        address="Marshall, WI", city="Marshall", state="WI", active_date=date(2019, 4, 17),
        latitude=43.1683, longitude=-89.0665, profile_url=None,
        data_fields=(("Video Requests Q2 2020", "1,204"),), position=0,
    )
    assert first.agency_id.startswith("h-")
    assert first.metrics == (("Video Requests Q2 2020", 1204.0),)
    assert agencies[1].active_date == date(2018, 12, 3)  # M/D/YY
    assert agencies[1].state == "DE"  # spelled out
    assert agencies[1].metrics == (("Video Requests Q2 2020", 0.0),)  # a real zero
    assert agencies[2].latitude is None and agencies[2].longitude is None  # no geometry


def test_parse_full_map_every_field() -> None:
    agencies = by_name(parse(FULL))
    assert len(agencies) == 8
    greenfield = agencies["Greenfield Police Department"]
    assert greenfield.agency_id == "3f0c1a52-8d9e-4b7a-9c11-2a6b5d1e7f01"
    assert greenfield.profile_url == "https://agency.ring.com/agencies/3f0c1a52-8d9e-4b7a-9c11-2a6b5d1e7f01"
    assert (greenfield.layer, greenfield.city, greenfield.state) == (
        "Law Enforcement Agencies", "Greenfield", "CA")
    assert (greenfield.latitude, greenfield.longitude) == (36.3208, -121.2438)
    # CDATA names, white space collapsed
    assert "Jefferson County Sheriff's Office" in agencies
    assert "Fort Worth Police Department" in agencies
    assert agencies["Jefferson County Sheriff's Office"].agency_type == "sheriff"
    assert agencies["Jefferson County Sheriff's Office"].state == "KY"
    assert agencies["Fort Worth Police Department"].active_date == date(2020, 2, 14)  # ISO
    raleigh = agencies["Raleigh Police Department"]
    assert (raleigh.active_date, raleigh.state, raleigh.latitude) == (None, "NC", None)
    assert agencies["Policía Municipal de San Juan"].state == "PR"
    assert agencies["Policía Municipal de San Juan"].data_fields == (
        ("Community Requests", "Axon Evidence"),)
    assert agencies["Policía Municipal de San Juan"].metrics == ()
    guam = agencies["Hagåtña Police Precinct"]
    assert guam.state == "GU" and guam.agency_id.startswith("h-")  # no profile: hashed id
    # The layer decides when it says the type; a "Law Enforcement" layer does not.
    arvada = agencies["Arvada Fire Protection District"]
    assert (arvada.agency_type, arvada.type_basis, arvada.layer) == ("fire", "layer", "Fire Departments")
    assert agencies["Town of Clarkstown Fire Marshal"].agency_type == "fire"
    assert [a.position for a in parse(FULL)] == list(range(8))


def test_kmz_parses_to_the_same_records_as_its_kml() -> None:
    assert parse("agency_map/active_agency_map_2024-01-15.kmz") == parse(FULL)


def test_wrapper_kml_is_a_network_link_not_data() -> None:
    document = read_kml(read_fixture("agency_map/wrapper_2024-01-15.kml"), url=MAP_URL)
    assert document.network_links == (TARGET_URL,)
    with pytest.raises(ParseError, match="wrapper KML pointing at"):
        parse("agency_map/wrapper_2024-01-15.kml")


@responses.activate
def test_fetch_follows_the_network_link() -> None:
    responses.add(responses.GET, ROBOTS_URL, status=404)
    responses.add(responses.GET, MAP_URL, body=read_fixture("agency_map/wrapper_2024-01-15.kml"))
    responses.add(responses.GET, TARGET_URL, body=read_fixture(FULL))
    client = PoliteClient(HttpSettings(delay_seconds=0), sleep=lambda s: None)
    captures = fetch_agency_map(client, MAP_URL)
    assert [c.url for c in captures] == [MAP_URL, TARGET_URL]
    assert len(parse_agency_map(captures[-1].body, source_url=TARGET_URL)) == 8


@responses.activate
def test_fetch_with_304_reuses_the_stored_body_and_still_follows_the_link() -> None:
    responses.add(responses.GET, ROBOTS_URL, status=404)
    responses.add(responses.GET, MAP_URL, status=304)
    responses.add(responses.GET, TARGET_URL, body=read_fixture(FULL))
    stored = Capture(source="agency_map", url=MAP_URL, fetched_at=__import__("datetime").datetime(2024, 1, 1),
                     http_status=200, content_type="application/vnd.google-earth.kml+xml",
                     body=read_fixture("agency_map/wrapper_2024-01-15.kml"), etag='"w1"')
    client = PoliteClient(HttpSettings(delay_seconds=0), sleep=lambda s: None)
    captures = fetch_agency_map(client, MAP_URL, previous={MAP_URL: stored})
    assert responses.calls[1].request.headers["If-None-Match"] == '"w1"'
    assert captures[0].http_status == 304 and captures[0].sha256 == stored.sha256
    assert captures[1].url == TARGET_URL


def test_layers_from_several_folders_and_nested_folders() -> None:
    body = kml('<Folder><name>Police</name><Folder><name>Sheriff Offices</name>'
               + placemark("Knox County Sheriff's Office", "Knoxville, TN") + "</Folder>"
               + placemark("Town Agency", "Ames, IA") + "</Folder>")
    agencies = parse_agency_map(body, source_url="u")
    assert [(a.layer, a.agency_type, a.type_basis) for a in agencies] == [
        ("Sheriff Offices", "sheriff", "layer"), ("Police", "police", "layer")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("8/28/2019", date(2019, 8, 28)), ("8/28/19", date(2019, 8, 28)),
     ("2019-08-28", date(2019, 8, 28)), ("", None), ("  ", None),
     ("1/2/2024 0:00:00", date(2024, 1, 2))],
)
def test_active_date_formats(value: str, expected: date | None) -> None:
    data = f'<Data name="Active Date"><value>{value}</value></Data>'
    assert parse_agency_map(kml(placemark(data=data)), source_url="u")[0].active_date == expected


def test_unreadable_active_date_raises_naming_the_placemark() -> None:
    data = '<Data name="Active Date"><value>sometime in 2019</value></Data>'
    with pytest.raises(ParseError, match=r"placemark #1 \('Test Police Department'\) has an Active Date"):
        parse_agency_map(kml(placemark(data=data)), source_url="u")


def test_schema_data_fields_and_unknown_names_are_kept() -> None:
    data = ('<SchemaData schemaUrl="#s"><SimpleData name="Requests (Q1 2020)">12</SimpleData>'
            '<SimpleData name="Notes">hello</SimpleData></SchemaData>')
    agency = parse_agency_map(kml(placemark(data=data)), source_url="u")[0]
    assert agency.metrics == (("Requests (Q1 2020)", 12.0),)
    assert ("Notes", "hello") in agency.data_fields


def test_placemarks_without_namespace_are_read() -> None:
    body = b"<kml><Document><Placemark><name>X Police</name><address>Reno, NV</address></Placemark></Document></kml>"
    assert parse_agency_map(body, source_url="u")[0].state == "NV"


def test_bad_coordinates_raise() -> None:
    body = kml("<Placemark><name>A Police</name><address>Reno, NV</address>"
               "<Point><coordinates>abc</coordinates></Point></Placemark>")
    with pytest.raises(ParseError, match="coordinates"):
        parse_agency_map(body, source_url="u")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&lol9;</name>
<address>Reno, NV</address></Placemark></Document></kml>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&xxe;</name>
<address>Reno, NV</address></Placemark></Document></kml>"""


# A DTD libxml2 gives up on before it reports the root, whatever its version: the error still says DTD
# (lxml 6.2 stops the billion laughs there too, where 6.1 reported the root first).
BROKEN_DTD = b"""<?xml version="1.0"?>
<!-- exported -->
<!DOCTYPE kml [<!ENTITY a "b"> <<< ]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&a;</name></Placemark></Document></kml>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, BROKEN_DTD], ids=["billion-laughs", "xxe", "broken"])
def test_entity_declarations_are_an_error_not_a_hang(body: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(ParseError, match="declares a DTD"):
        parse_agency_map(body, source_url="u")
    assert time.perf_counter() - started < 5  # generous: a real expansion never ends


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"<!DOCTYPE html><html><head><title>Sign in - Google Accounts</title></head>"
         b"<body><form>...</form></body></html>", "HTML page"),
        (b"<?xml version='1.0'?><kml xmlns='http://www.opengis.net/kml/2.2'><Document><Placemark>"
         b"<name>Cut off", "not well-formed XML"),
        (b"<?xml version='1.0'?><rss><channel/></rss>", r"root is <rss>, not <kml>"),
        (b"<kml xmlns='http://example.org/other'><Document/></kml>", "namespace"),
    ],
    ids=["empty", "blank", "sign-in-page", "truncated", "wrong-root", "wrong-namespace"],
)
def test_broken_pages_raise_parse_errors_naming_the_url(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        parse_agency_map(body, source_url="https://maps.test/x")
    assert "https://maps.test/x" in str(info.value)


def test_an_empty_kml_parses_to_no_agencies() -> None:
    # The quality gate, not the parser, refuses it: the document itself is well-formed.
    assert parse_agency_map(kml(""), source_url="u") == []


def test_truncated_kmz_is_a_parse_error() -> None:
    data = read_fixture("agency_map/active_agency_map_2024-01-15.kmz")
    with pytest.raises(ParseError, match="KMZ"):
        parse_agency_map(data[: len(data) // 2], source_url="u")


def test_kmz_without_kml_is_a_parse_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("images/icon.png", b"png")
    with pytest.raises(ParseError, match=r"holds no \.kml"):
        parse_agency_map(buffer.getvalue(), source_url="u")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_arbitrary_bytes_give_records_or_parse_error(data: bytes) -> None:
    try:
        result = parse_agency_map(data, source_url="u")
    except ParseError:
        return
    assert isinstance(result, list)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60))
def test_arbitrary_names_in_valid_kml_give_records_or_parse_error(name: str) -> None:
    from xml.sax.saxutils import escape

    try:
        result = parse_agency_map(kml(placemark(escape(name))), source_url="u")
    except ParseError:
        return
    assert result[0].name == " ".join(name.split())
