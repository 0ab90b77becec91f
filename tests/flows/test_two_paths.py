"""The two ways a command runs: in-process (no Prefect API configured) and through Prefect (an
API configured). The same input must give the same warehouse and the same summary."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ringwatch.flows.cli import cli
from tests.conftest import FAST_CONFIG, FIXTURES

MAP = FIXTURES / "agency_map/active_agency_map_2024-01-15.kml"
REPORT = FIXTURES / "transparency/layouts/list_items_h2_2021.html"
# What a run cannot share with another: its ids, clocks, process and Prefect's run id.
VOLATILE = {"sync_runs": "run_id, flow_run_id, started_at, finished_at, pid, host",
            "snapshots": "run_id, loaded_at", "captures": "run_id, fetched_at"}
TABLES = ("sync_runs", "captures", "snapshots", "agency_observations", "agency_keys", "le_request_counts",
          "transparency_reports", "quality_warnings")


def load_both(db: Path, config: Path) -> list[str]:
    lines = []
    for path, observed in ((MAP, "2024-01-15"), (REPORT, "2022-01-20")):
        result = CliRunner().invoke(cli, ["sync", "--from-file", str(path), "--observed-at", observed,
                                          "--db", str(db), "--config", str(config)])
        assert result.exit_code == 0, (result.output, result.stderr)
        lines += [line for line in result.stdout.splitlines() if line.startswith(("agency_map", "transparency"))]
    return lines


def warehouse(db: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table in TABLES:
            drop = VOLATILE.get(table, "") + (", recorded_at" if table == "quality_warnings" else "")
            exclude = f" EXCLUDE ({drop.strip(', ')})" if drop.strip(", ") else ""
            out[table] = con.execute(f"SELECT *{exclude} FROM {table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_server")
def test_in_process_and_through_prefect_give_the_same_warehouse_and_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL

    config = tmp_path / "c.toml"
    config.write_text(FAST_CONFIG, encoding="utf-8")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    plain = load_both(tmp_path / "plain.duckdb", config)
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    through = load_both(tmp_path / "prefect.duckdb", config)
    assert plain == through
    assert len(plain) == 2 and plain[0].startswith("agency_map 2023Q4: loaded 8 agencies")
    assert warehouse(tmp_path / "plain.duckdb") == warehouse(tmp_path / "prefect.duckdb")
    con = duckdb.connect(str(tmp_path / "prefect.duckdb"), read_only=True)
    flow_runs = con.execute("SELECT count(flow_run_id) FROM sync_runs").fetchone()
    con.close()
    assert flow_runs == (2,)  # the Prefect path did run as flows


def test_a_configured_prefect_api_that_does_not_answer_is_one_line(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    result = CliRunner().invoke(cli, ["sync", "--from-file", str(MAP), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        result.stderr.strip()] and "the Prefect API at http://127.0.0.1:9/api" in result.stderr
    assert "does not answer" in result.stderr and "unset PREFECT_API_URL" in result.stderr
    assert not (tmp_path / "x.duckdb").exists()


def test_the_help_says_which_path_runs() -> None:
    text = CliRunner().invoke(cli, ["sync", "--help"]).output
    assert "no Prefect server" in text and "PREFECT_API_URL" in text
