"""Ring's Active Agency Map: parse the Google My Maps KML export into agencies (fetching is
scrapers/agency_map_fetch.py).

Written against the layouts described in shared/docs/SOURCES.md section 1 and reproduced in
tests/fixtures/agency_map/: the wrapper KML (`nl=1`: a NetworkLink to the real KML), the
direct KML (Placemarks in one or more Folders, or straight under Document) and KMZ (a zip
holding doc.kml). Parsing is pure: bytes in, `Agency` records out, ParseError on anything
we were not built for.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from lxml import etree

from ringwatch.scrapers.agency_names import agency_id_for
from ringwatch.scrapers.errors import ParseError, snippet_of
from ringwatch.scrapers.normalize import (
    classify_agency,
    clean_text,
    name_key,
    parse_active_date,
    split_address,
)
from ringwatch.scrapers.records import Agency
from ringwatch.scrapers.sources import Source

SOURCE = Source.AGENCY_MAP
KML_NAMESPACES = (
    "http://www.opengis.net/kml/2.2",
    "http://earth.google.com/kml/2.2",
    "http://earth.google.com/kml/2.1",
    "http://earth.google.com/kml/2.0",
)
# A KMZ is a zip: what one may inflate to, by default the HTTP body cap ([http]
# max_inflated_bytes overrides it). The KML is streamed into the parser, never held whole.
MAX_KML_BYTES = 50_000_000
# How deep libxml2 lets elements nest without huge_tree (an export nests under ten deep).
MAX_KML_DEPTH = 256


@dataclass(frozen=True, slots=True)
class KmlDocument:
    """What one KML file holds: its title, its agencies and any NetworkLink targets."""

    title: str | None
    agencies: tuple[Agency, ...]
    network_links: tuple[str, ...]


# -- parsing --------------------------------------------------------------------------------


def parse_agency_map(data: bytes, *, source_url: str, max_inflated_bytes: int = MAX_KML_BYTES) -> list[Agency]:
    """Parse a direct KML or KMZ into agencies, in document order.

    A wrapper (a NetworkLink and no Placemarks) is an error here: its target must be
    fetched first (see fetch_agency_map).
    """
    document = read_kml(data, url=source_url, max_inflated_bytes=max_inflated_bytes)
    if document.network_links and not document.agencies:
        raise ParseError(
            f"{SOURCE}: {source_url} is a wrapper KML pointing at {document.network_links[0]}; "
            "parse the linked KML instead.",
            url=source_url,
            expected="Placemarks",
        )
    return list(document.agencies)


def read_kml(data: bytes, *, url: str, links_only: bool = False,
             max_inflated_bytes: int = MAX_KML_BYTES) -> KmlDocument:
    """Read a KML (or KMZ) document safely: no DTD, no entities, no network.

    With `links_only` the Placemarks are counted but not normalized, which is all the
    fetcher needs to decide whether to follow a NetworkLink.
    """
    stream = open_kmz(data, url=url, max_bytes=max_inflated_bytes) if is_kmz(data) else io.BufferedReader(
        io.BytesIO(data))
    with stream:
        return _read_stream(stream, url=url, links_only=links_only)


def _read_stream(stream: io.BufferedReader[Any], *, url: str, links_only: bool) -> KmlDocument:
    """One pass over the document in which Python sees only the elements it reads or removes:
    libxml2 builds the tree and reports the root and the ends of _REPORTED elements.

    Each is read if it is a Placemark or NetworkLink, then removed with whatever came before it
    in its Folder or Document (anything unknown, all but a container's first name), so memory
    stays flat however large the file. What is never reported cannot pile up either: a run of
    more than MAX_KML_TAGS_UNREPORTED tags in which none ends is refused (_ReportedOften).
    """
    head = stream.peek(64 * 1024)  # what is buffered: the root's name if the parse fails early
    kml = head[:512]  # for the checks and for error snippets
    _reject_non_xml(kml, url=url)
    reading = _ReportedOften(stream, url=url)
    parser = etree.iterparse(
        reading,
        events=("start", "end"),
        tag=_REPORTED,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    agencies: list[Agency] = []
    links: list[str] = []
    containers = _Containers()
    root: etree._Element | None = None
    try:
        for event, element in parser:
            reading.reported()
            if root is None:  # the root's start (a <kml> root), else the first feature in another
                root = element.getroottree().getroot()
                _check_root(root, url=url, data=kml)
            if event == "start":
                continue
            local = _local(element)
            if local == "kml":
                continue
            if local == "Placemark":
                if not links_only:
                    agencies.append(_agency_from(element, position=len(agencies), url=url, containers=containers))
            elif local == "NetworkLink":
                href = _text(element, "Link/href") or _text(element, "Url/href")
                if href:
                    links.append(href.strip())
            elif local == "Folder":
                containers.forget(element)
            containers.discard_up_to(element)
    except (etree.XMLSyntaxError, ParseError) as exc:
        if root is None and _PROLOG_DOCTYPE.match(head):
            # lxml 6.2 stops an entity bomb in the DTD (amplification), before it reports the root
            raise _declares_a_dtd(url, kml) from exc
        if root is None and (name := _root_name_in(head)) is not None:
            _check_root_name(name, url=url, data=kml)
        if isinstance(exc, ParseError):
            raise
        if "excessive depth in document" in str(exc).lower():  # libxml2 ends there, without huge_tree
            raise ParseError(
                f"{SOURCE}: {url} nests its elements more than {MAX_KML_DEPTH} deep, so it was not read: a Google "
                "My Maps KML export nests under ten deep. Check that the file or download is the map's KML "
                "export; if it is, please report it.",
                url=url, expected=f"KML nested at most {MAX_KML_DEPTH} deep", snippet=snippet_of(kml),
            ) from exc
        raise ParseError(
            f"{SOURCE}: {url} is not well-formed XML ({exc}); expected a KML export. "
            "The download may be truncated or the page may have changed.",
            url=url, expected="well-formed KML", snippet=snippet_of(kml),
        ) from exc
    if root is None:
        root = parser.root
        if root is None:
            raise ParseError(f"{SOURCE}: {url} ended before its first element; expected KML.",
                             url=url, expected="KML", snippet=snippet_of(kml))
        _check_root(root, url=url, data=kml)
    title = clean_text(_text(root, "Document/name")) or None
    return KmlDocument(title=title, agencies=tuple(agencies), network_links=tuple(links))


# What the parser reports: the root, so that it is checked (a DTD, its namespace) before anything
# is read; the features read; and the styles and schemas an export holds, so that they are removed.
_REPORTED = ("{*}kml", "{*}Placemark", "{*}NetworkLink", "{*}Folder", "{*}Style", "{*}StyleMap", "{*}Schema")
_REPORTED_NAMES = "Placemark, Folder, NetworkLink, Style, StyleMap or Schema"
_CONTAINERS = ("Folder", "Document", "kml")
# A Google My Maps export ends a Placemark every twenty tags or so, and a style every few before
# them. A run of this many tags in which none of _REPORTED ends is not an export; the tree libxml2
# builds of it stays in tens of megabytes. Tags, not bytes, since a node costs far more than a
# byte of text: a long description is no danger, a million empty elements are.
MAX_KML_TAGS_UNREPORTED = 200_000


class _ReportedOften(io.RawIOBase):
    """The stream as the parser reads it, refusing a run of MAX_KML_TAGS_UNREPORTED tags (`<`,
    counted in C) in which no reported element ended. The parser builds all it reads and only
    reported elements are removed, so this bounds what a file of anything else can hold."""

    def __init__(self, stream: io.BufferedReader[Any], *, url: str) -> None:
        self.stream, self.url, self.limit, self.since = stream, url, MAX_KML_TAGS_UNREPORTED, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size if size and size > 0 else 64 * 1024)
        self.since += chunk.count(b"<")
        if self.since > self.limit:
            raise ParseError(
                f"{SOURCE}: {self.url} runs for more than {self.limit:,} tags without a {_REPORTED_NAMES} "
                "ending; a Google My Maps export ends one every twenty tags or so, so this is not a map export "
                "as we know it, and it was not read further (to keep memory small). If it is a genuine export, "
                "please report it.",
                url=self.url, expected=f"a {_REPORTED_NAMES} ending within every {self.limit:,} tags",
            )
        return chunk

    def reported(self) -> None:
        self.since = 0


class _Containers:
    """The layer name of each Folder and Document a placemark was read in, and the removal of
    what has been read."""

    def __init__(self) -> None:
        self.layers: dict[etree._Element, str | None] = {}

    def layer_of(self, placemark: etree._Element) -> str | None:
        """The name of the innermost Folder (else the Document) holding the placemark.

        A container's name is its first `name` child before the way to the first placemark
        looked up in it (KML puts it first), read once and kept: parsing stays linear.
        """
        on_the_way = placemark
        for ancestor in placemark.iterancestors():
            if _local(ancestor) in ("Folder", "Document"):
                if ancestor in self.layers:
                    name = self.layers[ancestor]
                else:
                    name = self.layers[ancestor] = _name_before(ancestor, on_the_way)
                if name:
                    return name
            on_the_way = ancestor
        return None

    def forget(self, folder: etree._Element) -> None:
        self.layers.pop(folder, None)

    def discard_up_to(self, element: etree._Element) -> None:
        """Remove a reported element once read and, in a Folder, Document or the root, all that
        came before it there but for Documents and a container's first name (its layer, or the
        map's title, may yet be read from it)."""
        element.clear()
        parent = element.getparent()
        if parent is None:
            return
        if _local(parent) in _CONTAINERS:
            kept_name = False
            earlier = list(element.itersiblings(preceding=True))
            earlier.reverse()
            for before in earlier:
                local = _local(before)
                if local == "Document" or (local == "name" and not kept_name):
                    kept_name = kept_name or local == "name"
                    continue
                parent.remove(before)
        parent.remove(element)


def _name_before(container: etree._Element, child: etree._Element) -> str | None:
    for before in container:
        if before is child:
            return None
        if _local(before) == "name":
            return clean_text(before.text) or None
    return None


def is_kmz(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


class _Bounded(io.RawIOBase):
    """A zip member read no further than `limit` inflated bytes, whatever its header said:
    a bomb is stopped after the limit, not after it has filled the memory."""

    def __init__(self, member: IO[bytes], *, limit: int, what: str, url: str) -> None:
        self.member, self.limit, self.what, self.url, self.read_so_far = member, limit, what, url, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            chunk = self.member.read(len(buffer))
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ParseError(f"{SOURCE}: {self.what} in the KMZ from {self.url} is damaged ({exc}).",
                             url=self.url, expected="a readable doc.kml") from exc
        self.read_so_far += len(chunk)
        if self.read_so_far > self.limit:
            raise ParseError(
                f"{SOURCE}: {self.what} in the KMZ from {self.url} inflates to more than {self.limit:,} bytes "
                "([http] max_inflated_bytes, by default the body cap); refused as a likely zip bomb.",
                url=self.url, expected=f"a KML under {self.limit:,} bytes")
        buffer[:len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self.member.close()
        super().close()


def open_kmz(data: bytes, *, url: str, max_bytes: int = MAX_KML_BYTES) -> io.BufferedReader:
    """The KML inside a KMZ (`doc.kml` by convention, else the first .kml entry) as a stream
    that refuses to inflate past `max_bytes`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ParseError(
            f"{SOURCE}: {url} looks like a KMZ (zip) but cannot be opened ({exc}); "
            "the download is probably truncated.",
            url=url, expected="a complete KMZ archive",
        ) from exc
    if not names:
        raise ParseError(f"{SOURCE}: the KMZ from {url} holds no .kml file.",
                         url=url, expected="doc.kml inside the KMZ")
    name = "doc.kml" if "doc.kml" in names else names[0]
    info = archive.getinfo(name)
    if info.file_size > max_bytes:
        raise ParseError(
            f"{SOURCE}: {name} in the KMZ from {url} inflates to {info.file_size:,} bytes, "
            f"more than the {max_bytes:,} we accept ([http] max_inflated_bytes).",
            url=url, expected=f"a KML under {max_bytes:,} bytes",
        )
    try:
        member = archive.open(info)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise ParseError(f"{SOURCE}: {name} in the KMZ from {url} is damaged ({exc}).",
                         url=url, expected="a readable doc.kml") from exc
    return io.BufferedReader(_Bounded(member, limit=max_bytes, what=name, url=url), buffer_size=64 * 1024)


def _reject_non_xml(data: bytes, *, url: str) -> None:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        raise ParseError(f"{SOURCE}: {url} returned an empty body; expected a KML export.",
                         url=url, expected="KML")
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]:
        raise ParseError(
            f"{SOURCE}: {url} returned an HTML page (a sign-in, consent or error page?) "
            "instead of KML; check the map URL in a browser.",
            url=url, expected="KML", snippet=snippet_of(data),
        )


def _check_root(root: etree._Element, *, url: str, data: bytes) -> None:
    _check_root_name(_local(root), url=url, data=data)
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise _declares_a_dtd(url, data)
    namespace = etree.QName(root).namespace
    if namespace and namespace not in KML_NAMESPACES:
        raise ParseError(
            f"{SOURCE}: {url} uses the namespace {namespace!r}; expected KML 2.2 "
            f"({KML_NAMESPACES[0]}).",
            url=url, expected="the KML 2.2 namespace",
        )


def _declares_a_dtd(url: str, data: bytes) -> ParseError:
    # KML never needs a DTD; one here is an entity bomb or an external-entity probe.
    return ParseError(
        f"{SOURCE}: {url} declares a DTD; KML exports never do, and entities are not "
        "expanded for safety. The file is not a genuine export.",
        url=url, expected="KML without a DOCTYPE", snippet=snippet_of(data),
    )


# A DOCTYPE in the prolog: after the XML declaration, comments and processing instructions only.
# Each of those ends at its first closing mark, so the pattern reads a hostile head once, never
# trying the ways a run of them might be split.
_PROLOG_DOCTYPE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?(?:[^?]|\?(?!>))*\?>\s*|<!--(?:[^-]|-(?!->))*-->\s*)*<!DOCTYPE\b", re.I)


def _check_root_name(name: str, *, url: str, data: bytes) -> None:
    if name != "kml":
        raise ParseError(
            f"{SOURCE}: {url} is XML but its root is <{name}>, not <kml>; "
            "expected a Google My Maps KML export.",
            url=url, expected="<kml> root", snippet=snippet_of(data),
        )


def _root_name_in(head: bytes) -> str | None:
    """The root element's local name as the head of the file gives it, for a file that failed
    before the parser reported its root: a broken page that is not KML is named as such."""
    reader = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, load_dtd=False)
    try:
        reader.feed(head)
        for _event, element in reader.read_events():
            return _local(element) if isinstance(element, etree._Element) else None
    except etree.XMLSyntaxError:
        pass
    return None


def _children(element: etree._Element, path: str) -> Iterator[etree._Element]:
    """Children by local name along a slash path, whatever their namespace."""
    current = [element]
    for step in path.split("/"):
        current = [c for parent in current for c in parent if _local(c) == step]
    yield from current


def _text(element: etree._Element, path: str) -> str | None:
    for child in _children(element, path):
        return child.text
    return None


_LOCAL_NAMES: dict[str, str] = {}


def _local(element: etree._Element) -> str:
    """The tag without its namespace; cached, since a document repeats a dozen tags."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    local = _LOCAL_NAMES.get(tag)
    if local is None:
        local = tag[tag.find("}") + 1:]
        if len(_LOCAL_NAMES) < 1024:  # bounded: a hostile document may invent tags
            _LOCAL_NAMES[tag] = local
    return local


# The ExtendedData fields read by name, by their name_key; other names are kept as written.
_ACTIVE_DATE = "active date"
_PROFILE = "agency profile"
_FIELD_KEYS: dict[str, str] = {}  # name_key of a field name: a map repeats a handful


def _field_key(field_name: str) -> str:
    key = _FIELD_KEYS.get(field_name)
    if key is None:
        key = name_key(field_name)
        if len(_FIELD_KEYS) < 1024:  # bounded, as _LOCAL_NAMES
            _FIELD_KEYS[field_name] = key
    return key


def _read_placemark(placemark: etree._Element) -> tuple[str | None, str | None, str | None, list[tuple[str, str]]]:
    """One pass over the placemark's children: name, address, Point/coordinates and the
    ExtendedData fields (`Data/value` and `SchemaData/SimpleData`), whatever the namespace."""
    name = address = coordinates = None
    data: list[tuple[str, str]] = []
    for child in placemark:  # _LOCAL_NAMES read inline: a call less per element, 3% of a parse
        local = _LOCAL_NAMES.get(child.tag) or _local(child)
        if local == "name":
            name = child.text
        elif local == "address":
            address = child.text
        elif local == "Point":
            for part in child:
                if (_LOCAL_NAMES.get(part.tag) or _local(part)) == "coordinates":
                    coordinates = part.text
        elif local == "ExtendedData":
            for entry in child:
                kind = _LOCAL_NAMES.get(entry.tag) or _local(entry)
                if kind == "Data":
                    value = None
                    for part in entry:
                        if (_LOCAL_NAMES.get(part.tag) or _local(part)) == "value":
                            value = part.text
                            break
                    data.append((clean_text(entry.get("name")), clean_text(value)))
                elif kind == "SchemaData":
                    for simple in entry:
                        if (_LOCAL_NAMES.get(simple.tag) or _local(simple)) == "SimpleData":
                            data.append((clean_text(simple.get("name")), clean_text(simple.text)))
    return name, address, coordinates, data


def _agency_from(placemark: etree._Element, *, position: int, url: str, containers: _Containers) -> Agency:
    raw_name, raw_address, raw_coordinates, data = _read_placemark(placemark)
    name = clean_text(raw_name)
    address = clean_text(raw_address) or None
    city, state = split_address(address)
    active_raw: str | None = None
    profile_url: str | None = None
    unknown: list[tuple[str, str]] = []
    for field_name, value in data:
        key = _field_key(field_name)
        if key == _ACTIVE_DATE:
            active_raw = value
        elif key == _PROFILE:
            profile_url = value or None
        else:
            unknown.append((field_name, value))
    try:
        active_date = parse_active_date(active_raw)
    except ValueError as exc:
        raise ParseError(
            f"{SOURCE}: {url}: {_where(name, position)} has an Active Date we cannot read ({exc}). If Ring "
            "changed the format, extend scrapers.normalize.parse_active_date and run "
            "'ringwatch reparse'; the raw capture is kept.",
            url=url, expected="Active Date as M/D/YY, M/D/YYYY or YYYY-MM-DD",
        ) from exc
    latitude, longitude = _coordinates(raw_coordinates, name=name, position=position, url=url)
    layer = containers.layer_of(placemark)
    agency_type, basis = classify_agency(name, layer)
    return Agency(
        agency_id=agency_id_for(profile_url=profile_url, name=name, city=city, state=state),
        name=name,
        agency_type=agency_type,
        type_basis=basis,
        layer=layer,
        address=address,
        city=city,
        state=state,
        active_date=active_date,
        latitude=latitude,
        longitude=longitude,
        profile_url=profile_url,
        data_fields=tuple(unknown),
        position=position,
    )


def _where(name: str, position: int) -> str:
    """A placemark as an error message names it."""
    return f"placemark #{position + 1} ({name!r})" if name else f"placemark #{position + 1}"


def _coordinates(raw: str | None, *, name: str, position: int, url: str) -> tuple[float | None, float | None]:
    text = (raw or "").strip()
    if not text:
        return None, None
    values = text.split(None, 1)[0].split(",")
    try:
        longitude, latitude = float(values[0]), float(values[1])
    except (ValueError, IndexError) as exc:
        raise ParseError(
            f"{SOURCE}: {url}: {_where(name, position)} has coordinates {text!r}; expected 'lon,lat[,alt]'.",
            url=url, expected="Point/coordinates as lon,lat[,alt]",
        ) from exc
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ParseError(
            f"{SOURCE}: {url}: {_where(name, position)} has coordinates out of range ({text!r}).",
            url=url, expected="longitude in [-180, 180] and latitude in [-90, 90]",
        )
    return latitude, longitude
