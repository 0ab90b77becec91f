"""Identity in the warehouse: observations in, resolved ids out, on every load.

A load writes the snapshot's rows as observations (what the source said, with its keys),
each with its resolved agency id (warehouse/identity.py); the views agency_snapshots,
agency_snapshot_fields and agencies read them, and agency_keys holds every key's agency.
The ids depend on what is held, never on what came first, so the loading order cannot
change them.

A load resolves again only what it can change. The resolution of a key depends only on the
observations and aliases connected to it (sharing a key, step by step), so only the keys
connected to what the load adds or takes away can move: the key sets no other quarter
holds, and the alias lines that changed. _resolve_change walks from those keys through the
stored observations and the aliases, resolves that part (identity.resolve, as for
everything), and rewrites only the keys, and the observations of other quarters, whose
agency changed (a profile now links a name that was an agency of its own). A quarter of
known agencies touches a few dozen keys, however many quarters are held. reresolve()
resolves everything from scratch (a database made before migration 3; the test oracle).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from ringwatch.scrapers.agency_names import name_key_for
from ringwatch.scrapers.normalize import parse_number, uuid_from_profile
from ringwatch.scrapers.records import Agency, QualityWarning, Snapshot
from ringwatch.warehouse.identity import (
    AliasDecision,
    Decision,
    Key,
    KeyKind,
    Resolution,
    Sighting,
    own_key,
    resolve,
)
from ringwatch.warehouse.sql import insert_batch, named_queries, run_script, select_batch

_SQL = named_queries("identity.sql")
_AOS_FIELDS = frozenset({"AOSNUMBER"})
_ORI_FIELDS = frozenset({"NEWAOSNUMBER (ORI9)", "ORI9", "ORI"})
# Rows per INSERT: bounds the memory DuckDB needs to convert the parameter lists.
_CHUNK_ROWS = 25_000
# A load whose change reaches more keys than this, and more than this share of the keys stored
# (the 2021 format change: every placemark a new key set), resolves everything instead: the
# walk would read most of what is held anyway, a few rows at a time.
_RESOLVE_ALL_SEEDS = 1_000
_RESOLVE_ALL_SHARE = 0.5


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
                      observed: datetime, origin: str,
                      aliases: Sequence[AliasDecision] | None = None) -> IdentityOutcome:
    """Make the quarter's observations exactly the snapshot's rows, every id resolved; with
    `aliases` (the reviewed aliases file), replace the stored aliases first.

    The warnings are those of the agencies the load re-resolved (what it added, took away, or
    an alias line changed) and the rows of the snapshot merged into one agency.
    """
    quarter = str(snapshot.quarter)
    alias_keys: set[Key] = set()
    if aliases is not None:
        alias_keys = _changed_alias_keys(stored_aliases(con), aliases)
        replace_aliases(con, aliases)
    before = {_row(r) for r in con.execute(_SQL["rows_of_quarter"], {"quarter": quarter}).fetchall()}
    con.execute("DELETE FROM agency_observation_fields WHERE quarter = ?", [quarter]).fetchall()
    con.execute("DELETE FROM agency_observations WHERE quarter = ?", [quarter]).fetchall()
    rows = [keys_of(a) for a in snapshot.agencies]
    new = [sighting_of(*r) for r in rows]
    change = None
    observations, unresolved, stored_keys = con.execute(_SQL["held"]).fetchall()[0]
    if not unresolved:
        change = _resolve_change(con, leaving=before, arriving=dict(zip(rows, new, strict=True)),
                                 alias_keys=alias_keys, quarter=quarter, origin=str(origin),
                                 held=bool(observations), stored=int(stored_keys))
    if change is None:  # rows without ids (a database not healed), a change reaching most keys,
        # or agency_keys out of step with the observations: resolve everything
        resolution, reidentified = _resolve_and_store(con, new_sightings=new, quarter=quarter, origin=str(origin))
        change = _Change(resolution.agency_of, resolution.warnings, reidentified)
    ids = [change.agency_of[own_key(s)] for s in new]
    represents = _representatives(ids, rows)
    for start in range(0, len(rows), _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        _insert_chunk(con, quarter, snapshot.agencies[start:stop], rows[start:stop], ids[start:stop],
                      represents[start:stop], first=start, capture_id=capture_id, observed=observed)
    return IdentityOutcome(agencies=sum(represents), reidentified=change.reidentified,
                           warnings=change.warnings + _merged(snapshot, ids, represents))


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


Row = tuple[str | None, str | None, str | None, str | None]  # (uuid, name key, ORI, AOSNUMBER) as stored


@dataclass(frozen=True, slots=True)
class _Change:
    """What resolving a change gave: the agency of every key it touched (every key of the
    quarter loaded among them), its warnings, and the stored observations it re-identified."""

    agency_of: dict[Key, str]
    warnings: tuple[QualityWarning, ...]
    reidentified: int


def _row(values: tuple[object, ...]) -> Row:
    uuid, name_key, ori, aos = (None if v is None else str(v) for v in values)
    return uuid, name_key, ori, aos


def _changed_alias_keys(before: Sequence[AliasDecision], after: Sequence[AliasDecision]) -> set[Key]:
    """The keys of the alias lines added or taken away (a line's number decides nothing)."""
    changed = {(d.decision, d.a, d.b) for d in before} ^ {(d.decision, d.a, d.b) for d in after}
    return {key for _, a, b in changed for key in (a, b)}


def _by_kind(keys: set[Key]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {kind: [] for kind in KeyKind.ALL}
    for key in keys:
        values[key.kind].append(key.value)
    return {kind: sorted(v) for kind, v in values.items()}


def _resolve_change(con: duckdb.DuckDBPyConnection, *, leaving: set[Row], arriving: dict[Row, Sighting],
                    alias_keys: set[Key], quarter: str | None, origin: str | None, held: bool,
                    stored: int) -> _Change | None:
    """Resolve what a change can move, and store it: `leaving`, the key sets of the quarter's
    rows just deleted, give way to `arriving`, those of the rows about to be inserted (with
    their keys); the alias lines naming `alias_keys` changed; `held`: other observations are
    held; `stored`: the rows of agency_keys. None, with nothing written, when the change
    reaches most keys (_RESOLVE_ALL_SEEDS, _RESOLVE_ALL_SHARE) or agency_keys turns out not
    to hold a key it should: the caller then resolves everything.

    The resolution of a key depends only on the key sets and aliases connected to it, so
    resolving the part connected to the key sets no other quarter holds, that arrive or
    leave, gives exactly what resolving everything would give (identity.resolve, which the
    property test tests/warehouse/test_identity_incremental.py holds it to).
    """
    def keys(row: Row) -> Sighting:
        return arriving.get(row) or sighting_of(*row)

    arriving_keys = {k for sighting in arriving.values() for k in sighting}
    leaving_keys = {k for r in leaving for k in keys(r)}
    wanted: dict[Key, tuple[str, str, str]] = {}
    if not held:  # nothing else held: the quarter's keys are all there is
        if quarter is None or origin is None:
            return None
        resolution = resolve(arriving.values(), stored_aliases(con))
        was = _stored_keys(con, arriving_keys | leaving_keys) if stored else {}
        if len(was) < stored:
            return None  # keys stored that no observation carries
        wanted = {k: (resolution.agency_of[k], quarter, origin) for k in arriving_keys}
    else:
        candidates = leaving ^ arriving.keys()  # key sets in one and not the other
        seeds = alias_keys | {k for row in _not_held(con, candidates) for k in keys(row)}
        if len(seeds) > _RESOLVE_ALL_SEEDS and len(seeds) > _RESOLVE_ALL_SHARE * stored:
            return None
        aliases = stored_aliases(con) if seeds else ()
        rows, reached = _connected(con, seeds, arriving, aliases, keys)
        resolution = resolve([keys(r) for r in rows], [a for a in aliases if a.a in reached])
        resolved = {k for r in rows for k in keys(r)}  # the part's keys still held
        touched = resolved | arriving_keys | leaving_keys | seeds
        was = _stored_keys(con, touched) if stored else {}
        first_again: set[Key] = set()
        for key in touched:
            old = was.get(key)
            if key in resolved:
                agency_id = resolution.agency_of[key]
            elif key in seeds:
                continue  # no observation carries it any more: its row goes
            elif old is None:
                return None  # held (every key set carrying it is unchanged) yet not stored
            else:
                agency_id = old[0]
            if key in arriving_keys and quarter is not None and origin is not None:
                first, where = (quarter, origin) if old is None or old[1] >= quarter else (old[1], old[2])
            elif old is None:
                return None
            else:
                first, where = old[1], old[2]
                if old[1] == quarter:  # first seen in the quarter replaced, not in its new rows
                    first_again.add(key)
            wanted[key] = (agency_id, first, where)
        if first_again:
            origins = dict(con.execute(_SQL["origins"]).fetchall())
            for kind, value, first in con.execute(_SQL["first_quarters"], _by_kind(first_again)).fetchall():
                key = Key(kind, value)
                wanted[key] = (wanted[key][0], first, origins.get(first, "unknown"))
    gone = [Key(*k) for k in was if k not in wanted]
    stale = [Key(*k) for k, v in was.items() if k in wanted and wanted[Key(*k)] != v]
    fresh = [k for k, v in wanted.items() if was.get(k) != v]
    moved = {k: (was[k][0], wanted[k][0]) for k in stale if was[k][0] != wanted[k][0]}
    if gone or stale:
        con.execute(_SQL["delete_keys"], {"kind": [k.kind for k in gone + stale],
                                          "key": [k.value for k in gone + stale]}).fetchall()
    if fresh:
        insert_batch(con, _SQL["insert_keys"], {
            "kind": [k.kind for k in fresh], "key": [k.value for k in fresh],
            "agency_id": [wanted[k][0] for k in fresh], "first_seen": [wanted[k][1] for k in fresh],
            "origin": [wanted[k][2] for k in fresh],
        })
    reidentified = 0
    if moved:
        quarters = con.execute(_SQL["reidentify_keys"], {
            "kind": [k.kind for k in moved], "key": [k.value for k in moved],
            "agency_id": [new for _, new in moved.values()]}).fetchall()
        reidentified = len(quarters)
        if quarters:
            run_script(con, _SQL["recount_agencies"], {
                "agency_ids": sorted({agency for pair in moved.values() for agency in pair}),
                "quarters": sorted({str(q[0]) for q in quarters})})
    return _Change({k: v[0] for k, v in wanted.items()}, resolution.warnings, reidentified)


def _not_held(con: duckdb.DuckDBPyConnection, candidates: set[Row]) -> set[Row]:
    """The candidate key sets that no observation held carries."""
    if not candidates:
        return set()
    given = list(candidates)
    return {_row(r) for r in con.execute(_SQL["rows_not_held"], {
        "uuid": [r[0] for r in given], "name": [r[1] for r in given],
        "ori": [r[2] for r in given], "aos": [r[3] for r in given]}).fetchall()}


def _connected(con: duckdb.DuckDBPyConnection, seeds: set[Key], arriving: dict[Row, Sighting],
               aliases: Sequence[AliasDecision], keys: Callable[[Row], Sighting]) -> tuple[set[Row], set[Key]]:
    """Every key set (held, or arriving) and every key connected to `seeds`: through the key
    sets that carry a key, and through the alias lines that name one, step by step."""
    arriving_with: dict[Key, list[Row]] = defaultdict(list)
    for row, sighting in arriving.items():
        for key in sighting:
            arriving_with[key].append(row)
    aliased: dict[Key, set[Key]] = defaultdict(set)
    for decision in aliases:
        aliased[decision.a].add(decision.b)
        aliased[decision.b].add(decision.a)
    rows: set[Row] = set()
    reached = set(seeds)
    frontier = set(seeds)
    while frontier:
        found = {r for k in frontier for r in arriving_with.get(k, ())}
        found |= {_row(r) for r in con.execute(_SQL["rows_touching"], _by_kind(frontier)).fetchall()}
        found -= rows
        rows |= found
        step = {k for r in found for k in keys(r)} | {o for k in frontier for o in aliased.get(k, ())}
        frontier = step - reached
        reached |= frontier
    return rows, reached


def _stored_keys(con: duckdb.DuckDBPyConnection, keys: set[Key]) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The stored (agency id, first quarter seen, its origin) of each of the keys stored, by
    (kind, value): a Key is that tuple, so a Key finds it."""
    given = list(keys)
    found = select_batch(con, _SQL["keys_among"], {"kind": [k.kind for k in given], "key": [k.value for k in given]})
    return {row[:2]: row[2:] for row in found}


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


