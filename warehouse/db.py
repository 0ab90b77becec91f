"""Open the DuckDB warehouse, apply versioned migrations and (re)create the views.

Migrations are `migrations/NNN_name.sql`, applied once each in order and recorded in
`schema_migrations`; a migration already applied whose file has since changed is an error
(write a new migration instead). Views are `views/<view_name>.sql`; a read-write open
recreates them all when any view file changed or a migration ran (schema_views keeps the hash), so a view fix reaches
existing databases without every opening paying for it; each is created after the views
it reads.
"""

from __future__ import annotations

import hashlib
import re
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from ringwatch.scrapers.errors import DatabaseBusy, WarehouseError
from ringwatch.warehouse.captures import CaptureStore, open_capture_store
from ringwatch.warehouse.lock import WriterLock
from ringwatch.warehouse.runs import close_interrupted_runs
from ringwatch.warehouse.schema_template import create_from_template, forget_template
from ringwatch.warehouse.sql import SqlFile, sql_files

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _connect_keeping_signals(path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, with Ctrl-C and SIGTERM blocked while DuckDB starts its worker threads.

    Threads inherit the signal mask of the thread that starts them. A DuckDB thread that could
    take SIGINT would receive it in the main thread's place, and a main thread blocked on the
    network (a sync fetches after it has opened the database once) would not be woken: the
    command then stopped only when the slow response ended (seen: 20 s). A signal that arrives
    while blocked here is delivered when the mask is restored."""
    if not hasattr(signal, "pthread_sigmask"):
        return duckdb.connect(path, read_only=read_only)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        return duckdb.connect(path, read_only=read_only)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def connect(db_path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database; read-write opens are migrated and get fresh views. A new file starts
    as a copy of the cached empty warehouse (schema_template), which spares it the migrations."""
    path = Path(db_path)
    if read_only and str(db_path) != ":memory:" and not path.exists():
        raise WarehouseError(
            f"no ringwatch database at {path}; run 'ringwatch sync' first, or pass --db / "
            "set RINGWATCH_DB to the right file."
        )
    if not read_only and str(db_path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() and create_from_template(path, _build_empty_warehouse, sql_files):
            copy = _adopt_template_copy(path)
            if copy is not None:
                return copy
    con = _open(path, str(db_path), read_only=read_only)
    if not read_only:
        migrate(con)
    return con


def _open(path: Path, name: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return _connect_keeping_signals(name, read_only=read_only)
    except duckdb.Error as exc:
        # DuckDB raises one IOException class for every failure to open; only its own words
        # (never the path, which may contain "lock") tell a busy file from a broken one.
        said = str(exc).replace(name, "")
        if "Could not set lock on file" in said or "Conflicting lock" in said:
            raise DatabaseBusy(f"cannot open the database {path}: {exc}") from exc
        if "not a valid DuckDB database file" in said:
            raise WarehouseError(
                f"{path.resolve()} is not a DuckDB database; check --db / RINGWATCH_DB (the database is "
                "the .duckdb file, not its .lock, .wal or captures folder).") from exc
        raise WarehouseError(f"cannot open the database {path}: {exc}") from exc


def _build_empty_warehouse(path: Path) -> None:
    con = _connect_keeping_signals(str(path), read_only=False)
    try:
        migrate(con)
    finally:
        con.close()


def _adopt_template_copy(path: Path) -> duckdb.DuckDBPyConnection | None:
    """Open a new database just copied from the schema template: migrate it (nothing is pending
    unless the template was wrong) and date its schema records to now. A copy that will not open
    or migrate is ours to remove: it is deleted with its template, and None says to create the
    database from the migrations instead."""
    con: duckdb.DuckDBPyConnection | None = None
    try:
        con = _open(path, str(path), read_only=False)  # DatabaseBusy (someone has it open) is raised
        migrate(con)
        now = datetime.now(UTC).replace(tzinfo=None)
        con.execute("UPDATE schema_migrations SET applied_at = ?", [now])
        con.execute("UPDATE schema_views SET created_at = ?", [now])
        return con
    except DatabaseBusy:
        if con is not None:
            con.close()
        raise
    except (duckdb.Error, WarehouseError):
        if con is not None:
            con.close()
        for ours in (path, path.with_name(path.name + ".wal")):
            ours.unlink(missing_ok=True)
        forget_template(sql_files)
        return None


def views_in_dependency_order(views: list[SqlFile]) -> list[SqlFile]:
    """Views ordered so that each comes after the views it reads (found by name in its SQL),
    else by file name; DuckDB binds a view when it is created."""
    names = {v.name.removesuffix(".sql"): v for v in views}
    read = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)", re.I)
    needs = {name: {other for other in read.findall(view.text) if other in names and other != name}
             for name, view in names.items()}
    ordered: list[SqlFile] = []
    done: set[str] = set()
    while len(done) < len(names):
        ready = sorted(n for n in names if n not in done and needs[n] <= done)
        if not ready:
            raise WarehouseError(f"views depend on each other in a cycle: {sorted(set(names) - done)}")
        ordered.append(names[ready[0]])
        done.add(ready[0])
    return ordered


def _heal_identities(con: duckdb.DuckDBPyConnection) -> None:
    from ringwatch.warehouse.identity_store import heal  # loaded only when a migration needs it

    heal(con)


def _fill_metric_fields(con: duckdb.DuckDBPyConnection) -> None:
    from ringwatch.warehouse.metrics import fill_metric_fields

    fill_metric_fields(con)


# Work a migration needs done in Python, right after its SQL, in the same transaction.
_DATA_STEPS = {"003_agency_identity.sql": _heal_identities, "005_video_requests_and_states.sql": _fill_metric_fields}


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations and (re)create the views when their files changed or a
    migration ran, in one transaction; return what ran."""
    applied: list[str] = []
    con.begin()
    try:
        con.execute(resources.files("ringwatch.warehouse").joinpath("schema_migrations.sql").read_text(encoding="utf-8"))
        done = dict(con.execute("SELECT version, sha256 FROM schema_migrations").fetchall())
        for migration in sql_files("migrations"):
            version = int(migration.name.split("_", 1)[0])
            if version in done:
                if done[version] != migration.sha256:
                    raise WarehouseError(
                        f"migration {migration.name} changed after it was applied to this "
                        "database; never edit an applied migration, add a new one."
                    )
                continue
            con.execute(migration.text)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                [version, migration.name, migration.sha256, datetime.now(UTC).replace(tzinfo=None)],
            )
            applied.append(migration.name)
            if migration.name in _DATA_STEPS and done:  # a new database has nothing to heal or fill
                _DATA_STEPS[migration.name](con)
        views = views_in_dependency_order(sql_files("views"))
        views_sha = hashlib.sha256("".join(v.sha256 for v in views).encode("ascii")).hexdigest()
        current = con.execute("SELECT sha256 FROM schema_views").fetchall()
        if applied or current != [(views_sha,)]:
            for view in views:
                con.execute(view.text)
            con.execute("DELETE FROM schema_views")
            con.execute("INSERT INTO schema_views VALUES (?, ?)", [views_sha, datetime.now(UTC).replace(tzinfo=None)])
        con.commit()
    except Exception:
        con.rollback()
        raise
    return applied


def _connect_waiting_for_readers(path: str | Path, timeout_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open read-write once the writer lock is ours. A reader (ringwatch query, status) may
    still hold DuckDB's own file lock for a moment; wait for it rather than fail."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            return connect(path)
        except DatabaseBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


@dataclass
class Warehouse:
    """An open read-write database, its capture store and the writer lock."""

    path: Path
    con: duckdb.DuckDBPyConnection
    captures: CaptureStore
    lock: WriterLock | None = None

    @classmethod
    def open(cls, path: str | Path, *, lock_timeout_seconds: float = 600.0, captures: str = "") -> Warehouse:
        """Wait for the writer lock (one writer at a time), then open read-write. `captures` names
        the capture store ("" is the folder beside the database; see captures.open_capture_store)."""
        store = open_capture_store(captures, path)
        lock = WriterLock(path, timeout_seconds=lock_timeout_seconds)
        lock.acquire()
        try:
            con = _connect_waiting_for_readers(path, lock_timeout_seconds)
            close_interrupted_runs(con)
        except BaseException:
            lock.release()
            raise
        return cls(Path(path), con, store, lock)

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            if self.lock is not None:
                self.lock.release()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
