"""Identity in the warehouse: observations in, resolved ids out, on every load.

A load writes the snapshot's rows as observations (what the source said, with its keys),
then re-resolves every observation held (warehouse/identity.py) and rebuilds
agency_keys, agency_snapshots, agency_snapshot_fields and agencies from them, inside the
load's transaction. Resolving everything each time is what makes the loading order
irrelevant: the ids depend on what is held, never on what came first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from scrapers.agency_names import name_key_for
from scrapers.normalize import parse_number, uuid_from_profile
from scrapers.records import Agency, QualityWarning, Snapshot
from warehouse.db import named_queries
from warehouse.identity import AliasDecision, Decision, Key, KeyKind, Resolution, Sighting, resolve

_SQL = named_queries("identity.sql")
_AOS_FIELDS = frozenset({"AOSNUMBER"})
_ORI_FIELDS = frozenset({"NEWAOSNUMBER (ORI9)", "ORI9", "ORI"})
# Rows per INSERT: bounds the memory DuckDB needs to convert the parameter lists.
_CHUNK_ROWS = 25_000

_INSERT_OBSERVATIONS = """
INSERT INTO agency_observations
SELECT unnest($quarter::VARCHAR[]), unnest($observation_no::INTEGER[]), unnest($profile_uuid::VARCHAR[]),
       unnest($name_key::VARCHAR[]), unnest($ori::VARCHAR[]), unnest($aos_number::VARCHAR[]),
       unnest($name::VARCHAR[]), unnest($agency_type::VARCHAR[]), unnest($type_basis::VARCHAR[]),
       unnest($layer::VARCHAR[]), unnest($address::VARCHAR[]), unnest($city::VARCHAR[]),
       unnest($state::VARCHAR[]), unnest($active_date::DATE[]), unnest($latitude::DOUBLE[]),
       unnest($longitude::DOUBLE[]), unnest($profile_url::VARCHAR[]),
       unnest($capture_id::BIGINT[]), unnest($observed_at::TIMESTAMP[])
"""

_INSERT_FIELDS = """
INSERT INTO agency_observation_fields
SELECT unnest($quarter::VARCHAR[]), unnest($observation_no::INTEGER[]), unnest($field::VARCHAR[]),
       unnest($text::VARCHAR[]), unnest($number::DOUBLE[])
"""


def _field(agency: Agency, names: frozenset[str]) -> str | None:
    for name, value in agency.data_fields:
        if name.strip().upper() in names and value.strip():
            return value.strip().upper()
    return None


def sighting_of(profile_uuid: str | None, name_key: str | None, ori: str | None,
                aos_number: str | None) -> Sighting:
    keys = [Key(KeyKind.UUID, profile_uuid) if profile_uuid else None,
            Key(KeyKind.NAME, name_key) if name_key else None,
            Key(KeyKind.ORI, ori) if ori else None,
            Key(KeyKind.AOS, aos_number) if aos_number else None]
    return tuple(k for k in keys if k is not None)


def replace_observations(con: duckdb.DuckDBPyConnection, snapshot: Snapshot, *,
                         capture_id: int, observed: datetime) -> None:
    """The quarter's observations become exactly the snapshot's rows, keys computed."""
    quarter = snapshot.quarter
    con.execute("DELETE FROM agency_observation_fields WHERE quarter = ?", [quarter])
    con.execute("DELETE FROM agency_observations WHERE quarter = ?", [quarter])
    for start in range(0, len(snapshot.agencies), _CHUNK_ROWS):
        _insert_chunk(con, quarter, snapshot.agencies[start:start + _CHUNK_ROWS], first=start,
                      capture_id=capture_id, observed=observed)


def _insert_chunk(con: duckdb.DuckDBPyConnection, quarter: str, agencies: Sequence[Agency], *,
                  first: int, capture_id: int, observed: datetime) -> None:
    n = len(agencies)
    numbers = list(range(first, first + n))
    con.execute(_INSERT_OBSERVATIONS, {
        "quarter": [quarter] * n,
        "observation_no": numbers,
        "profile_uuid": [uuid_from_profile(a.profile_url) for a in agencies],
        "name_key": [name_key_for(a.name, a.city, a.state) for a in agencies],
        "ori": [_field(a, _ORI_FIELDS) for a in agencies],
        "aos_number": [_field(a, _AOS_FIELDS) for a in agencies],
        "name": [a.name for a in agencies],
        "agency_type": [a.agency_type for a in agencies],
        "type_basis": [a.type_basis for a in agencies],
        "layer": [a.layer for a in agencies],
        "address": [a.address for a in agencies],
        "city": [a.city for a in agencies],
        "state": [a.state for a in agencies],
        "active_date": [a.active_date for a in agencies],
        "latitude": [a.latitude for a in agencies],
        "longitude": [a.longitude for a in agencies],
        "profile_url": [a.profile_url for a in agencies],
        "capture_id": [capture_id] * n,
        "observed_at": [observed] * n,
    })
    # One row per field name: a placemark repeating a Data name keeps its first value.
    fields = list({
        (number, name): (number, name, value, parse_number(value))
        for number, a in reversed(list(zip(numbers, agencies, strict=True)))
        for name, value in reversed(a.data_fields)
    }.values())
    if fields:
        con.execute(_INSERT_FIELDS, {
            "quarter": [quarter] * len(fields),
            "observation_no": [f[0] for f in fields],
            "field": [f[1] for f in fields],
            "text": [f[2] for f in fields],
            "number": [f[3] for f in fields],
        })


def replace_aliases(con: duckdb.DuckDBPyConnection, aliases: Sequence[AliasDecision]) -> None:
    con.execute(_SQL["replace_aliases"], {
        "line_no": [a.line for a in aliases],
        "decision": [str(a.decision) for a in aliases],
        "key_a": [str(a.a) for a in aliases],
        "key_b": [str(a.b) for a in aliases],
        "note": [a.note for a in aliases],
    })


def stored_aliases(con: duckdb.DuckDBPyConnection) -> tuple[AliasDecision, ...]:
    def key(text: str) -> Key:
        kind, _, value = text.partition(":")
        return Key(KeyKind(kind), value)

    return tuple(AliasDecision(Decision(d), key(a), key(b), note, line)
                 for line, d, a, b, note in con.execute(_SQL["stored_aliases"]).fetchall())


def fill_missing_keys(con: duckdb.DuckDBPyConnection) -> int:
    """Compute the keys of observations that have none (rows of a database made before
    migration 3); return how many were filled."""
    rows = con.execute(_SQL["observations_without_keys"]).fetchall()
    if rows:
        con.execute(_SQL["fill_keys"], {
            "quarter": [r[0] for r in rows],
            "observation_no": [r[1] for r in rows],
            "name_key": [name_key_for(r[2], r[3], r[4]) for r in rows],
            "aos_number": [r[5].strip().upper() if r[5] and r[5].strip() else None for r in rows],
            "ori": [r[6].strip().upper() if r[6] and r[6].strip() else None for r in rows],
        })
    return len(rows)


def resolve_all(con: duckdb.DuckDBPyConnection) -> Resolution:
    """Re-resolve every observation held and rebuild the tables that carry agency ids."""
    first_seen: dict[Key, str] = {}
    sightings: list[Sighting] = []
    for uuid, name_key, ori, aos, quarter in con.execute(_SQL["sightings"]).fetchall():
        sighting = sighting_of(uuid, name_key, ori, aos)
        sightings.append(sighting)
        for key in sighting:
            if key not in first_seen or quarter < first_seen[key]:
                first_seen[key] = quarter
    resolution = resolve(sightings, stored_aliases(con))
    origins = dict(con.execute(_SQL["origins"]).fetchall())
    keys = sorted(first_seen)
    con.execute(_SQL["replace_keys"], {
        "kind": [str(k.kind) for k in keys],
        "key": [k.value for k in keys],
        "agency_id": [resolution.agency_of[k] for k in keys],
        "first_seen": [first_seen[k] for k in keys],
        "origin": [origins.get(first_seen[k], "unknown") for k in keys],
    })
    con.execute(_SQL["rebuild_snapshots"])
    return resolution


def merged_in_quarter(con: duckdb.DuckDBPyConnection, quarter: str) -> tuple[QualityWarning, ...]:
    """Observations of the quarter that resolved to one agency (right after resolve_all)."""
    rows = con.execute(_SQL["merged_observations"], {"quarter": quarter}).fetchall()
    con.execute("DROP TABLE IF EXISTS merged_observations")
    return tuple(
        QualityWarning(kind="merged_by_identity", subject=agency_id,
                       detail=(f"{count} rows of {quarter} resolve to the agency {agency_id} ({names}); "
                               "the first (one with a Ring profile if any) stands for it."))
        for _, agency_id, count, names in rows
    )


def heal(con: duckdb.DuckDBPyConnection) -> None:
    """Give a database made before migration 3 the resolved ids (run by the migration)."""
    fill_missing_keys(con)
    resolve_all(con)
    con.execute("DROP TABLE IF EXISTS merged_observations")
