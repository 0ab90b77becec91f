"""EFF Atlas of Surveillance CSV exports: the Ring rows as agency-map snapshots of the past.

Written against the real 2020-10-07 export (shared/research/data/aos_ring_neighbors_20201007.csv):
columns `AOSNUMBER, City, County, State, Agency, Type of LEA, Summary, Type of Juris, Technology,
Vendor, Link 1, ..., Link 1 Date, ...`; later exports add `NEWAOSNUMBER (ORI9)`, `TECH ABV` and
`Other Links`. Ring rows have Technology "Ring/Neighbors Partnership"; Link 1 Date is Ring's
Active Date, as M/D/YY or M/D/YYYY, sometimes empty.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from ringwatch.scrapers.agency_names import agency_id_for
from ringwatch.scrapers.errors import ParseError
from ringwatch.scrapers.normalize import classify_agency, clean_text, normalize_state, parse_active_date
from ringwatch.scrapers.records import Agency
from ringwatch.scrapers.sources import Source

SOURCE = Source.AGENCY_MAP  # an Atlas export is a past observation of the same map
REQUIRED_COLUMNS = ("Agency", "City", "State", "Technology", "Link 1 Date")
RING_TECHNOLOGY = "ring/neighbors partnership"
# Kept as Data fields: the record and agency numbers are identity keys (warehouse/identity.py);
# Link 1 (where EFF found the partnership) and Summary (EFF's words) are the row's provenance,
# kept so a release can cite them per agency (agency_snapshot_fields).
_KEPT_COLUMNS = ("AOSNUMBER", "NEWAOSNUMBER (ORI9)", "County", "Link 1", "Summary")
_STAMP = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")


def observed_at_from_name(file_name: str) -> datetime | None:
    """The export date in names like `Atlas of Surveillance-20201007.csv`, as UTC midnight."""
    m = _STAMP.search(file_name)
    return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC) if m else None


def parse_atlas_csv(data: bytes, *, source_url: str) -> list[Agency]:
    """The Ring rows of an Atlas export as agencies, in file order.

    "Type of LEA" (Police, Sheriff, Constables, District Attorney, ...) is kept as the layer
    and decides the agency type when it names one. Rows with other technologies are skipped.
    """
    text = _decode(data, url=source_url)
    # csv.reader rather than DictReader: its line_num after each row is the row's last file
    # line, so a row starts one line after the previous row ended, even when a quoted field
    # holds line breaks or blank lines come between rows.
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _columns(next(reader, []), url=source_url)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ParseError(
            f"atlas: {source_url} lacks the column(s) {', '.join(missing)}; expected an Atlas of "
            f"Surveillance CSV export (found: {', '.join(header[:8]) or 'no header'}).",
            url=source_url, expected="Atlas of Surveillance CSV columns",
        )
    agencies: list[Agency] = []
    ended = reader.line_num
    for values in reader:
        line_number, ended = ended + 1, reader.line_num
        row = dict(zip(header, values, strict=False))
        if row.get("Technology", "").strip().lower() != RING_TECHNOLOGY:
            continue
        agencies.append(_agency(row, position=len(agencies), line=line_number, url=source_url))
    return agencies


def _column_key(name: str) -> str:
    return " ".join(name.split()).casefold()


# The columns read by name, found whatever their case and spacing ("AGENCY", "Link 1  date "): a
# copy saved by another tool, or another year's export, may write them so.
_READ_COLUMNS = {_column_key(c): c for c in (*REQUIRED_COLUMNS, *_KEPT_COLUMNS, "Type of LEA")}


def _columns(header: list[str], *, url: str) -> list[str]:
    """The header, each column read by name under its usual spelling. Two columns that both read
    as one of them are refused: which of the two holds the data cannot be told."""
    columns = [_READ_COLUMNS.get(_column_key(h), h.strip()) for h in header]
    twice = sorted({c for c in columns if c in _READ_COLUMNS.values() and columns.count(c) > 1})
    if twice:
        written = [h.strip() for h, c in zip(header, columns, strict=True) if c in twice]
        raise ParseError(
            f"atlas: {url} has more than one column that reads as {', '.join(twice)} ({', '.join(written)}); "
            "nothing was loaded. Keep one of each and import it again.",
            url=url, expected="one column of each name in an Atlas of Surveillance CSV export",
        )
    return columns


def _decode(data: bytes, *, url: str) -> str:
    """UTF-8 (EFF's exports), else Windows-1252 (a copy saved by a spreadsheet). Bytes that
    are neither are refused, naming the line: a name with a replacement character would
    never match the map's, so loading it would make a false departure, not a warning."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError(
            f"atlas: {url} line {line}, column {column}: byte 0x{data[exc.start]:02X} is neither UTF-8 nor "
            "Windows-1252; nothing was loaded. Save the export as UTF-8 and import it again.",
            url=url, expected="a UTF-8 (or Windows-1252) CSV",
        ) from None


def _agency(row: dict[str, str], *, position: int, line: int, url: str) -> Agency:
    name = clean_text(row.get("Agency"))
    city = clean_text(row.get("City")) or None
    state = normalize_state(row.get("State"))
    lea_type = clean_text(row.get("Type of LEA")) or None
    try:
        active_date = parse_active_date(row.get("Link 1 Date"))
    except ValueError as exc:
        raise ParseError(f"atlas: {url} line {line} ({name!r}): {exc}.", url=url,
                         expected="Link 1 Date as M/D/YY or M/D/YYYY") from exc
    agency_type, basis = classify_agency(name, lea_type)
    return Agency(
        agency_id=agency_id_for(profile_url=None, name=name, city=city, state=state),
        name=name,
        agency_type=agency_type,
        type_basis=basis,
        layer=lea_type,
        address=", ".join(p for p in (city, row.get("State", "").strip()) if p) or None,
        city=city,
        state=state,
        active_date=active_date,
        latitude=None,
        longitude=None,
        profile_url=None,
        data_fields=tuple((k, clean_text(row[k])) for k in _KEPT_COLUMNS if clean_text(row.get(k))),
        position=position,
        line=line,
    )
