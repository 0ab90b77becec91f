from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ringwatch.flows.cli import cli

FIXTURE = str(Path(__file__).parent / "fixtures/agency_map/active_agency_map_2024-01-15.kml")
COMMANDS = sorted(cli.commands)


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert cli.commands[command].help and len(result.output) > 200


def test_version() -> None:
    assert invoke("--version").output.strip() == "ringwatch, version 0.1.0"


def test_bad_usage_exits_2() -> None:
    assert invoke("sync", "--quarter", "2024Q5").exit_code == 2
    assert invoke("query").exit_code == 2
    assert invoke("nonsense").exit_code == 2


def test_query_on_a_missing_database_says_what_to_do(tmp_path: Path) -> None:
    result = invoke("query", "SELECT 1", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1
    assert "no ringwatch database at" in result.output and "ringwatch sync" in result.output


@pytest.mark.usefixtures("prefect_server")
def test_sync_from_file_then_query_and_status(tmp_path: Path, fast_config: Path) -> None:
    db = str(tmp_path / "r.duckdb")
    common = ["--db", db, "--config", str(fast_config)]
    result = invoke("sync", "--from-file", FIXTURE, "--observed-at", "2024-01-15", *common)
    assert result.exit_code == 0, result.output
    assert "agency_map 2023Q4: loaded 8 agencies" in result.output

    table = invoke("query", "SELECT quarter, agencies FROM agency_counts_by_quarter", "--db", db)
    assert table.output.splitlines()[2].split() == ["2023Q4", "8"]
    as_json = json.loads(invoke("query", "SELECT state, agencies FROM agency_counts_by_state "
                                "WHERE state = 'KY'", "--db", db, "--format", "json").output)
    assert as_json == [{"state": "KY", "agencies": 1}]
    as_csv = invoke("query", "SELECT name FROM agency_snapshots WHERE state = 'PR'", "--db", db,
                    "--format", "csv").output
    assert as_csv == "name\nPolicía Municipal de San Juan\n"

    status = invoke("status", "--db", db).output
    assert "quarters held:  1 (2023Q4)" in status and "latest snapshot: 8 rows" in status
    assert "last live sync: never" in status and "last other load:" in status and ", file (2023Q4)" in status


@pytest.mark.usefixtures("prefect_server")
def test_a_failed_sync_exits_1_with_one_error_line_and_shows_in_status(tmp_path: Path,
                                                                       fast_config: Path) -> None:
    db = str(tmp_path / "r.duckdb")
    bad = tmp_path / "signin.kml"
    bad.write_bytes(b"<!DOCTYPE html><html><body>Sign in</body></html>")
    result = CliRunner().invoke(cli, ["sync", "--from-file", str(bad), "--db", db,
                                      "--config", str(fast_config)])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert "agency_map:" in errors[0] and "signin.kml" in errors[0] and "HTML page" in errors[0]
    status = invoke("status", "--db", db).output
    assert "last live sync: never" in status and "failed" in status and "HTML page" in status


def test_query_is_read_only(tmp_path: Path) -> None:
    from ringwatch.warehouse.db import connect

    db = tmp_path / "r.duckdb"
    connect(db).close()
    result = invoke("query", "DROP TABLE agencies", "--db", str(db))
    assert result.exit_code == 1
    assert "read-only" in result.output
    assert invoke("query", "SELECT count(*) AS n FROM agencies", "--db", str(db)).exit_code == 0


def test_observed_at_needs_from_file() -> None:
    result = invoke("sync", "--observed-at", "2024-01-01")
    assert result.exit_code == 2 and "--observed-at goes with --from-file" in result.output


def test_environment_sets_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGWATCH_DB", str(tmp_path / "env.duckdb"))
    result = invoke("status")
    assert result.exit_code == 1 and "env.duckdb" in result.output
