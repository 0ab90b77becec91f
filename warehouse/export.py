"""`ringwatch export`: every table and view to Parquet or CSV files, with a manifest.

The export is how the data leaves ringwatch (`ringwatch query` reads the warehouse and
nothing else). It reads the database read-only, writes with DuckDB's own COPY into a
temporary folder beside the target, and renames it into place, so a reader of the target
folder sees the old export or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ringwatch.scrapers import __version__
from ringwatch.scrapers.errors import WarehouseError
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.read import open_read_only

FORMATS = ("parquet", "csv")


@dataclass(frozen=True, slots=True)
class ExportedFile:
    name: str
    kind: str  # table | view
    path: Path
    rows: int


@dataclass(frozen=True, slots=True)
class ExportResult:
    folder: Path
    files: tuple[ExportedFile, ...]
    manifest: Path


def export_warehouse(db_path: Path, out: Path, *, fmt: str = "parquet") -> ExportResult:
    if fmt not in FORMATS:
        raise WarehouseError(f"unknown export format {fmt!r}; choose {' or '.join(FORMATS)}.")
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise WarehouseError(f"{out} exists and is not a folder; choose another --out.")
    con = open_read_only(db_path)
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        relations = _relations(con)
        files = []
        entries = []
        for name, kind, comment in relations:
            path = staging / f"{name}.{fmt}"
            con.execute(_copy_statement(name, path, fmt)).fetchall()
            count = con.execute(_count_statement(name)).fetchone()
            rows = int(count[0]) if count else 0
            files.append(ExportedFile(name, kind, out / path.name, rows))
            entries.append({
                "name": name, "kind": kind, "file": path.name, "format": fmt, "rows": rows,
                "comment": comment, "sha256": _sha256(path),
                "columns": [{"name": c, "type": t, "comment": k} for c, t, k in _columns(con, name)],
            })
        manifest = {
            "ringwatch_version": __version__,
            "schema_version": _schema_version(con),
            "exported_at": utcnow().isoformat(timespec="seconds") + "Z",
            "database": Path(db_path).name,
            "quarters_held": [r[0] for r in con.execute(
                "SELECT quarter FROM snapshots WHERE source = 'agency_map' ORDER BY quarter").fetchall()],
            "files": entries,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        con.close()
    _swap_into_place(staging, out)
    return ExportResult(out, tuple(files), out / "manifest.json")


def _relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str | None]]:
    return [(str(n), str(k), c) for n, k, c in con.execute(
        """
        SELECT table_name, 'table', comment FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal
          AND NOT temporary
        UNION ALL
        SELECT view_name, 'view', comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal
          AND NOT temporary
        ORDER BY 2, 1
        """).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, str, str | None]]:
    return [(str(c), str(t), k) for c, t, k in con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = 'main' "
        "AND table_name = ? ORDER BY column_index", [name]).fetchall()]


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


# COPY takes neither its relation nor its target as a parameter, so these two statements are
# composed here, from a name read from DuckDB's own catalog (never from scraped text) and the
# export path, each quoted by SQL's rules.
def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _copy_statement(name: str, path: Path, fmt: str) -> str:
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER"
    return "COPY (SELECT * FROM " + _ident(name) + ") TO " + _literal(str(path)) + " (" + options + ")"


def _count_statement(name: str) -> str:
    return "SELECT count(*) FROM " + _ident(name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _swap_into_place(staging: Path, out: Path) -> None:
    """Rename the finished folder into place; an earlier export there is replaced whole."""
    if not out.exists():
        staging.rename(out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
