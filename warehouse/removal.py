"""Remove one load: the rows one run wrote go, its raw captures stay.

A mistaken load (the walkthrough's synthetic map in the real database, the wrong Atlas
export) would otherwise count in every comparison for good, and the only way out was to
delete the database. Removing it deletes what the run wrote (an agency-map quarter's
observations, fields, snapshot row and warnings, or a transparency run's figures and
warnings) in one transaction, then resolves identity again as after any load, so the views
read as if it had never been loaded. The captures, rows and bytes, are evidence and stay:
loading the file again brings the load back. The removal is recorded in removed_loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from ringwatch.scrapers.errors import WarehouseError
from ringwatch.scrapers.sources import Source
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.identity import AliasDecision
from ringwatch.warehouse.identity_store import replace_aliases, reresolve
from ringwatch.warehouse.quality import location_of
from ringwatch.warehouse.read import open_read_only
from ringwatch.warehouse.runs import RunStatus
from ringwatch.warehouse.sql import named_queries, run_script

_SQL = named_queries("removal.sql")
LIST_HINT = "run 'ringwatch remove-load' with no run id to list the loads held, with their run ids"


@dataclass(frozen=True, slots=True)
class Removal:
    """What removing one run's load takes away (or took away) and what it leaves."""

    run_id: int
    source: str
    quarter: str | None
    origin: str | None
    url: str | None
    agencies: int | None = None  # agency map: agencies of the snapshot
    observations: int = 0  # agency map: its rows, duplicates merged by identity included
    figures: int | None = None  # transparency
    reports: int = 0
    periods: str = ""
    warnings: int = 0
    captures: tuple[int, ...] = ()
    replaced_run: int | None = None  # agency map: the earlier load of the quarter this one replaced

    def what(self) -> str:
        """The load in a few words: source, quarter, origin, file, and the rows."""
        where = f", from {location_of(self.url)}" if self.url else ""
        head = f"run {self.run_id}: {self.source} {self.quarter or ''} (origin {self.origin or 'unknown'}{where})"
        if self.agencies is not None:
            rows = f"{self.agencies:,} agencies ({self.observations:,} rows)"
        else:
            rows = (f"{self.figures or 0:,} figures of {self.reports} report(s)"
                    + (f", periods {self.periods}" if self.periods else ""))
        return f"{head}: {rows} and {self.warnings} warning(s)"

    def kept(self) -> str:
        """What stays, and how to bring the load back."""
        ids = ", ".join(str(c) for c in self.captures) or "none"
        text = (f"The raw capture(s) ({ids}) are kept, rows and bytes: load the file again to bring it back.")
        if self.replaced_run is not None:
            text += (f" The snapshot of {self.quarter} that this load replaced (run {self.replaced_run}) is not "
                     "restored: it was deleted when this one loaded; load its file again if you want it.")
        return text


def plan_removal(con: duckdb.DuckDBPyConnection, run_id: int) -> Removal:
    """What removing `run_id` would take away; a WarehouseError naming the run when there is
    nothing to remove (no such run, a failed or unchanged run, one already removed or replaced)."""
    run = con.execute(_SQL["run"], {"run_id": run_id}).fetchone()
    if run is None:
        raise WarehouseError(f"there is no run {run_id} in this database; {LIST_HINT}.")
    _, source, mode, quarter, status, url, error = run
    if _has_removals(con):
        removed = con.execute(_SQL["removal_of"], {"run_id": run_id}).fetchone()
        if removed is not None:
            raise WarehouseError(f"run {run_id} ({source} {quarter or ''}) was already removed on "
                                 f"{removed[0]:%Y-%m-%d %H:%M} UTC (see removed_loads); nothing to do. "
                                 "Loading its file again makes a new run, which can be removed in turn.")
    if status != RunStatus.SUCCESS:
        why = {RunStatus.FAILED: f"it failed ({error or 'no reason recorded'})",
               RunStatus.RUNNING: "it has not finished",
               RunStatus.UNCHANGED: "it was unchanged (nothing new, or a nearer observation of the quarter was kept)"}
        raise WarehouseError(f"run {run_id} ({source} {quarter or ''}, {mode}) loaded nothing to remove: "
                             f"{why.get(RunStatus(status), str(status))}; {LIST_HINT}.")
    captures = tuple(int(r[0]) for r in con.execute(_SQL["run_captures"], {"run_id": run_id}).fetchall())
    if source == Source.AGENCY_MAP:
        return _plan_snapshot(con, run_id, quarter, url, captures)
    return _plan_figures(con, run_id, source, quarter, url, captures)


def _plan_snapshot(con: duckdb.DuckDBPyConnection, run_id: int, quarter: str | None, url: str | None,
                   captures: tuple[int, ...]) -> Removal:
    held = con.execute(_SQL["snapshot_of_run"], {"run_id": run_id}).fetchone()
    if held is None:
        now = con.execute(_SQL["snapshot_of_quarter"],
                          {"source": str(Source.AGENCY_MAP), "quarter": quarter}).fetchone()
        since = (f"the {quarter} snapshot now held was loaded by run {now[0]} ({now[1]}); remove that run instead"
                 if now else f"no snapshot of {quarter} is held")
        raise WarehouseError(f"nothing run {run_id} loaded (agency_map {quarter}) is still held: a later load "
                             f"replaced it or it went with another run; {since}.")
    quarter, origin, agencies = held
    observations, warnings = con.execute(_SQL["quarter_rows"], {"quarter": quarter, "run_id": run_id}).fetchall()[0]
    return Removal(run_id, Source.AGENCY_MAP, quarter, origin, url, agencies=int(agencies),
                   observations=int(observations), warnings=int(warnings), captures=captures,
                   replaced_run=_replaced(con, run_id, quarter))


def _replaced(con: duckdb.DuckDBPyConnection, run_id: int, quarter: str) -> int | None:
    removed = ({int(r[0]) for r in con.execute(_SQL["removed_runs"]).fetchall()}
               if _has_removals(con) else set())
    earlier = con.execute(_SQL["loads_of_quarter_before"], {"quarter": quarter, "run_id": run_id}).fetchall()
    return next((int(r[0]) for r in earlier if int(r[0]) not in removed), None)


def _plan_figures(con: duckdb.DuckDBPyConnection, run_id: int, source: str, quarter: str | None, url: str | None,
                  captures: tuple[int, ...]) -> Removal:
    figures, reports, periods, origin, warnings = con.execute(_SQL["run_figures"], {"run_id": run_id}).fetchall()[0]
    if not figures:
        raise WarehouseError(f"nothing run {run_id} loaded ({source} {quarter or ''}) is still held: its figures "
                             f"went with another run's removal; {LIST_HINT}.")
    return Removal(run_id, source, quarter, origin, url, figures=int(figures), reports=int(reports),
                   periods=str(periods), warnings=int(warnings), captures=captures)


def remove_load(con: duckdb.DuckDBPyConnection, run_id: int, *,
                aliases: tuple[AliasDecision, ...] | None = None) -> Removal:
    """Remove the run's load in one transaction (call with the writer lock held), resolve
    identity again with `aliases` (the reviewed aliases file) as a load would, and record it."""
    con.begin()
    try:
        removal = plan_removal(con, run_id)
        params: dict[str, object] = {"run_id": run_id, "quarter": removal.quarter}
        run_script(con, _SQL["remove_snapshot" if removal.agencies is not None else "remove_figures"], params)
        if removal.agencies is not None:
            if aliases is not None:
                replace_aliases(con, aliases)
            reresolve(con)
        detail = f"removed {removal.what()}. {removal.kept()}"
        run_script(con, _SQL["record_removal"], {
            "run_id": run_id, "source": removal.source, "quarter": removal.quarter, "origin": removal.origin,
            "agencies": removal.agencies, "figures": removal.figures, "warnings": removal.warnings,
            "removed_at": utcnow(), "detail": detail})
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return removal


@dataclass(frozen=True, slots=True)
class HeldLoad:
    run_id: int
    source: str
    quarter: str | None
    origin: str | None
    rows: int
    url: str | None
    finished_at: datetime | None


def held_loads(con: duckdb.DuckDBPyConnection) -> list[HeldLoad]:
    """Every load still held, by run: what remove-load can remove."""
    return [HeldLoad(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5], r[6])
            for r in con.execute(_SQL["loads"]).fetchall()]


def _has_removals(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(_SQL["has_removals_table"]).fetchone()
    return bool(row and row[0])



def preview_removal(db_path: Path, run_id: int) -> Removal:
    """What remove-load would take away, read-only: nothing is locked or written."""
    con = open_read_only(db_path)
    try:
        return plan_removal(con, run_id)
    finally:
        con.close()


def list_loads(db_path: Path) -> list[HeldLoad]:
    con = open_read_only(db_path)
    try:
        return held_loads(con)
    finally:
        con.close()


def remove_from(db_path: Path, run_id: int, *, aliases: tuple[AliasDecision, ...] | None,
                lock_timeout_seconds: float) -> Removal:
    """Remove the load under the writer lock, as every writer does; never creates a database."""
    if not Path(db_path).exists():
        raise WarehouseError(f"no ringwatch database at {db_path}; pass --db / set RINGWATCH_DB to the right file.")
    with Warehouse.open(db_path, lock_timeout_seconds=lock_timeout_seconds) as wh:
        return remove_load(wh.con, run_id, aliases=aliases)
