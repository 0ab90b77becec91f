"""The streaming KML reader gives what reading the whole tree gives, for documents of any shape.

The reader sees only the elements it reads and removes everything before them as it goes
(scrapers/agency_map.py). These tests read the same generated documents (tests/scrapers/
kml_shapes.py) a second way, the whole tree held and walked in order, and ask for the same
title, agencies, links and errors; then at sizes that cross the parser's read boundaries.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from ringwatch.scrapers import agency_map
from ringwatch.scrapers.agency_map import _agency_from, _check_root, _Containers, _local, _text, read_kml
from ringwatch.scrapers.errors import ParseError
from ringwatch.scrapers.normalize import clean_text
from tests.scrapers.kml_shapes import kml_documents

URL = "https://example.org/map.kml"


def streamed(data: bytes, *, links_only: bool) -> tuple[Any, ...]:
    try:
        document = read_kml(data, url=URL, links_only=links_only)
    except ParseError as exc:
        return ("error", str(exc))
    return document.title, document.agencies, document.network_links


def whole_tree(data: bytes, *, links_only: bool) -> tuple[Any, ...]:
    """The documented reading, on the whole tree: every Placemark and NetworkLink in the order
    they end, a container's name its first `name` before the way to its first placemark, the
    title the first name of the root's first Document."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                             remove_pis=True)
    root = etree.fromstring(data, parser)
    try:
        _check_root(root, url=URL, data=data[:512])
        layers = _Containers()
        agencies, links = [], []
        for _event, element in etree.iterwalk(root, events=("end",)):
            local = _local(element)
            if local == "Placemark" and not links_only:
                agencies.append(_agency_from(element, position=len(agencies), url=URL, containers=layers))
            elif local == "NetworkLink":
                href = _text(element, "Link/href") or _text(element, "Url/href")
                if href:
                    links.append(href.strip())
    except ParseError as exc:
        return ("error", str(exc))
    return clean_text(_text(root, "Document/name")) or None, tuple(agencies), tuple(links)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kml_documents())
def test_streaming_reads_what_the_whole_tree_holds(data: bytes) -> None:
    for links_only in (False, True):
        assert streamed(data, links_only=links_only) == whole_tree(data, links_only=links_only)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(kml_documents())
def test_the_same_across_the_parsers_read_boundaries(data: bytes) -> None:
    """Kilobytes of styles and unknown elements before each placemark: the parser reads the file
    in chunks and reports what a chunk completed, so removals happen at every stage of a tree."""
    padded = data.replace(b"<Placemark>", b"<Style><description>" + b"y" * 9_000 + b"</description></Style><Foo>"
                          + b"z" * 5_000 + b"</Foo><Placemark>")
    assert streamed(padded, links_only=False) == whole_tree(padded, links_only=False)


def _map(body: bytes, root: bytes = b'kml xmlns="http://www.opengis.net/kml/2.2"') -> bytes:
    name = root.split()[0]
    return b'<?xml version="1.0"?><' + root + b"><Document><name>M</name>" + body + b"</Document></" + name + b">"


PLACEMARK = b"<Placemark><name>Anytown Police Department</name><address>Reno, NV</address></Placemark>"


def test_a_long_run_of_unknown_elements_is_refused_naming_the_url_and_the_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only reported elements are removed as the file is read, so a long run of anything else
    would be held whole: past the bound the file is refused, and says why."""
    monkeypatch.setattr(agency_map, "MAX_KML_TAGS_UNREPORTED", 10_000)
    junk = b"<Foo>x</Foo>" * 20_000
    with pytest.raises(ParseError) as caught:
        read_kml(_map(PLACEMARK + junk + PLACEMARK), url=URL)
    message = str(caught.value)
    assert URL in message
    assert re.search(r"more than 10,000 tags without a Placemark, .*Style.* ending", message), message
    assert "not a map export as we know it" in message


def test_styles_schemas_placemarks_and_long_texts_are_not_a_long_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agency_map, "MAX_KML_TAGS_UNREPORTED", 10_000)
    styles = b"<Style id='s'><IconStyle><scale>1</scale></IconStyle></Style>" * 5_000
    schemas = b"<Schema name='s'><SimpleField name='a' type='string'/></Schema>" * 5_000
    description = b"<description>" + b"x" * 3_000_000 + b"</description>"
    agencies = read_kml(_map(description + styles + schemas + PLACEMARK * 2_000), url=URL).agencies
    assert len(agencies) == 2_000
    assert agencies[-1].city == "Reno"


def test_a_long_file_that_is_not_kml_is_named_by_its_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed or another XML file runs long without anything reported: its root says what it is."""
    monkeypatch.setattr(agency_map, "MAX_KML_TAGS_UNREPORTED", 10_000)
    feed = b'<?xml version="1.0"?><rss version="2.0"><channel>' + b"<item><title>t</title></item>" * 10_000 \
        + b"</channel></rss>"
    with pytest.raises(ParseError, match=r"root is <rss>, not <kml>"):
        read_kml(feed, url=URL)
    with pytest.raises(ParseError, match=r"root is <rss>, not <kml>"):
        read_kml(feed[:-2_000], url=URL)  # cut off before its end, too


def test_a_container_named_after_its_placemarks_names_none_of_them() -> None:
    """KML puts a container's name first; one written after its placemarks is not their layer
    (read the same whether the parser has seen the name yet or not)."""
    body = b"<Folder>" + PLACEMARK + b"<name>Fire Departments</name>" + PLACEMARK + b"</Folder>"
    agencies = read_kml(_map(body), url=URL).agencies
    assert [a.layer for a in agencies] == ["M", "M"]
    padded = b"<Folder>" + PLACEMARK + b"<Foo>" + b"z" * 200_000 + b"</Foo><name>Fire Departments</name>" \
        + PLACEMARK + b"</Folder>"
    assert [a.layer for a in read_kml(_map(padded), url=URL).agencies] == ["M", "M"]
