"""A new warehouse file starts as a copy of an empty, fully migrated one kept in the user's cache.

Creating the schema from the migrations costs DuckDB about a third of a millisecond per
`COMMENT ON` (there are some 350: every table, view and column is documented), which made
creating a database cost more than loading 2,700 agencies into it. A copied file keeps the
comments, so the second and every later new warehouse on a machine costs a file copy; the
first one is migrated as before and leaves its empty copy behind for the next.

The cache file is named for what it holds (the SHA-256 of the schema's SQL files and the
DuckDB version that wrote it), so a changed migration or view, or another DuckDB, never meets a
template made for something else; `db.migrate` still runs on the copy and would refuse one whose
recorded migrations differ. Nothing here overwrites a file: the copy lands under a temporary name
and is hard-linked to the database's name only if that name is still free, and a cache folder
that cannot be written simply means the schema is built the slow way.
Set RINGWATCH_CACHE_DIR to choose the folder, or to an empty value to switch the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import duckdb

from ringwatch.warehouse.sql import SqlFile, sql_files

CACHE_DIR_VARIABLE = "RINGWATCH_CACHE_DIR"


def cache_dir() -> Path | None:
    """RINGWATCH_CACHE_DIR, else $XDG_CACHE_HOME/ringwatch, else ~/.cache/ringwatch; None when
    RINGWATCH_CACHE_DIR is set but empty (no cache)."""
    chosen = os.environ.get(CACHE_DIR_VARIABLE)
    if chosen is not None:
        return Path(chosen).expanduser() if chosen.strip() else None
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ringwatch"


SqlFiles = Callable[[str], list[SqlFile]]


def schema_sha256(files: SqlFiles = sql_files) -> str:
    """One digest over every file that shapes a new database's schema, as `files` lists them
    (db.py passes the lister its migrate() applies, so the two can never disagree)."""
    digest = hashlib.sha256()
    digest.update(resources.files("ringwatch.warehouse").joinpath("schema_migrations.sql").read_bytes())
    for folder in ("migrations", "views"):
        for file in files(folder):
            digest.update(f"\0{folder}/{file.name}\0".encode())
            digest.update(file.text.encode("utf-8"))
    return digest.hexdigest()


def template_path(folder: Path, files: SqlFiles = sql_files) -> Path:
    return folder / f"empty-warehouse-{schema_sha256(files)[:20]}-duckdb-{duckdb.__version__}.duckdb"


def create_from_template(target: Path, build: Callable[[Path], None], files: SqlFiles = sql_files) -> bool:
    """Make `target`, which must not exist, a copy of the cached empty warehouse, building the
    cache first with `build(path)` (which must leave a closed, migrated database at `path`)
    when it is missing. Return False, having written nothing at `target`, when there is no
    cache or `target` appeared meanwhile; the caller then creates the database itself."""
    folder = cache_dir()
    if folder is None or target.exists() or _wal_of(target).exists():
        return False
    try:
        template = template_path(folder, files)
        if not template.is_file():
            _build_template(template, build)
        return _copy_without_overwriting(template, target)
    except (OSError, duckdb.Error):
        return False  # an unwritable or broken cache only costs the time it was meant to save


def forget_template(files: SqlFiles = sql_files) -> None:
    """Remove this schema's cached template (after a copy of it failed to open or migrate)."""
    folder = cache_dir()
    if folder is not None:
        with contextlib.suppress(OSError):
            template_path(folder, files).unlink()


def _wal_of(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _build_template(template: Path, build: Callable[[Path], None]) -> None:
    template.parent.mkdir(parents=True, exist_ok=True)
    scratch = template.with_name(f".{template.name}.{uuid.uuid4().hex}.tmp")
    try:
        build(scratch)
        if _wal_of(scratch).exists():  # not checkpointed: the copy would miss what the WAL holds
            raise OSError(f"{scratch} was left with a write-ahead log")
        os.replace(scratch, template)  # atomic: two processes building at once both end well
    finally:
        for leftover in (scratch, _wal_of(scratch)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _copy_without_overwriting(template: Path, target: Path) -> bool:
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        shutil.copyfile(template, scratch)
        try:
            os.link(scratch, target)  # fails, and changes nothing, if target exists by now
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: create the name exclusively instead
            try:
                with scratch.open("rb") as source, target.open("xb") as copy:
                    shutil.copyfileobj(source, copy)
            except FileExistsError:
                return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            scratch.unlink()
