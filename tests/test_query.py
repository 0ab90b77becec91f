"""`ringwatch query` has an answer for every query: an empty or comment-only one is a plain
error, several statements each show their result in order, and DuckDB's own hints survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ringwatch.flows.cli import cli
from ringwatch.scrapers.errors import WarehouseError
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.read import run_query, run_statements


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("query") / "w.duckdb"
    connect(path).close()
    return path


def query(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["query", *args, "--db", str(db)])
    assert "unexpected" not in result.output and "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize(("sql", "said"), [
    ("", "the query is blank"),
    ("   \n\t ", "the query is blank"),
    ("-- only a comment", "'-- only a comment' holds no statement"),
    ("/* a block comment */", "'/* a block comment */' holds no statement"),
    (";", "';' holds no statement"),
])
def test_a_query_with_no_statement_is_a_plain_error(db: Path, sql: str, said: str) -> None:
    result = query(db, sql)
    assert result.exit_code == 1
    assert result.output.startswith("Error: no SQL given: ") and said in result.output
    assert 'ringwatch query "SELECT * FROM agency_counts_by_quarter"' in result.output  # an example to follow
    assert len(result.output.splitlines()) == 1


def test_a_comment_first_is_sql_not_an_option(db: Path) -> None:
    result = query(db, "-- how many\nSELECT 41 + 1 AS answer", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output == "answer\n42\n"


def test_every_statement_shows_its_result_in_order(db: Path) -> None:
    result = query(db, "SELECT 1 AS first; SELECT 'two' AS second;\nSELECT 3 AS third")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    headers = [line for line in lines if line.startswith("-- statement")]
    assert headers == ["-- statement 1 of 3: SELECT 1 AS first", "-- statement 2 of 3: SELECT 'two' AS second",
                       "-- statement 3 of 3: SELECT 3 AS third"]  # in the order given
    for header, column, value in zip(headers, ("first", "second", "third"), ("1", "two", "3"), strict=True):
        at = lines.index(header)
        assert [lines[at + 1].strip(), lines[at + 3].strip(), lines[at + 4]] == [column, value, "(1 row)"]


def test_several_statements_in_csv_and_json(db: Path) -> None:
    as_csv = query(db, "SELECT 1 AS a; SELECT 2 AS b", "--format", "csv")
    assert as_csv.output == "-- statement 1 of 2: SELECT 1 AS a\na\n1\n\n-- statement 2 of 2: SELECT 2 AS b\nb\n2\n"
    as_json = json.loads(query(db, "SELECT 1 AS a; SELECT 2 AS b, 'x' AS c", "--format", "json").output)
    assert as_json == [
        {"statement": 1, "sql": "SELECT 1 AS a;", "columns": ["a"], "rows": [{"a": 1}]},
        {"statement": 2, "sql": "SELECT 2 AS b, 'x' AS c", "columns": ["b", "c"], "rows": [{"b": 2, "c": "x"}]},
    ]


def test_one_statement_is_shown_as_before_with_no_header(db: Path) -> None:
    assert query(db, "SELECT 7 AS n;", "--format", "csv").output == "n\n7\n"
    assert json.loads(query(db, "SELECT 7 AS n", "--format", "json").output) == [{"n": 7}]


def test_statements_that_return_no_table_do_not_break_the_answer(db: Path) -> None:
    result = query(db, "BEGIN; SELECT 5 AS five; ROLLBACK")
    assert result.exit_code == 0, result.output
    assert "-- statement 3 of 3: ROLLBACK" in result.output and "five" in result.output
    for fmt in ("csv", "json"):
        assert query(db, "BEGIN; SELECT 5 AS five; ROLLBACK", "--format", fmt).exit_code == 0
    assert [r.columns for r in run_statements(db, "SELECT 1 AS a; BEGIN; ROLLBACK")][0] == ["a"]


def test_a_misspelled_view_keeps_duckdbs_hint_and_caret(db: Path) -> None:
    result = query(db, "SELECT * FROM agency_counts_by_stat")
    assert result.exit_code == 1
    assert result.output.startswith("Error: query failed: Catalog Error: Table with name agency_counts_by_stat")
    assert 'Did you mean "agency_counts_by_state"?' in result.output
    assert "LINE 1: SELECT * FROM agency_counts_by_stat" in result.output and "^^^" in result.output


def test_a_failing_statement_among_several_is_named(db: Path) -> None:
    result = query(db, "SELECT 1; SELECT * FROM agency_counts_by_stat")
    assert result.exit_code == 1
    assert result.output.startswith("Error: query failed: statement 2 of 2 (SELECT * FROM agency_counts_by_stat): ")
    assert 'Did you mean "agency_counts_by_state"?' in result.output


def test_the_sandbox_holds_for_every_statement(db: Path, tmp_path: Path) -> None:
    """A harmless first statement does not open the door for the second."""
    leak = tmp_path / "leak.csv"
    result = query(db, f"SELECT 1; COPY (SELECT 1) TO '{leak}'")
    assert result.exit_code == 1 and "reads the warehouse and nothing else" in result.output
    assert "statement 2 of 2" in result.output and not leak.exists()
    result = query(db, "SELECT 1; SET enable_external_access = true; SELECT * FROM read_csv('/etc/hostname')")
    assert result.exit_code == 1 and "reads the warehouse and nothing else" in result.output
    result = query(db, "SELECT 1; DROP TABLE agencies")
    assert result.exit_code == 1 and "read-only" in result.output


def test_a_syntax_error_and_sql_that_is_not_utf8_are_plain_errors(db: Path) -> None:
    result = query(db, "SELEC 1")
    assert result.exit_code == 1 and result.output.startswith("Error: query failed: Parser Error")
    assert "LINE 1: SELEC 1" in result.output
    result = query(db, "SELECT '\udcff'")  # a byte the shell could not decode, surrogate-escaped
    assert result.exit_code == 1 and "not valid UTF-8" in result.output


def test_run_query_answers_one_statement_and_refuses_several(db: Path) -> None:
    assert run_query(db, "SELECT 1 AS a") == (["a"], [(1,)])
    with pytest.raises(WarehouseError, match="2 statements given where one was expected"):
        run_query(db, "SELECT 1; SELECT 2")
    with pytest.raises(WarehouseError, match="no SQL given"):
        run_query(db, "-- nothing")
