"""The release's data: one CSV and one Parquet file per published relation, and the Table
Schema of each, for datapackage.json.

Each relation (relations.py) becomes a temporary view over the read-only warehouse; every text
column passes through the scrubber (a value that may hold a local path is rewritten to the
file's base name), and 128-bit sums become BIGINT. Before anything is written, each declared
key is checked on the data: a primary key must be unique and never empty, a foreign key must
find its row. A key the data breaks is not declared (and the README says so), so the schema
never claims what the data does not hold. Field types, descriptions and keys come from the
warehouse's own catalog and COMMENTs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ringwatch.scrapers.errors import WarehouseError
from ringwatch.warehouse.presentation.publish.provenance import (
    CAPTURE_PROVENANCE,
    DATA_SOURCES_TABLE,
    INSERT_DATA_SOURCE,
    PROVENANCE_COLUMNS,
    QUARTER_PROVENANCE,
    SOURCES,
)
from ringwatch.warehouse.presentation.publish.relations import TABLE_DESCRIPTION, ForeignKey, Relation
from ringwatch.warehouse.presentation.publish.scrub import MAY_HOLD_A_PATH, file_name, scrub_text, web_url

DATA = "data"
# DuckDB type -> Table Schema type. Anything else is refused: a new column type needs a decision here.
_TYPES = {
    "VARCHAR": "string", "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP": "datetime",
    "TINYINT": "integer", "SMALLINT": "integer", "INTEGER": "integer", "BIGINT": "integer", "HUGEINT": "integer",
    "UTINYINT": "integer", "USMALLINT": "integer", "UINTEGER": "integer",
    "FLOAT": "number", "DOUBLE": "number",
}
_WIDE_INTEGERS = ("HUGEINT", "UBIGINT", "UHUGEINT")
# The name of the enum's module moved between DuckDB releases; its value's name did not.
_NULLS_IN_AND_OUT: dict[str, Any] = {"null_handling": "special"}


@dataclass(frozen=True, slots=True)
class DataFile:
    path: str  # relative to the release: data/<name>.csv
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class WrittenRelation:
    relation: Relation
    description: str
    rows: int
    csv: DataFile
    parquet: DataFile
    fields: tuple[dict[str, str], ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    origins: frozenset[str]  # origins of its rows (live, file, wayback, atlas); empty when it has none
    broken_keys: tuple[str, ...]  # keys left out because the data breaks them, as sentences

    @property
    def name(self) -> str:
        return self.relation.name

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"fields": [dict(f) for f in self.fields], "missingValues": [""]}
        if self.primary_key:
            schema["primaryKey"] = list(self.primary_key)
        if self.foreign_keys:
            schema["foreignKeys"] = [
                {"fields": list(k.fields),
                 "reference": {"resource": "" if k.resource == self.name else k.resource, "fields": list(k.reference)}}
                for k in self.foreign_keys]
        return schema


def prepare(con: duckdb.DuckDBPyConnection, *, known_roots: Sequence[str]) -> None:
    """The scrubbing functions, the data_sources table and the provenance views, on `con` only."""
    roots = tuple(known_roots)
    con.create_function("pub_scrub", lambda text: scrub_text(text, roots), ["VARCHAR"], "VARCHAR")
    # These two return NULL for some values: DuckDB calls them with NULL too ("special" handling).
    con.create_function("pub_web_url", web_url, ["VARCHAR"], "VARCHAR", **_NULLS_IN_AND_OUT)
    con.create_function("pub_file_name", file_name, ["VARCHAR"], "VARCHAR", **_NULLS_IN_AND_OUT)
    con.execute(DATA_SOURCES_TABLE)
    for s in SOURCES:
        con.execute(INSERT_DATA_SOURCE, [s.key, s.name, s.publisher, s.url, s.license, s.license_url, s.credit,
                                         s.note])
    # Ring's pages: the web address captured last (the page itself, or its archived copy).
    con.execute("""
        UPDATE pub_source_list AS d SET url = c.url
        FROM (SELECT source, arg_max(url, fetched_at) AS url FROM captures
              WHERE origin <> 'atlas' AND regexp_matches(url, '^[Hh][Tt][Tt][Pp][Ss]?://') GROUP BY source) AS c
        WHERE d.source_key = c.source AND d.url IS NULL""")
    con.execute(CAPTURE_PROVENANCE)
    con.execute(QUARTER_PROVENANCE)


def write_relations(con: duckdb.DuckDBPyConnection, folder: Path,
                    relations: Sequence[Relation]) -> list[WrittenRelation]:
    """Every relation to folder/data/<name>.csv and .parquet, with its schema; `prepare` first."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for relation in relations:
        con.execute(_view_statement("pub_raw_" + relation.name, relation.sql))
        raw = [(str(r[0]), str(r[1])) for r in con.execute(_describe_statement("pub_raw_" + relation.name)).fetchall()]
        con.execute(_published_view_statement(relation.name, raw))
        columns[relation.name] = [(c, "BIGINT" if t in _WIDE_INTEGERS else t) for c, t in raw]
    (folder / DATA).mkdir(parents=True, exist_ok=True)
    # Each relation is computed once, into its Parquet file; the CSV, the counts and the key checks
    # read that file, so the two formats hold the same rows in the same order.
    for relation in relations:
        parquet = folder / DATA / f"{relation.name}.parquet"
        con.execute(_copy_statement("pub_" + relation.name, parquet, "FORMAT parquet, COMPRESSION zstd"))
        con.execute(_file_view_statement(relation.name, parquet))
    names = {r.name for r in relations}
    written = []
    for relation in relations:
        cols = columns[relation.name]
        broken: list[str] = []
        key = relation.primary_key if _primary_key_holds(con, relation.name, relation.primary_key, broken) else ()
        foreign = tuple(k for k in _foreign_keys(relation, cols, names)
                        if _foreign_key_holds(con, relation.name, k, broken))
        csv = folder / DATA / f"{relation.name}.csv"
        con.execute(_copy_statement("file_" + relation.name, csv, "FORMAT csv, HEADER"))
        count = con.execute(_count_statement(relation.name)).fetchone()
        written.append(WrittenRelation(
            relation=relation, description=_table_description(con, relation, cols),
            rows=int(count[0]) if count else 0, csv=_data_file(folder, csv),
            parquet=_data_file(folder, folder / DATA / f"{relation.name}.parquet"),
            fields=tuple(_field(con, relation, name, duck_type) for name, duck_type in cols),
            primary_key=key, foreign_keys=foreign, origins=_origins(con, relation.name, cols),
            broken_keys=tuple(broken)))
    return written


def _foreign_keys(relation: Relation, cols: list[tuple[str, str]], names: set[str]) -> list[ForeignKey]:
    """The relation's declared foreign keys to published relations, and source_name -> data_sources."""
    keys = [k for k in relation.foreign_keys if k.resource in names]
    if relation.name != "data_sources" and "data_sources" in names and any(c == "source_name" for c, _ in cols):
        keys.append(ForeignKey(("source_name",), "data_sources", ("source_name",)))
    return keys


def _primary_key_holds(con: duckdb.DuckDBPyConnection, name: str, key: tuple[str, ...], broken: list[str]) -> bool:
    if not key:
        return True
    row = con.execute(_key_check_statement(name, key)).fetchone()
    empty, repeated = (int(row[0]), int(row[1])) if row else (0, 0)
    if empty or repeated:
        broken.append(f"primary key ({', '.join(key)}) of {name}: {empty:,} row(s) with an empty key field, "
                      f"{repeated:,} key value(s) on more than one row")
        return False
    return True


def _foreign_key_holds(con: duckdb.DuckDBPyConnection, name: str, key: ForeignKey, broken: list[str]) -> bool:
    row = con.execute(_reference_check_statement(name, key)).fetchone()
    missing = int(row[0]) if row else 0
    if missing:
        broken.append(f"foreign key ({', '.join(key.fields)}) of {name} -> {key.resource} "
                      f"({', '.join(key.reference)}): {missing:,} row(s) find no row there")
        return False
    return True


def _field(con: duckdb.DuckDBPyConnection, relation: Relation, name: str, duck_type: str) -> dict[str, str]:
    kind = _TYPES.get(duck_type.split("(")[0]) or ("number" if duck_type.startswith("DECIMAL") else None)
    if kind is None:
        raise WarehouseError(f"cannot publish {relation.name}.{name}: its type {duck_type} has no Table Schema "
                             "type in ringwatch's release yet.")
    return {"name": name, "type": kind, "description": column_description(con, relation, name)}


def column_description(con: duckdb.DuckDBPyConnection, relation: Relation, name: str) -> str:
    """The relation's own words for a column it adds or rewrites, else the warehouse's COMMENT, else
    what the provenance column means, for the observation the relation says."""
    if name in relation.columns:
        return str(relation.columns[name])
    if relation.base is not None:
        row = con.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? "
                          "AND column_name = ?", [relation.base, name]).fetchone()
        if row and row[0]:
            return str(row[0])
    if name in PROVENANCE_COLUMNS:
        text = PROVENANCE_COLUMNS[name]
        return f"{text} Here: that of {relation.provenance_of}." if relation.provenance_of else text
    raise WarehouseError(f"cannot publish {relation.name}.{name}: the column has no description.")


def _table_description(con: duckdb.DuckDBPyConnection, relation: Relation, cols: list[tuple[str, str]]) -> str:
    text = TABLE_DESCRIPTION.get(relation.name)
    if text is None and relation.base is not None:
        row = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ? UNION ALL "
            "SELECT comment FROM duckdb_views() WHERE schema_name = 'main' AND view_name = ?",
            [relation.base, relation.base]).fetchone()
        text = str(row[0]) if row and row[0] else None
    if text is None:
        raise WarehouseError(f"cannot publish {relation.name}: the relation has no description.")
    names = {c for c, _ in cols}
    if relation.provenance_of and "source_name" in names and "capture_sha256" in names:
        text += (" Each row says where its data came from (" + ", ".join(c for c in PROVENANCE_COLUMNS if c in names)
                 + f"): that of {relation.provenance_of}.")
    return text


def _origins(con: duckdb.DuckDBPyConnection, name: str, cols: list[tuple[str, str]]) -> frozenset[str]:
    if not any(c == "origin" for c, _ in cols):
        return frozenset()
    rows = con.execute(_origins_statement(name)).fetchall()
    return frozenset(str(r[0]) for r in rows if r[0])


def _data_file(folder: Path, path: Path) -> DataFile:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return DataFile(path.relative_to(folder).as_posix(), path.stat().st_size, digest.hexdigest())


# No statement takes a relation or column name, or a COPY target, as a parameter, so these are
# composed here from the names in relations.py and DuckDB's own catalog, each quoted by SQL's
# rules; the statements in relations.py are constants.
def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _view_statement(view: str, sql: str) -> str:
    return "CREATE TEMP VIEW " + _ident(view) + " AS " + sql


def _describe_statement(view: str) -> str:
    return "DESCRIBE SELECT * FROM " + _ident(view)


def _published_view_statement(name: str, columns: Iterable[tuple[str, str]]) -> str:
    selected = []
    for column, duck_type in columns:
        c = _ident(column)
        if duck_type == "VARCHAR":
            selected.append(f"CASE WHEN {c} IS NULL OR NOT regexp_matches({c}, {_literal(MAY_HOLD_A_PATH)}) "
                            f"THEN {c} ELSE pub_scrub({c}) END AS {c}")
        elif duck_type in _WIDE_INTEGERS:
            selected.append(f"CAST({c} AS BIGINT) AS {c}")
        else:
            selected.append(c)
    return ("CREATE TEMP VIEW " + _ident("pub_" + name) + " AS SELECT " + ", ".join(selected)
            + " FROM " + _ident("pub_raw_" + name))


def _copy_statement(view: str, path: Path, options: str) -> str:
    return "COPY (SELECT * FROM " + _ident(view) + ") TO " + _literal(str(path)) + " (" + options + ")"


def _file_view_statement(name: str, path: Path) -> str:
    """file_<name>: the relation as written to its Parquet file, rows in the file's order."""
    return "CREATE TEMP VIEW " + _ident("file_" + name) + " AS SELECT * FROM read_parquet(" + _literal(str(path)) + ")"


def _count_statement(name: str) -> str:
    return "SELECT count(*) FROM " + _ident("file_" + name)


def _origins_statement(name: str) -> str:
    # Aggregated rows list several origins, space-separated.
    return ("SELECT DISTINCT unnest(string_split(origin, ' ')) FROM " + _ident("file_" + name)
            + " WHERE origin IS NOT NULL ORDER BY 1")


def _key_check_statement(name: str, key: Sequence[str]) -> str:
    """(rows with an empty key field, key values on more than one row)."""
    cols = ", ".join(_ident(k) for k in key)
    empty = " OR ".join(f"{_ident(k)} IS NULL" for k in key)
    table = _ident("file_" + name)
    return (f"SELECT (SELECT count(*) FROM {table} WHERE {empty}), "
            f"(SELECT count(*) FROM (SELECT {cols} FROM {table} GROUP BY {cols} HAVING count(*) > 1))")


def _reference_check_statement(name: str, key: ForeignKey) -> str:
    """Rows whose key fields are all given and find no row in the referenced relation."""
    given = " AND ".join(f"c.{_ident(f)} IS NOT NULL" for f in key.fields)
    match = " AND ".join(f"p.{_ident(r)} = c.{_ident(f)}" for f, r in zip(key.fields, key.reference, strict=True))
    return (f"SELECT count(*) FROM {_ident('file_' + name)} AS c WHERE {given} AND NOT EXISTS "
            f"(SELECT 1 FROM {_ident('file_' + key.resource)} AS p WHERE {match})")
