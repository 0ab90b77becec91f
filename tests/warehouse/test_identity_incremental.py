"""A load resolves identity again only around what it changed: the ids it stores must be
exactly those of resolving everything held from scratch, whatever the loads, reloads,
removals and alias changes before it, in whatever order.

Each example runs a random sequence of operations on one warehouse: load a quarter (new or
held again, its rows sharing and moving uuid, name, ORI and AOS keys between agencies), remove
a quarter's load, or change the aliases the next loads apply. After every operation the
stored ids are held to two oracles: the pure identity.resolve over the key sets held, and
identity_store.reresolve (the full resolution a load used to run), run in a transaction that
is rolled back, which must change nothing.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any
from unittest.mock import patch

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ringwatch.scrapers.agency_names import name_key_for
from ringwatch.scrapers.records import Agency, Snapshot
from ringwatch.scrapers.sources import Source
from ringwatch.warehouse import identity_store
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.identity import AliasDecision, Decision, Key, KeyKind, own_key, resolve
from ringwatch.warehouse.identity_store import reresolve, sighting_of, stored_aliases
from ringwatch.warehouse.load import load_agency_snapshot
from ringwatch.warehouse.quarters import Quarter
from ringwatch.warehouse.removal import remove_load

QUARTERS = [Quarter(2020, 1), Quarter(2020, 2), Quarter(2020, 3), Quarter(2021, 1)]
UUIDS = [str(uuid.UUID(int=n + 1)) for n in range(4)]
NAMES = ["Lakeside Police Department", "Lakeside PD", "Hill Sheriff", "Bay Fire", "Lakeside Public Safety"]
ORIS = ["CA0000001", "CA0000002", "CA0000003"]
AOSES = ["AOS1", "AOS2", "AOS3"]
# Tables a load or a removal writes: emptied between examples (one warehouse for all of them,
# since creating one costs ~150 ms of migrations and views).
WRITTEN = ("agency_observation_fields", "agency_observations", "agency_keys", "agency_aliases", "snapshots",
           "quality_warnings", "metric_fields", "removed_loads", "captures", "sync_runs")

# A row: (uuid, name, ORI, AOSNUMBER), each an index into the pools above or None (every row
# has a name, as every map and Atlas row does). An operation: what, which quarter, its rows or
# alias lines.
Row = tuple[int | None, int, int | None, int | None]
Operation = tuple[str, int, list[Any]]
rows = st.tuples(st.one_of(st.none(), st.integers(0, len(UUIDS) - 1)), st.integers(0, len(NAMES) - 1),
                 st.one_of(st.none(), st.integers(0, len(ORIS) - 1)),
                 st.one_of(st.none(), st.integers(0, len(AOSES) - 1)))
every_key = ([Key(KeyKind.UUID, u) for u in UUIDS] + [Key(KeyKind.NAME, name_key_for(n, "Lakeside", "CA"))
                                                       for n in NAMES]
             + [Key(KeyKind.ORI, o) for o in ORIS] + [Key(KeyKind.AOS, a) for a in AOSES])
alias_lines = st.lists(st.tuples(st.sampled_from([Decision.SAME, Decision.DIFFERENT]), st.sampled_from(every_key),
                                 st.sampled_from(every_key)).filter(lambda t: t[1] != t[2]),
                       max_size=3, unique_by=lambda t: frozenset((t[1], t[2])))
operations = st.lists(st.one_of(
    st.tuples(st.just("load"), st.integers(0, len(QUARTERS) - 1), st.lists(rows, min_size=1, max_size=5)),
    st.tuples(st.just("reload"), st.integers(0, 9), st.just([])),  # a quarter held, the same rows again
    st.tuples(st.just("remove"), st.integers(0, 9), st.just([])),  # a quarter held
    st.tuples(st.just("aliases"), st.just(0), alias_lines),
), min_size=2, max_size=8)


@pytest.fixture(scope="module")
def warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(":memory:")
    yield con
    con.close()


def agency(row: Row, position: int) -> Agency:
    u, n, o, a = row
    fields = tuple(f for f in (("ORI", ORIS[o]) if o is not None else None,
                               ("AOSNUMBER", AOSES[a]) if a is not None else None) if f)
    return Agency(agency_id=f"a{position}", name=NAMES[n], agency_type="police", type_basis="name", layer=None,
                  address="Lakeside, CA", city="Lakeside", state="CA", active_date=date(2020, 1, 1),
                  latitude=None, longitude=None,
                  profile_url=f"https://agency.ring.com/agencies/{UUIDS[u]}" if u is not None else None,
                  data_fields=fields, position=position)


def check_against_full_resolution(con: duckdb.DuckDBPyConnection, warnings: set[str]) -> None:
    held = [(sighting_of(*r[:4]), r[4]) for r in con.execute(
        "SELECT profile_uuid, name_key, ori, aos_number, min(quarter) FROM agency_observations GROUP BY ALL"
    ).fetchall()]
    full = resolve([s for s, _ in held], stored_aliases(con))
    first_seen: dict[Key, str] = {}
    for sighting, first in held:
        for key in sighting:
            first_seen[key] = min(first, first_seen.get(key, first))
    origins = dict(con.execute("SELECT quarter, origin FROM snapshots").fetchall())
    expected_keys = sorted((k.kind, k.value, full.agency_of[k], q, origins.get(q, "unknown"))
                           for k, q in first_seen.items())
    assert con.execute("SELECT * FROM agency_keys ORDER BY ALL").fetchall() == expected_keys
    for *keys, agency_id in con.execute(
            "SELECT profile_uuid, name_key, ori, aos_number, agency_id FROM agency_observations").fetchall():
        assert agency_id == full.agency_of[own_key(sighting_of(*keys))]
    # What a load warns of (ambiguous names, alias conflicts) is what resolving everything says.
    assert warnings <= {w.detail for w in full.warnings}
    # One row per quarter and agency stands for it (one with a profile, else the first), and
    # each snapshot counts those.
    assert con.execute(
        "SELECT quarter, observation_no FROM agency_observations WHERE represents_agency ORDER BY ALL").fetchall() \
        == con.execute("SELECT quarter, first(observation_no ORDER BY profile_uuid IS NULL, observation_no) "
                       "FROM agency_observations GROUP BY quarter, agency_id ORDER BY ALL").fetchall()
    assert con.execute("SELECT quarter, rows_loaded FROM snapshots ORDER BY ALL").fetchall() == con.execute(
        "SELECT quarter, count(DISTINCT agency_id) FROM agency_observations GROUP BY quarter ORDER BY ALL").fetchall()

    tables = ("SELECT * FROM agency_keys ORDER BY ALL",
              "SELECT quarter, observation_no, agency_id, represents_agency FROM agency_observations ORDER BY ALL",
              "SELECT quarter, rows_loaded FROM snapshots ORDER BY ALL")
    before = [con.execute(sql).fetchall() for sql in tables]
    con.begin()
    try:
        assert reresolve(con).reidentified == 0
        assert [con.execute(sql).fetchall() for sql in tables] == before
    finally:
        con.rollback()


@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations, st.booleans())
# A name linked to a second ORI row two steps from what the load adds.
@example(ops=[("load", 0, [(None, 0, None, None)]), ("load", 0, [(None, 0, 0, None), (None, 2, 0, None)]),
              ("load", 1, [(None, 0, None, None)])], everything=False)
# Only an alias line changes: the same rows again (another quarter holding them too) resolve otherwise.
@example(ops=[("load", 0, [(None, 0, None, None)]), ("load", 1, [(None, 0, None, None)]),
              ("aliases", 0, [(Decision.SAME, Key(KeyKind.UUID, UUIDS[0]), every_key[len(UUIDS)])]),
              ("reload", 0, [])], everything=False)
# A key first seen in a quarter reloaded without it is first seen in the next quarter holding it.
@example(ops=[("load", 1, [(None, 2, None, None)]), ("load", 0, [(None, 2, None, None)]),
              ("load", 0, [(None, 3, None, None)])], everything=False)
# Two names of one quarter become one agency: one row stands for it, the snapshot counts one.
@example(ops=[("load", 0, [(None, 0, None, None), (None, 2, None, None)]),
              ("load", 1, [(0, 0, None, None), (0, 2, None, None)])], everything=False)
# The only quarter held again without a key it had: the key goes.
@example(ops=[("load", 1, [(None, 0, None, 0)]), ("load", 1, [(None, 0, None, None)])], everything=False)
# Removing the quarter that linked a name to a profile leaves the name an agency of its own.
@example(ops=[("load", 0, [(0, 0, None, None)]), ("load", 1, [(None, 0, None, None)]), ("remove", 0, [])],
         everything=False)
def test_a_load_stores_the_ids_of_resolving_everything_from_scratch(
        warehouse: duckdb.DuckDBPyConnection, ops: list[Operation], everything: bool) -> None:
    """`everything`: every load goes the way of a load that changes most keys (resolving all)."""
    with (patch.multiple(identity_store, _RESOLVE_ALL_SEEDS=-1, _RESOLVE_ALL_SHARE=-1) if everything
          else contextlib.nullcontext()):
        play(warehouse, ops)


def play(con: duckdb.DuckDBPyConnection, ops: list[Operation]) -> None:
    for table in WRITTEN:
        con.execute(f"DELETE FROM {table}")
    aliases: tuple[AliasDecision, ...] = ()
    loaded: dict[Quarter, list[Row]] = {}
    for step, (op, q, detail) in enumerate(ops):
        warnings: set[str] = set()
        if op == "aliases":
            aliases = tuple(AliasDecision(d, a, b, line=n + 2) for n, (d, a, b) in enumerate(detail))
            continue
        if op in ("reload", "remove"):
            if not loaded:
                continue
            quarter = sorted(loaded)[q % len(loaded)]
        else:
            quarter = QUARTERS[q]
        if op == "reload":
            op, detail = "load", loaded[quarter]
        if op == "remove":
            held = con.execute("SELECT run_id FROM snapshots WHERE quarter = ?", [str(quarter)]).fetchone()
            assert held is not None
            remove_load(con, int(held[0]))
            del loaded[quarter]
        else:
            run_row = con.execute("INSERT INTO sync_runs (source, mode, quarter, started_at, status) "
                              "VALUES ('agency_map', 'file', ?, ?, 'success') RETURNING run_id",
                              [str(quarter), datetime(2024, 1, 1)]).fetchone()
            assert run_row is not None
            # The same day each time, a second later: a reload replaces what the quarter held.
            observed = datetime.combine(quarter.last_day, time(0, 0, step), tzinfo=UTC)
            snapshot = Snapshot(Source.AGENCY_MAP, quarter, observed,
                                tuple(agency(r, n) for n, r in enumerate(detail)))
            result = load_agency_snapshot(con, snapshot, capture_id=1, origin=("file", "wayback")[step % 2],
                                          run_id=int(run_row[0]), aliases=aliases)
            assert result.status == "loaded"
            loaded[quarter] = detail
            warnings = {w.detail for w in result.identity_warnings if w.kind != "merged_by_identity"}
        check_against_full_resolution(con, warnings)
