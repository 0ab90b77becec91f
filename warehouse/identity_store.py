"""Identity in the warehouse: observations in, resolved ids out, on every load.

A load writes the snapshot's rows as observations (what the source said, with its keys)
after resolving every key held, old and new, from scratch (warehouse/identity.py): the ids
depend on what is held, never on what came first, so the loading order cannot change them.
Each observation carries its resolved agency id; the views agency_snapshots,
agency_snapshot_fields and agencies read them. When new evidence re-identifies agencies of
earlier quarters (a profile now links a name that was an agency of its own), their rows are
updated in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from ringwatch.scrapers.agency_names import name_key_for
from ringwatch.scrapers.normalize import parse_number, uuid_from_profile
from ringwatch.scrapers.records import Agency, QualityWarning, Snapshot
from ringwatch.warehouse.db import insert_batch, named_queries, run_script
from ringwatch.warehouse.identity import AliasDecision, Decision, Key, KeyKind, Resolution, Sighting, resolve

_SQL = named_queries("identity.sql")
_AOS_FIELDS = frozenset({"AOSNUMBER"})
_ORI_FIELDS = frozenset({"NEWAOSNUMBER (ORI9)", "ORI9", "ORI"})
# Rows per INSERT: bounds the memory DuckDB needs to convert the parameter lists.
_CHUNK_ROWS = 25_000


@dataclass(frozen=True, slots=True)
class IdentityOutcome:
    """What resolution did to a quarter: its agencies, and what a person should look at."""

    agencies: int
    warnings: tuple[QualityWarning, ...]
    reidentified: int  # observations of other quarters whose agency id changed


def sighting_of(profile_uuid: str | None, name_key: str | None, ori: str | None,
                aos_number: str | None) -> Sighting:
    keys = [Key(KeyKind.UUID, profile_uuid) if profile_uuid else None,
            Key(KeyKind.NAME, name_key) if name_key else None,
            Key(KeyKind.ORI, ori) if ori else None,
            Key(KeyKind.AOS, aos_number) if aos_number else None]
    return tuple(k for k in keys if k is not None)


def keys_of(agency: Agency) -> tuple[str | None, str | None, str | None, str | None]:
    """(profile uuid, name key, ORI, AOSNUMBER) of a parsed row."""
    return (uuid_from_profile(agency.profile_url), name_key_for(agency.name, agency.city, agency.state),
            _field(agency, _ORI_FIELDS), _field(agency, _AOS_FIELDS))


def _field(agency: Agency, names: frozenset[str]) -> str | None:
    for name, value in agency.data_fields:
        if name.strip().upper() in names and value.strip():
            return value.strip().upper()
    return None


def load_observations(con: duckdb.DuckDBPyConnection, snapshot: Snapshot, *, capture_id: int,
                      observed: datetime, origin: str) -> IdentityOutcome:
    """Make the quarter's observations exactly the snapshot's rows, every id resolved."""
    quarter = snapshot.quarter
    con.execute("DELETE FROM agency_observation_fields WHERE quarter = ?", [quarter]).fetchall()
    con.execute("DELETE FROM agency_observations WHERE quarter = ?", [quarter]).fetchall()
    rows = [keys_of(a) for a in snapshot.agencies]
    new = [sighting_of(*r) for r in rows]
    resolution, reidentified = _resolve_and_store(con, new_sightings=new, quarter=quarter, origin=origin)
    ids = [resolution.agency_for(s) for s in new]
    represents = _representatives(ids, rows)
    for start in range(0, len(rows), _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        _insert_chunk(con, quarter, snapshot.agencies[start:stop], rows[start:stop], ids[start:stop],
                      represents[start:stop], first=start, capture_id=capture_id, observed=observed)
    return IdentityOutcome(agencies=sum(represents), reidentified=reidentified,
                           warnings=resolution.warnings + _merged(snapshot, ids, represents))


def reresolve(con: duckdb.DuckDBPyConnection) -> IdentityOutcome:
    """Resolve everything held again (after new aliases, or to heal an old database)."""
    resolution, reidentified = _resolve_and_store(con, new_sightings=[], quarter=None, origin=None)
    return IdentityOutcome(agencies=0, warnings=resolution.warnings, reidentified=reidentified)


def _representatives(ids: list[str], rows: Sequence[tuple[str | None, ...]]) -> list[bool]:
    """One row per agency represents it in the quarter: one with a profile, else the first."""
    chosen: dict[str, int] = {}
    for n, agency_id in enumerate(ids):
        best = chosen.get(agency_id)
        if best is None or (rows[best][0] is None and rows[n][0] is not None):
            chosen[agency_id] = n
    winners = set(chosen.values())
    return [n in winners for n in range(len(ids))]


def _merged(snapshot: Snapshot, ids: list[str], represents: list[bool]) -> tuple[QualityWarning, ...]:
    groups: dict[str, list[int]] = defaultdict(list)
    for n, agency_id in enumerate(ids):
        groups[agency_id].append(n)
    warnings = []
    for agency_id, members in sorted(groups.items()):
        if len(members) < 2:
            continue
        members.sort(key=lambda n: not represents[n])
        names = "; ".join(f"{a.name} ({a.city or ''}, {a.state or ''})"
                          for a in (snapshot.agencies[n] for n in members))
        warnings.append(QualityWarning(
            kind="merged_by_identity", subject=agency_id,
            detail=(f"{len(members)} rows of {snapshot.quarter} resolve to the agency {agency_id} ({names}); "
                    "the first (one with a Ring profile if any) stands for it.")))
    return tuple(warnings)


def _resolve_and_store(con: duckdb.DuckDBPyConnection, *, new_sightings: list[Sighting], quarter: str | None,
                       origin: str | None) -> tuple[Resolution, int]:
    """Resolve the stored observations with the new ones; write agency_keys; re-identify the
    stored observations whose id changed. Return the resolution and how many changed."""
    first_seen: dict[Key, str] = {}
    sightings: list[Sighting] = []
    for uuid, name_key, ori, aos, first in con.execute(_SQL["sightings"]).fetchall():
        sighting = sighting_of(uuid, name_key, ori, aos)
        sightings.append(sighting)
        for key in sighting:
            if key not in first_seen or first < first_seen[key]:
                first_seen[key] = first
    for sighting in new_sightings:
        sightings.append(sighting)
        for key in sighting:
            if quarter is not None and (key not in first_seen or quarter < first_seen[key]):
                first_seen[key] = quarter
    resolution = resolve(sightings, stored_aliases(con))
    origins = dict(con.execute(_SQL["origins"]).fetchall())
    if quarter is not None and origin is not None:
        origins[quarter] = origin
    wanted = {(k.kind, k.value): (resolution.agency_of[k], q, origins.get(q, "unknown"))
              for k, q in first_seen.items()}
    stored = {(kind, key): (agency_id, q, o)
              for kind, key, agency_id, q, o in con.execute(_SQL["stored_keys"]).fetchall()}
    stale = [k for k, v in stored.items() if wanted.get(k) != v]
    fresh = [k for k, v in wanted.items() if stored.get(k) != v]
    if stale:
        con.execute(_SQL["delete_keys"], {"kind": [k[0] for k in stale], "key": [k[1] for k in stale]}).fetchall()
    if fresh:
        insert_batch(con, _SQL["insert_keys"], {
            "kind": [k[0] for k in fresh], "key": [k[1] for k in fresh],
            "agency_id": [wanted[k][0] for k in fresh], "first_seen": [wanted[k][1] for k in fresh],
            "origin": [wanted[k][2] for k in fresh],
        })
    moved = any(k in stored and stored[k][0] != wanted.get(k, (None,))[0] for k in stale)
    unresolved = con.execute(_SQL["count_unresolved"]).fetchall()[0]
    reidentified = 0
    if moved or unresolved[0]:
        rows = con.execute(_SQL["reidentify"]).fetchall()
        reidentified = int(rows[0][0]) if rows else 0
        run_script(con, _SQL["recount"])
    return resolution, reidentified


def _insert_chunk(con: duckdb.DuckDBPyConnection, quarter: str, agencies: Sequence[Agency],
                  keys: Sequence[tuple[str | None, ...]], ids: Sequence[str], represents: Sequence[bool], *,
                  first: int, capture_id: int, observed: datetime) -> None:
    n = len(agencies)
    numbers = list(range(first, first + n))
    insert_batch(con, _SQL["insert_observations"], {
        "quarter": [quarter] * n,
        "observation_no": numbers,
        "agency_id": list(ids),
        "represents": list(represents),
        "profile_uuid": [k[0] for k in keys],
        "name_key": [k[1] for k in keys],
        "ori": [k[2] for k in keys],
        "aos_number": [k[3] for k in keys],
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
        insert_batch(con, _SQL["insert_fields"], {
            "quarter": [quarter] * len(fields),
            "observation_no": [f[0] for f in fields],
            "field": [f[1] for f in fields],
            "text": [f[2] for f in fields],
            "number": [f[3] for f in fields],
        })


def replace_aliases(con: duckdb.DuckDBPyConnection, aliases: Sequence[AliasDecision]) -> None:
    run_script(con, _SQL["replace_aliases"], {
        "line_no": [a.line for a in aliases],
        "decision": [str(a.decision) for a in aliases],
        "key_a": [str(a.a) for a in aliases],
        "key_b": [str(a.b) for a in aliases],
        "note": [a.note for a in aliases],
    })


def stored_aliases(con: duckdb.DuckDBPyConnection) -> tuple[AliasDecision, ...]:
    def key(text: str) -> Key:
        kind, _, value = text.partition(":")
        return Key(kind, value)

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


def heal(con: duckdb.DuckDBPyConnection) -> None:
    """Give a database made before migration 3 its keys and resolved ids (run by the migration)."""
    if fill_missing_keys(con):
        reresolve(con)


