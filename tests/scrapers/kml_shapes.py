"""KML documents in the shapes another hand or another tool might write them, generated.

Google's export nests Placemarks in named Folders of a named Document; other tools and other
eras put them straight under the Document or the root, nest Folders, leave Folders unnamed,
name a container twice or late, put styles, schemas and unknown elements anywhere, wrap
Placemarks in elements of their own, hold Data and SchemaData side by side, or write a
MultiGeometry. tests/scrapers/test_agency_map_streaming.py reads them all two ways.
"""

from __future__ import annotations

from hypothesis import strategies as st

NAMESPACES = ('xmlns="http://www.opengis.net/kml/2.2"', 'xmlns="http://earth.google.com/kml/2.1"', "",
              'xmlns:k="http://www.opengis.net/kml/2.2"')
TEXTS = st.sampled_from(["", "Anytown Police Department", "  Fire\n\tDept ", "Sheriff's Office", "a &amp; b",
                         "<![CDATA[Town Marshal]]>", "Bomberos", "x", "Law Enforcement Agencies",
                         "Fire Departments"])
ADDRESSES = st.sampled_from(["Reno, NV", "Louisville, Kentucky", "Nowhere", "",
                             "1 Main St, Austin, TX 78701, USA"])
DATES = st.sampled_from(["1/2/20", "2020-03-04", "", "12/31/2019", " 7/4/2021 "])
COORDINATES = st.sampled_from(["-119.8,39.5,0", " -80.1,25.7 ", "", "1,2 3,4", "-100,45"])
UUIDS = st.sampled_from(["3f0c1a52-8d9e-4b7a-9c11-2a6b5d1e7f01", "3F0C1A52-8D9E-4B7A-9C11-2A6B5D1E7F02"])
OTHER_ELEMENTS = st.sampled_from([
    "<Style id='s'><IconStyle><scale>1</scale></IconStyle></Style>",
    "<StyleMap id='m'><Pair><key>normal</key><styleUrl>#s</styleUrl></Pair></StyleMap>",
    "<Schema name='s'><SimpleField name='Active Date' type='string'/></Schema>",
    "<Foo><Bar>z</Bar></Foo>", "<description>d</description>", "<styleUrl>#s</styleUrl>",
    "<LookAt><longitude>1</longitude></LookAt>", "<open>1</open>", "<visibility>1</visibility>",
    "<!-- a comment -->", "<?pi here?>"])


@st.composite
def placemarks(draw: st.DrawFn, depth: int = 0) -> str:
    parts: list[str] = []
    kinds = ["name", "address", "point", "data", "schemadata", "other", "multigeometry", "inner"] if depth == 0 \
        else ["name", "other"]
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.sampled_from(kinds))
        if kind == "name":
            parts.append(f"<name>{draw(TEXTS)}</name>")
        elif kind == "address":
            parts.append(f"<address>{draw(ADDRESSES)}</address>")
        elif kind == "point":
            parts.append(f"<Point><coordinates>{draw(COORDINATES)}</coordinates></Point>")
        elif kind == "multigeometry":
            parts.append(f"<MultiGeometry><Point><coordinates>{draw(COORDINATES)}</coordinates></Point>"
                         "</MultiGeometry>")
        elif kind == "data":
            fields = []
            for _ in range(draw(st.integers(0, 3))):
                key = draw(st.sampled_from(["Active Date", "active  date", "Agency Profile", "Video Requests",
                                            "Other"]))
                value = draw(DATES) if "ate" in key else (
                    f"https://agency.ring.com/agencies/{draw(UUIDS)}" if "rofile" in key else draw(TEXTS))
                fields.append(f'<Data name="{key}"><displayName>x</displayName><value>{value}</value></Data>')
            parts.append(f"<ExtendedData>{''.join(fields)}</ExtendedData>")
        elif kind == "schemadata":
            parts.append(f'<ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="Active Date">{draw(DATES)}'
                         "</SimpleData></SchemaData></ExtendedData>")
        elif kind == "inner":
            parts.append(draw(placemarks(depth + 1)))
        else:
            parts.append(draw(OTHER_ELEMENTS))
    return f"<Placemark>{''.join(parts)}</Placemark>"


@st.composite
def containers(draw: st.DrawFn, tag: str, depth: int) -> str:
    parts: list[str] = []
    kinds = ["name", "placemark", "placemark", "other", "link", "folder", "wrapped"] if depth < 3 \
        else ["name", "placemark", "other"]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(kinds))
        if kind == "name":
            parts.append(f"<name>{draw(TEXTS)}</name>")
        elif kind == "placemark":
            parts.append(draw(placemarks()))
        elif kind == "wrapped":
            parts.append(f"<Foo>{draw(placemarks())}</Foo>")
        elif kind == "link":
            parts.append(f"<NetworkLink><name>l</name><Link><href> https://example.org/{draw(st.integers(0, 9))}.kml "
                         "</href></Link></NetworkLink>")
        elif kind == "folder":
            parts.append(draw(containers("Folder", depth + 1)))
        else:
            parts.append(draw(OTHER_ELEMENTS))
    return f"<{tag}>{''.join(parts)}</{tag}>"


@st.composite
def kml_documents(draw: st.DrawFn) -> bytes:
    namespace = draw(st.sampled_from(NAMESPACES))
    top: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["document", "document", "placemark", "folder", "other"]))
        if kind == "document":
            top.append(draw(containers("Document", 0)))
        elif kind == "placemark":
            top.append(draw(placemarks()))
        elif kind == "folder":
            top.append(draw(containers("Folder", 1)))
        else:
            top.append(draw(OTHER_ELEMENTS))
    body = "".join(top)
    if namespace.startswith("xmlns:k"):
        return f'<?xml version="1.0"?><k:kml {namespace}>{body}</k:kml>'.encode()
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<kml {namespace}>{body}</kml>'.encode()
