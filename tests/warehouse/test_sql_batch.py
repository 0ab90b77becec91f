"""A batch reaches DuckDB two ways (warehouse/sql.py): as list parameters below NUMPY_FROM_ROWS
rows when numpy is not imported yet, as numpy object arrays otherwise. Both must give the rows
the query casts, value for value."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pytest

from ringwatch.warehouse import sql
from ringwatch.warehouse.sql import insert_batch, select_batch

CAST = """
SELECT text::VARCHAR, maybe::VARCHAR, day::DATE, number::DOUBLE, whole::INTEGER, flag::BOOLEAN, nothing::VARCHAR
FROM batch ORDER BY whole
"""


def columns(rows: int) -> dict[str, list[Any]]:
    return {
        "text": [f"Anytown {n} Policía, O'Brien \"PD\"" for n in range(rows)],
        "maybe": [None if n % 3 else f"k{n}" for n in range(rows)],
        "day": [date(2019 + n % 7, 1 + n % 12, 1 + n % 28) if n % 5 else None for n in range(rows)],
        "number": [n / 7 if n % 2 else n for n in range(rows)],  # floats and ints mixed, as JSON gives them
        "whole": list(range(rows)),
        "flag": [n % 2 == 0 for n in range(rows)],
        "nothing": [None] * rows,
    }


@pytest.mark.parametrize("rows", [1, 50, 2_700])
def test_list_parameters_and_numpy_arrays_give_the_same_rows(rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect()
    monkeypatch.setattr(sql, "NUMPY_FROM_ROWS", 10**9)
    monkeypatch.setattr(sql, "_numpy_imported", lambda: False)
    from_lists = select_batch(con, CAST, columns(rows))
    monkeypatch.setattr(sql, "NUMPY_FROM_ROWS", 0)
    from_arrays = select_batch(con, CAST, columns(rows))
    assert from_lists == from_arrays
    assert len(from_lists) == rows
    assert from_lists[rows - 1][0] == f"Anytown {rows - 1} Policía, O'Brien \"PD\""
    assert from_lists[0][2:] == (None, 0.0, 0, True, None)


def test_a_batch_written_inside_a_transaction_leaves_no_table_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "NUMPY_FROM_ROWS", 10**9)
    monkeypatch.setattr(sql, "_numpy_imported", lambda: False)
    con = duckdb.connect()
    con.execute("CREATE TABLE t (text VARCHAR, whole INTEGER)")
    con.begin()
    insert_batch(con, "INSERT INTO t SELECT text::VARCHAR, whole::INTEGER FROM batch",
                 {"text": ["a", "b"], "whole": [1, 2]})
    con.commit()
    assert con.execute("SELECT * FROM t ORDER BY whole").fetchall() == [("a", 1), ("b", 2)]
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'batch'").fetchone() == (0,)


def test_a_column_name_that_is_not_an_identifier_is_refused_not_formatted_into_sql(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "_numpy_imported", lambda: False)
    with pytest.raises(ValueError, match="not a column name"):
        select_batch(duckdb.connect(), "SELECT 1", {"x; DROP TABLE t": [1]})
