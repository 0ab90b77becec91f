"""The warehouse's SQL files and the helpers that run them: named queries, scripts, batches.

Apart from db.py (opening, migrating) so that any module can read its SQL through this one
without importing db.py back: it imports nothing of the project's but its errors.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import duckdb

from ringwatch.scrapers.errors import WarehouseError


@dataclass(frozen=True, slots=True)
class SqlFile:
    name: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def sql_files(folder: str) -> list[SqlFile]:
    """The .sql files of a package folder (migrations, views, checks), sorted by name."""
    root = resources.files("ringwatch.warehouse").joinpath(folder)
    files = [SqlFile(p.name, p.read_text(encoding="utf-8"))
             for p in root.iterdir() if p.name.endswith(".sql")]
    return sorted(files, key=lambda f: f.name)


def named_queries(path: str) -> dict[str, str]:
    """The queries of a package .sql file, each headed `-- name: <name>` (the aiosql and
    PugSQL convention), so read-side SQL lives in files like the views do."""
    text = resources.files("ringwatch.warehouse").joinpath(path).read_text(encoding="utf-8")
    queries: dict[str, str] = {}
    name: str | None = None
    for line in text.splitlines():
        header = re.match(r"--\s*name:\s*(\w+)\s*$", line)
        if header:
            name = header[1]
            if name in queries:
                raise WarehouseError(f"{path}: the query name {name!r} is used twice.")
            queries[name] = ""
        elif name is not None:
            queries[name] += line + "\n"
    return {n: q.strip() for n, q in queries.items()}


def run_script(con: duckdb.DuckDBPyConnection, script: str, params: dict[str, object] | None = None) -> None:
    """Run a named query of several statements, giving each the `$name` parameters it uses
    (DuckDB binds parameters to the last statement of a script only). Statements end with a
    semicolon at the end of a line; `--` comment lines are dropped first."""
    params = params or {}
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    for statement in re.split(r";\s*$", "\n".join(lines), flags=re.M):
        if not statement.strip():
            continue
        used = {name: value for name, value in params.items() if re.search(rf"\${name}\b", statement)}
        con.execute(statement, used or None).fetchall()


BATCH = "batch"  # the name an insert_batch or select_batch query reads its rows from
# A batch of fewer rows than this goes to DuckDB as list parameters, unless numpy is imported
# already; a larger one, as numpy object arrays. DuckDB scans the arrays about five times faster
# (17 columns of 27,000 rows: 80 ms against 420 ms), but numpy costs a cold command some 70 ms to
# import, which a map's 2,700 rows never win back (15 ms against 35). A process that has numpy
# (a long backfill, a Prefect worker) takes the quicker way for every batch.
NUMPY_FROM_ROWS = 10_000


def _numpy_imported() -> bool:
    return "numpy" in sys.modules


def insert_batch(con: duckdb.DuckDBPyConnection, sql: str, columns: dict[str, Sequence[object]]) -> None:
    """Run `sql`, an INSERT ... SELECT ... FROM batch, with `batch` the given columns.

    Nothing is formatted into the SQL but the column names, which are ours: the query casts
    each column to its type by name.
    """
    select_batch(con, sql, columns)


def select_batch(con: duckdb.DuckDBPyConnection, sql: str,
                 columns: dict[str, Sequence[object]]) -> list[tuple[Any, ...]]:
    """Run `sql` with `batch` the given columns, as insert_batch does, and return its rows
    (none, without running it, when the columns are empty)."""
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"insert_batch: columns of different lengths {sorted(lengths)}")
    if not lengths or 0 in lengths:
        return []
    if lengths.pop() < NUMPY_FROM_ROWS and not _numpy_imported():
        return _select_from_lists(con, sql, columns)
    import numpy as np  # here, not above: a command that only reads (query, status) never needs it

    arrays = {}
    for name, values in columns.items():
        array = np.empty(len(values), dtype=object)
        array[:] = _one_number_type(list(values))
        arrays[name] = array
    con.register(BATCH, arrays)
    try:
        rows = con.execute(sql).fetchall()
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses even this
            con.unregister(BATCH)
        raise
    con.unregister(BATCH)
    return rows


def _one_number_type(values: list[object]) -> list[object]:
    """DuckDB types an object array of more than a thousand values from a sample of them, and an
    array of ints with floats among them read as INTEGER turns each float into a truncated whole
    (1/7 became 0, without a word). A column holding both is made all floats first."""
    first = next((value for value in values if value is not None), None)
    if type(first) is int and any(type(value) is float for value in values):
        return [float(value) if type(value) is int else value for value in values]
    return values


def _select_from_lists(con: duckdb.DuckDBPyConnection, sql: str,
                       columns: dict[str, Sequence[object]]) -> list[tuple[Any, ...]]:
    """The batch as a temporary table unnested from one list parameter per column."""
    con.execute(_batch_from_lists(tuple(columns)), {name: list(values) for name, values in columns.items()})
    try:
        return con.execute(sql).fetchall()
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses even this
            con.execute("DROP TABLE IF EXISTS temp.batch")


@functools.lru_cache(maxsize=64)
def _batch_from_lists(names: tuple[str, ...]) -> str:
    """CREATE the `batch` table from list parameters named as its columns. Only the column names
    of our own batches are written into it, each checked to be a plain name; the values are
    always parameters."""
    for name in names:
        if not name.isidentifier() or not name.isascii():
            raise ValueError(f"insert_batch: {name!r} is not a column name")
    unnested = ", ".join(f"unnest(${name}) AS {name}" for name in names)
    return f"CREATE OR REPLACE TEMPORARY TABLE {BATCH} AS SELECT {unnested}"
