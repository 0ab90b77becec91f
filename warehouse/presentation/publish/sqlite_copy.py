"""The release as one SQLite file, and a Datasette metadata.json, to browse it without SQL.

`write_sqlite(staging)` reads the staged release's datapackage.json and makes, beside it,
ringwatch.sqlite (the standard library's sqlite3: one table per resource, with typed columns,
the primary key and the foreign keys its Table Schema gives) and metadata.json, which Datasette
reads (`datasette serve ringwatch.sqlite --metadata metadata.json`): titles, descriptions,
column descriptions, and the licence and source of each table.

Each table is loaded from the resource's Parquet file when the release has one (exact types),
else from its CSV. Licences and sources follow the Data Package's rule: a resource without its
own inherits the package's. Each table's metadata names its own, resolved here, so Datasette's
fallback to the package-wide values never speaks for a table whose resource says otherwise.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from ringwatch.scrapers.errors import WarehouseError
from ringwatch.warehouse.output_guard import partial_path, write_atomically

SQLITE_NAME = "ringwatch.sqlite"
METADATA_NAME = "metadata.json"
DATAPACKAGE = "datapackage.json"
_BATCH = 10_000

# Table Schema field type -> the SQLite column type (and what the value is cast to on the way).
_AFFINITY = {"integer": "INTEGER", "year": "INTEGER", "boolean": "INTEGER", "number": "REAL"}
_CAST = {"INTEGER": "BIGINT", "REAL": "DOUBLE", "TEXT": "VARCHAR"}
# A column the Table Schema does not describe takes its type from the data file.
_DUCKDB_AFFINITY = {
    "TINYINT": "INTEGER", "SMALLINT": "INTEGER", "INTEGER": "INTEGER", "BIGINT": "INTEGER", "BOOLEAN": "INTEGER",
    "UTINYINT": "INTEGER", "USMALLINT": "INTEGER", "UINTEGER": "INTEGER",
    "FLOAT": "REAL", "DOUBLE": "REAL",
}


def write_sqlite(staging: Path) -> tuple[Path, Path]:
    """Write staging/ringwatch.sqlite and staging/metadata.json from staging/datapackage.json."""
    staging = Path(staging)
    package = _read_package(staging)
    resources = [r for r in package.get("resources", []) if isinstance(r, dict) and isinstance(r.get("name"), str)]
    tables = {str(r["name"]) for r in resources}
    database = staging / SQLITE_NAME
    temporary = partial_path(database)
    duck = duckdb.connect()
    try:
        lite = sqlite3.connect(temporary)
        try:
            for resource in resources:
                _load_table(duck, lite, staging, resource, tables)
            lite.commit()
        finally:
            lite.close()
        os.replace(temporary, database)
    except sqlite3.IntegrityError as exc:
        raise WarehouseError(f"cannot make the SQLite copy of the release: {exc}.") from exc
    finally:
        duck.close()
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}-journal").unlink(missing_ok=True)
    metadata = write_atomically(staging / METADATA_NAME, _json(datasette_metadata(package, database.stem)))
    return database, metadata


def _read_package(staging: Path) -> dict[str, Any]:
    try:
        package = json.loads((staging / DATAPACKAGE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WarehouseError(f"cannot make the SQLite copy: {staging / DATAPACKAGE} cannot be read "
                             f"({getattr(exc, 'strerror', None) or exc}).") from exc
    if not isinstance(package, dict):
        raise WarehouseError(f"cannot make the SQLite copy: {DATAPACKAGE} is not a JSON object.")
    return package


# --- the tables ----------------------------------------------------------------------------------

def _load_table(duck: duckdb.DuckDBPyConnection, lite: sqlite3.Connection, staging: Path,
                resource: dict[str, Any], tables: set[str]) -> None:
    name = str(resource["name"])
    schema = _schema(resource)
    fields = {str(f["name"]): f for f in schema.get("fields", []) if isinstance(f, dict) and "name" in f}
    source = _data_file(staging, resource)
    reader = _reader(source)
    described = duck.execute(_describe_statement(reader), [str(source)]).fetchall()
    columns = [str(row[0]) for row in described]
    affinities = []
    for column, duck_type in zip(columns, (str(row[1]) for row in described), strict=True):
        field = fields.get(column)
        if field is not None:
            affinities.append(_AFFINITY.get(str(field.get("type", "string")), "TEXT"))
        else:
            affinities.append(_DUCKDB_AFFINITY.get(duck_type, "TEXT"))
    # Every value is cast by DuckDB to what its SQLite column holds: text the way DuckDB writes the
    # release's CSV (dates, times, lists), booleans as 1 and 0 (from CSV text, through BOOLEAN first).
    casts = [(column, (("BOOLEAN",) if fields.get(column, {}).get("type") == "boolean" else ()) + (_CAST[affinity],))
             for column, affinity in zip(columns, affinities, strict=True)]
    key = _names(schema.get("primaryKey"))
    unknown = [k for k in key if k not in columns]
    if unknown:
        raise WarehouseError(f"cannot make the SQLite copy: table {name}'s primary key names "
                             f"{', '.join(unknown)}, which its data file does not hold.")
    foreign = [fk for fk in _foreign_keys(schema, name, tables) if set(fk[0]) <= set(columns)]
    lite.execute(_create_statement(name, list(zip(columns, affinities, strict=True)), key, foreign))
    key_at = [columns.index(k) for k in key]
    result = duck.execute(_select_statement(casts, reader), [str(source)])
    while batch := result.fetchmany(_BATCH):
        for row in batch:
            if any(row[i] is None for i in key_at):
                raise WarehouseError(f"cannot make the SQLite copy: a row of {name} has no value in its primary "
                                     f"key ({', '.join(key)}).")
        lite.executemany(_insert_statement(name, len(columns)), batch)


def _reader(source: Path) -> str:
    """DuckDB's table function for the data file, its path left as the one parameter."""
    if source.suffix == ".parquet":
        return "read_parquet(?)"
    # Every CSV value as the text it is, a quoted "" kept as an empty string (an empty field is NULL).
    return "read_csv(?, header = true, all_varchar = true, allow_quoted_nulls = false)"


def _data_file(staging: Path, resource: dict[str, Any]) -> Path:
    """The resource's Parquet file when the release has one, else its CSV.

    The Parquet file is the one the resource's `parquet` property names ({"path": ...}, ringwatch's
    own addition to the descriptor), else the file beside its CSV with the .parquet suffix.
    """
    declared = resource.get("path")
    paths = [declared] if isinstance(declared, str) else list(declared) if isinstance(declared, list) else []
    candidates = [_inside(staging, resource, p) for p in paths if isinstance(p, str) and "://" not in p]
    if len(candidates) != 1:
        raise WarehouseError(f"cannot make the SQLite copy: resource {resource['name']} names "
                             f"{len(candidates)} local data files; one is expected.")
    declared_file = candidates[0]
    extra = resource.get("parquet")
    named = extra.get("path") if isinstance(extra, dict) else None
    parquet = _inside(staging, resource, named) if isinstance(named, str) else declared_file.with_suffix(".parquet")
    if parquet.is_file():
        return parquet
    if declared_file.suffix == ".csv" and declared_file.is_file():
        return declared_file
    raise WarehouseError(f"cannot make the SQLite copy: resource {resource['name']}'s data file "
                         f"{declared_file.relative_to(staging.resolve())} is missing or neither CSV nor Parquet.")


def _inside(staging: Path, resource: dict[str, Any], path: str) -> Path:
    candidate = (staging / path).resolve()
    if not candidate.is_relative_to(staging.resolve()):
        raise WarehouseError(f"cannot make the SQLite copy: resource {resource['name']}'s path {path} leads "
                             f"outside the release.")
    return candidate


def _schema(resource: dict[str, Any]) -> dict[str, Any]:
    schema = resource.get("schema")
    return schema if isinstance(schema, dict) else {}


def _names(value: object) -> list[str]:
    """A Table Schema key: one field name or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _foreign_keys(schema: dict[str, Any], name: str,
                  tables: set[str]) -> list[tuple[list[str], str, list[str]]]:
    """(fields, referenced table, referenced fields) for each foreign key to a table of the release."""
    keys = []
    for fk in schema.get("foreignKeys", []):
        if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
            continue
        fields, reference = _names(fk.get("fields")), fk["reference"]
        table = str(reference.get("resource") or name)  # "" is the resource itself
        referenced = _names(reference.get("fields"))
        if fields and len(fields) == len(referenced) and table in tables:
            keys.append((fields, table, referenced))
    return keys


# No statement takes identifiers as parameters, so these are composed here from the release's own
# table and column names, each quoted by SQL's rules, and fixed SQL; data file paths go in as parameters.
def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_statement(table: str, columns: Sequence[tuple[str, str]], key: Sequence[str],
                      foreign: Iterable[tuple[list[str], str, list[str]]]) -> str:
    parts = [_ident(c) + " " + affinity + (" NOT NULL" if c in key else "") for c, affinity in columns]
    if key:
        parts.append("PRIMARY KEY (" + ", ".join(_ident(k) for k in key) + ")")
    for fields, referenced_table, referenced in foreign:
        parts.append("FOREIGN KEY (" + ", ".join(_ident(f) for f in fields) + ") REFERENCES "
                     + _ident(referenced_table) + " (" + ", ".join(_ident(f) for f in referenced) + ")")
    return "CREATE TABLE " + _ident(table) + " (\n  " + ",\n  ".join(parts) + "\n)"


def _describe_statement(reader: str) -> str:
    return "DESCRIBE SELECT * FROM " + reader


def _select_statement(casts: Sequence[tuple[str, tuple[str, ...]]], reader: str) -> str:
    """SELECT each column cast, in turn, to each type named (BIGINT, DOUBLE, VARCHAR, BOOLEAN)."""
    selected = []
    for column, types in casts:
        expression = _ident(column)
        for type_name in types:
            expression = "CAST(" + expression + " AS " + type_name + ")"
        selected.append(expression + " AS " + _ident(column))
    return "SELECT " + ", ".join(selected) + " FROM " + reader


def _insert_statement(table: str, width: int) -> str:
    return "INSERT INTO " + _ident(table) + " VALUES (" + ", ".join("?" * width) + ")"


# --- Datasette's metadata ------------------------------------------------------------------------

def datasette_metadata(package: dict[str, Any], database: str) -> dict[str, Any]:
    """Datasette's metadata.json for the release: titles, descriptions, licence and source per table."""
    package_credit = _credit(package)
    tables: dict[str, Any] = {}
    overridden: set[str] = set()
    for resource in package.get("resources", []):
        if not isinstance(resource, dict) or not isinstance(resource.get("name"), str):
            continue
        own = _credit(resource)
        entry: dict[str, Any] = {"title": str(resource.get("title") or resource["name"])}
        if resource.get("description"):
            entry["description"] = str(resource["description"])
        for group in ("license", "source"):
            # A resource that lists its own licences (or sources), even none, speaks for itself.
            chosen = own if f"{group}s" in resource else package_credit
            if f"{group}s" in resource and _differs(own, package_credit, group):
                overridden.add(group)
            for key in (group, f"{group}_url"):
                if chosen.get(key):
                    entry[key] = chosen[key]
        schema = _schema(resource)
        columns = {str(f["name"]): str(f["description"]) for f in schema.get("fields", [])
                   if isinstance(f, dict) and "name" in f and f.get("description")}
        if columns:
            entry["columns"] = columns
        tables[str(resource["name"])] = entry
    metadata: dict[str, Any] = {"title": str(package.get("title") or package.get("name") or database)}
    if package.get("description"):
        metadata["description"] = str(package["description"])
    # Package-wide licence and source only where no table says otherwise: Datasette shows them for
    # any table (or field of one) without its own.
    for group in ("license", "source"):
        if group not in overridden:
            for key in (group, f"{group}_url"):
                if package_credit.get(key):
                    metadata[key] = package_credit[key]
    if isinstance(package.get("homepage"), str):
        metadata["about"], metadata["about_url"] = "ringwatch", package["homepage"]
    metadata["databases"] = {database: {"title": metadata["title"], "tables": tables}}
    return metadata


def _credit(descriptor: dict[str, Any]) -> dict[str, str]:
    """license, license_url, source, source_url from a descriptor's `licenses` and `sources`."""
    credit: dict[str, str] = {}
    for group, list_key in (("license", "licenses"), ("source", "sources")):
        items = [i for i in descriptor.get(list_key) or [] if isinstance(i, dict)]
        names = [str(i.get("title") or i.get("name") or i.get("path") or "") for i in items]
        urls = [str(i.get("path") or i.get("url") or "") for i in items]
        if any(names):
            credit[group] = "; ".join(n for n in names if n)
        link = next((u for u in urls if u.startswith(("https://", "http://"))), None)
        if link:
            credit[f"{group}_url"] = link
    return credit


def _differs(own: dict[str, str], package: dict[str, str], group: str) -> bool:
    return any(own.get(k) != package.get(k) for k in (group, f"{group}_url"))


def _json(content: dict[str, Any]) -> bytes:
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
