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

_ACTIVE_DATE = "active date"
_PROFILE = "agency profile"


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
    kml = stream.peek(512)[:512]  # the head, for the checks and for error snippets
    _reject_non_xml(kml, url=url)
    parser = etree.iterparse(
        stream,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    agencies: list[Agency] = []
    links: list[str] = []
    layers: dict[etree._Element, str | None] = {}
    saw_root = False
    first_element: str | None = None
    inside = 0  # depth inside a Placemark or NetworkLink: their parts are read at their end
    try:
        for event, element in parser:
            local = _local(element)
            if event == "start":
                if not saw_root:
                    if local != "kml":
                        first_element = local
                        break
                    saw_root = True
                    _check_root(element, url=url, data=kml)
                elif local in ("Placemark", "NetworkLink"):
                    inside += 1
                continue
            if local in ("Placemark", "NetworkLink"):
                inside -= 1
                if local == "NetworkLink":
                    href = _text(element, "Link/href") or _text(element, "Url/href")
                    if href:
                        links.append(href.strip())
                elif not links_only:
                    agencies.append(_agency_from(element, position=len(agencies), url=url, layers=layers))
                _discard(element)
            elif inside or local in ("kml", "Document") or (local == "name" and _first_name_of_container(element)):
                continue
            else:
                # Styles, schemas, finished Folders, anything unknown: nothing more is read from
                # them, so nothing of them is kept. Memory stays flat however large the file.
                layers.pop(element, None)
                _discard(element)
    except etree.XMLSyntaxError as exc:
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
    root = parser.root
    if not saw_root and first_element is not None:
        found = first_element
        raise ParseError(
            f"{SOURCE}: {url} is XML but its root is <{found}>, not <kml>; "
            "expected a Google My Maps KML export.",
            url=url, expected="<kml> root", snippet=snippet_of(kml),
        )
    if root is None or not saw_root:
        raise ParseError(f"{SOURCE}: {url} ended before its first element; expected KML.",
                         url=url, expected="KML", snippet=snippet_of(kml))
    title = clean_text(_text(root, "Document/name")) or None
    return KmlDocument(title=title, agencies=tuple(agencies), network_links=tuple(links))


def _discard(element: etree._Element) -> None:
    element.clear()
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def _first_name_of_container(element: etree._Element) -> bool:
    """A Folder's or Document's name, read for the layer of the placemarks inside it."""
    parent = element.getparent()
    if parent is None or _local(parent) not in ("Folder", "Document"):
        return False
    previous = element.getprevious()
    while previous is not None:
        if _local(previous) == "name":
            return False
        previous = previous.getprevious()
    return True


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
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        # KML never needs a DTD; one here is an entity bomb or an external-entity probe.
        raise ParseError(
            f"{SOURCE}: {url} declares a DTD; KML exports never do, and entities are not "
            "expanded for safety. The file is not a genuine export.",
            url=url, expected="KML without a DOCTYPE", snippet=snippet_of(data),
        )
    namespace = etree.QName(root).namespace
    if namespace and namespace not in KML_NAMESPACES:
        raise ParseError(
            f"{SOURCE}: {url} uses the namespace {namespace!r}; expected KML 2.2 "
            f"({KML_NAMESPACES[0]}).",
            url=url, expected="the KML 2.2 namespace",
        )


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


def _layer_of(placemark: etree._Element, cache: dict[etree._Element, str | None]) -> str | None:
    """The name of the innermost Folder (else the Document) holding the placemark.

    Cached per container: the name comes before the Placemarks, and scanning a Folder's
    children once per placemark would make parsing quadratic.
    """
    for ancestor in placemark.iterancestors():
        if _local(ancestor) not in ("Folder", "Document"):
            continue
        if ancestor not in cache:
            cache[ancestor] = None
            for child in ancestor:
                local = _local(child)
                if local == "name":
                    cache[ancestor] = clean_text(child.text) or None
                    break
                if local in ("Placemark", "Folder"):
                    break
        if cache[ancestor]:
            return cache[ancestor]
    return None


@dataclass(slots=True)
class _RawPlacemark:
    name: str | None = None
    address: str | None = None
    coordinates: str | None = None
    data: list[tuple[str, str]] | None = None


def _read_placemark(placemark: etree._Element) -> _RawPlacemark:
    """One pass over the placemark's children: name, address, Point/coordinates and the
    ExtendedData fields (`Data/value` and `SchemaData/SimpleData`), whatever the namespace."""
    raw = _RawPlacemark(data=[])
    for child in placemark:
        local = _local(child)
        if local == "name":
            raw.name = child.text
        elif local == "address":
            raw.address = child.text
        elif local == "Point":
            for part in child:
                if _local(part) == "coordinates":
                    raw.coordinates = part.text
        elif local == "ExtendedData":
            for entry in child:
                kind = _local(entry)
                if kind == "Data":
                    value = next((v.text for v in entry if _local(v) == "value"), None)
                    raw.data.append((clean_text(entry.get("name")), clean_text(value)))  # type: ignore[union-attr]
                elif kind == "SchemaData":
                    for simple in entry:
                        if _local(simple) == "SimpleData":
                            raw.data.append((clean_text(simple.get("name")), clean_text(simple.text)))  # type: ignore[union-attr]
    return raw


def _agency_from(placemark: etree._Element, *, position: int, url: str,
                 layers: dict[etree._Element, str | None]) -> Agency:
    raw = _read_placemark(placemark)
    name = clean_text(raw.name)
    where = f"placemark #{position + 1} ({name!r})" if name else f"placemark #{position + 1}"
    address = clean_text(raw.address) or None
    city, state = split_address(address)
    active_raw: str | None = None
    profile_url: str | None = None
    unknown: list[tuple[str, str]] = []
    for field_name, value in raw.data or ():
        key = name_key(field_name)
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
            f"{SOURCE}: {url}: {where} has an Active Date we cannot read ({exc}). If Ring "
            "changed the format, extend scrapers.normalize.parse_active_date and run "
            "'ringwatch reparse'; the raw capture is kept.",
            url=url, expected="Active Date as M/D/YY, M/D/YYYY or YYYY-MM-DD",
        ) from exc
    latitude, longitude = _coordinates(raw.coordinates, where=where, url=url)
    layer = _layer_of(placemark, layers)
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


def _coordinates(raw: str | None, *, where: str, url: str) -> tuple[float | None, float | None]:
    if raw is None or not raw.strip():
        return None, None
    parts = raw.strip().split()[0].split(",")
    try:
        longitude, latitude = float(parts[0]), float(parts[1])
    except (ValueError, IndexError) as exc:
        raise ParseError(
            f"{SOURCE}: {url}: {where} has coordinates {raw.strip()!r}; expected 'lon,lat[,alt]'.",
            url=url, expected="Point/coordinates as lon,lat[,alt]",
        ) from exc
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ParseError(
            f"{SOURCE}: {url}: {where} has coordinates out of range ({raw.strip()!r}).",
            url=url, expected="longitude in [-180, 180] and latitude in [-90, 90]",
        )
    return latitude, longitude
