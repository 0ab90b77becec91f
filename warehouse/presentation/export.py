"""`ringwatch export`: every table and view to Parquet or CSV files, with a manifest.

The export is how the data leaves ringwatch (`ringwatch query` reads the warehouse and
nothing else). It reads the database read-only and writes with DuckDB's own COPY. It
writes only into a new or empty folder, or one whose manifest.json shows an earlier
ringwatch export; there it replaces the files that manifest lists, each written under a
hidden name in the folder and renamed over the old one, and leaves every other file alone.
The manifest is renamed into place last, so it always describes files that are there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ringwatch.scrapers import __version__
from ringwatch.scrapers.errors import WarehouseError
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.output_guard import (
    is_replaceable_file,
    partial_path,
    plan_folder,
    refuse_warehouse_paths,
    write_atomically,
)
from ringwatch.warehouse.read import open_read_only

FORMATS = ("parquet", "csv")
MANIFEST = "manifest.json"
GENERATOR = "ringwatch export"  # manifest.json's "generator": how a later export knows the folder
_MANIFEST_LIMIT = 16 * 1024 * 1024  # ours are tens of KiB; a bigger manifest.json is someone else's


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
    removed: tuple[str, ...] = ()  # files of the earlier export this one no longer writes


def export_warehouse(db_path: Path, out: Path, *, fmt: str = "parquet") -> ExportResult:
    if fmt not in FORMATS:
        raise WarehouseError(f"unknown export format {fmt!r}; choose {' or '.join(FORMATS)}.")
    refuse_warehouse_paths(out, db_path, writing="the export", option="--out")
    plan = plan_folder(out, earlier_output=earlier_export, writing="the export", option="--out",
                       sign=f"{MANIFEST} of an earlier ringwatch export", holding="an earlier export",
                       why_ours=f"the earlier export's {MANIFEST} does not list it")
    out = plan.folder
    con = open_read_only(db_path)
    partials: list[tuple[Path, Path]] = []  # (written under a hidden name, its place)
    try:
        relations = _relations(con)
        plan.check_targets([f"{name}.{fmt}" for name, _, _ in relations] + [MANIFEST])
        if plan.create:
            out.mkdir(parents=True, exist_ok=True)
        files = []
        entries = []
        for name, kind, comment in relations:
            final = out / f"{name}.{fmt}"
            path = partial_path(final)
            partials.append((path, final))
            con.execute(_copy_statement(name, path, fmt)).fetchall()
            count = con.execute(_count_statement(name)).fetchone()
            rows = int(count[0]) if count else 0
            files.append(ExportedFile(name, kind, final, rows))
            entries.append({
                "name": name, "kind": kind, "file": final.name, "format": fmt, "rows": rows,
                "comment": comment, "sha256": _sha256(path),
                "columns": [{"name": c, "type": t, "comment": k} for c, t, k in _columns(con, name)],
            })
        manifest = {
            "generator": GENERATOR,
            "ringwatch_version": __version__,
            "schema_version": _schema_version(con),
            "exported_at": utcnow().isoformat(timespec="seconds") + "Z",
            "database": Path(db_path).name,
            "quarters_held": [r[0] for r in con.execute(
                "SELECT quarter FROM snapshots WHERE source = 'agency_map' ORDER BY quarter_start").fetchall()],
            "files": entries,
        }
        for path, final in partials:
            os.replace(path, final)
        removed = plan.stale([f.path.name for f in files] + [MANIFEST])
        for name in removed:
            (out / name).unlink(missing_ok=True)
        write_atomically(out / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except (OSError, duckdb.IOException) as exc:
        raise WarehouseError(f"cannot write the export to {getattr(exc, 'filename', None) or out}: "
                             f"{getattr(exc, 'strerror', None) or exc}; choose another --out.") from exc
    finally:
        con.close()
        for path, _ in partials:
            path.unlink(missing_ok=True)
        if plan.create:
            _remove_if_empty(out)
    return ExportResult(out, tuple(files), out / MANIFEST, tuple(removed))


def earlier_export(folder: Path, present: frozenset[str]) -> frozenset[str] | None:
    """The files an earlier export wrote in `folder` (its manifest and what it lists), or None.

    Manifests written before the "generator" key are known by their ringwatch_version and
    schema_version. Only plain file names count: a manifest cannot send a later export
    outside its folder.
    """
    if MANIFEST not in present or not (folder / MANIFEST).is_file():
        return None
    try:
        if (folder / MANIFEST).stat().st_size > _MANIFEST_LIMIT:
            return None
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        return None
    if manifest.get("generator") != GENERATOR and not {"ringwatch_version", "schema_version"} <= manifest.keys():
        return None
    listed = {e["file"] for e in manifest["files"] if isinstance(e, dict) and isinstance(e.get("file"), str)}
    return frozenset(
        n for n in listed
        if n in present and n == Path(n).name and n not in (".", "..", MANIFEST) and is_replaceable_file(folder / n)
    ) | {MANIFEST}


def _remove_if_empty(folder: Path) -> None:
    """A folder this export created and then failed to fill goes again; one with files stays."""
    with contextlib.suppress(OSError):
        folder.rmdir()


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

