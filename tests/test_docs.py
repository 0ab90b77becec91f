"""The README tells the truth: every command, option, table, view and env variable is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ringwatch.flows.cli import cli
from ringwatch.warehouse.db import connect, sql_files

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_and_option_is_documented(command: str) -> None:
    assert f"ringwatch {command}" in README
    for param in cli.commands[command].params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert opt in README, f"{command} {opt}"


def test_every_table_and_view_is_documented_with_its_columns() -> None:
    con = connect(":memory:")
    rows = con.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal GROUP BY table_name").fetchall()
    con.close()
    for name, columns in rows:
        line = next((ln for ln in README.splitlines() if ln.startswith(f"| `{name}` |")), None)
        assert line is not None, f"{name} missing from the README's tables"
        assert ", ".join(columns) in line, f"{name}: README columns differ from {columns}"


def test_every_view_file_is_in_the_readme() -> None:
    for view in sql_files("views"):
        assert f"`{view.name.removesuffix('.sql')}`" in README


def test_every_environment_variable_is_documented() -> None:
    code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "flows").glob("*.py"))
    names = set(re.findall(r"RINGWATCH_[A-Z_]+", code)) - {"RINGWATCH_"}
    names.discard("RINGWATCH_{SOURCE}_URL")
    for name in names | {"RINGWATCH_AGENCY_MAP_URL"}:
        assert f"`{name}`" in README, name
