"""The transparency flow and the all-sources flow end to end under Prefect."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import responses
from click.testing import CliRunner

from ringwatch.flows.cli import cli
from ringwatch.scrapers.errors import ParseError
from tests.conftest import FAST_CONFIG, MAP_URL, ROBOTS_URL, TARGET_URL, read_fixture


def sync_transparency(*, db_path: str, config_path: str, **kwargs: object) -> dict:
    """The transparency sync job in-process, as the CLI runs it without a Prefect API."""
    from dataclasses import asdict

    from ringwatch.flows.core.settings import load_settings
    from ringwatch.flows.core.sync import sync_transparency as job

    return asdict(job(load_settings(config_path, db_path=db_path), **kwargs))  # type: ignore[arg-type]

POST = "https://blog.ring.com/2021/01/20/law-enforcement-information-requests-in-2020"
PAGE = "https://ring.com/law-enforcement-information-requests"
CONFIG = FAST_CONFIG + f"""
[sources.transparency]
report_urls = ["{POST}"]
index_urls = ["{POST}"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def serve_reports(post: bytes | None = None, page: bytes | None = None) -> None:
    responses.add(responses.GET, "https://blog.ring.com/robots.txt", body="User-agent: *\nDisallow: /wp-admin/\n")
    responses.add(responses.GET, "https://ring.com/robots.txt", status=404)
    responses.add(responses.GET, POST, body=post or read_fixture("transparency/report_2020_table_rows.html"),
                  content_type="text/html; charset=UTF-8")
    responses.add(responses.GET, PAGE, body=page or read_fixture("transparency/requests_page_h1_2021.html"),
                  content_type="text/html; charset=UTF-8")


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@responses.activate
def test_transparency_sync_discovers_the_later_page_and_loads_both(tmp_path: Path, config: Path) -> None:

    serve_reports()
    db = tmp_path / "r.duckdb"
    summary = sync_transparency(db_path=str(db), config_path=str(config), quarter="2021Q3")
    assert summary["status"] == "loaded" and summary["rows_loaded"] == 21 + 18
    assert query(db, "SELECT url FROM transparency_reports ORDER BY url") == [(POST,), (PAGE,)]
    assert query(db, "SELECT period_label, received, complied_share FROM le_requests_by_period "
                     "WHERE request_type = 'all' ORDER BY period_start") == [
        ("2020", 1900, 0.5737), ("January 1 - June 30, 2021", 1574, 0.8278)]
    assert query(db, "SELECT url, http_status FROM captures ORDER BY capture_id") == [(POST, 200), (PAGE, 200)]
    assert query(db, "SELECT status, quarter, rows_loaded FROM sync_runs") == [("success", "2021Q3", 39)]


@responses.activate
def test_a_second_identical_sync_is_unchanged(tmp_path: Path, config: Path) -> None:

    serve_reports()
    serve_reports()
    db = tmp_path / "r.duckdb"
    sync_transparency(db_path=str(db), config_path=str(config), quarter="2021Q3")
    before = query(db, "SELECT * FROM le_request_counts ORDER BY ALL")
    summary = sync_transparency(db_path=str(db), config_path=str(config), quarter="2021Q4")
    assert summary["status"] == "unchanged" and summary["rows_loaded"] == 0
    assert query(db, "SELECT * FROM le_request_counts ORDER BY ALL") == before
    assert query(db, "SELECT status FROM sync_runs ORDER BY run_id") == [("success",), ("unchanged",)]


@responses.activate
def test_a_configured_page_without_figures_fails_and_keeps_the_bytes(tmp_path: Path, config: Path) -> None:

    serve_reports(post=read_fixture("transparency/no_figures_2020-05-01.html"))
    db = tmp_path / "r.duckdb"
    with pytest.raises(ParseError, match=f"transparency: {POST} .*has no request figures"):
        sync_transparency(db_path=str(db), config_path=str(config), quarter="2021Q3")
    assert query(db, "SELECT count(*) FROM le_request_counts") == [(0,)]
    assert query(db, "SELECT status, error LIKE '%has no request figures%' FROM sync_runs") == [("failed", True)]
    assert query(db, "SELECT url FROM captures") == [(POST,)]


@responses.activate
def test_mismatched_totals_are_recorded_as_warnings(tmp_path: Path, config: Path) -> None:

    serve_reports(post=read_fixture("transparency/report_2020_total_mismatch.html"))
    db = tmp_path / "r.duckdb"
    summary = sync_transparency(db_path=str(db), config_path=str(config), quarter="2021Q3")
    assert any("2,300" in w for w in summary["warnings"])
    assert query(db, "SELECT count(*) FROM quality_warnings WHERE kind = 'total_mismatch'") == [(2,)]
    assert query(db, "SELECT value FROM le_request_counts WHERE request_type = 'all' AND outcome = 'received' "
                     "AND country = 'US' AND period_label = '2020'") == [(2300,)]


@responses.activate
def test_all_sources_one_failing_does_not_stop_the_other(tmp_path: Path, config: Path) -> None:
    serve_reports()
    responses.add(responses.GET, ROBOTS_URL, status=404)
    responses.add(responses.GET, MAP_URL, body=read_fixture("agency_map/wrapper_2024-01-15.kml"))
    responses.add(responses.GET, TARGET_URL, body=b"<!DOCTYPE html><html>Sign in</html>")
    db = tmp_path / "r.duckdb"
    result = CliRunner().invoke(cli, ["sync", "--db", str(db), "--config", str(config), "--quarter", "2021Q3"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert errors[0].startswith("Error: agency_map: ") and "HTML page" in errors[0]
    assert "transparency 2021Q3: loaded 39 figures from 2 report(s)" in result.output
    assert query(db, "SELECT source, status FROM sync_runs ORDER BY run_id") == [
        ("agency_map", "failed"), ("transparency", "success")]
    status = CliRunner().invoke(cli, ["status", "--db", str(db)]).output
    assert "2 report(s), 39 current figures over 2 period(s)" in status


def test_from_file_loads_a_saved_report_under_its_canonical_url(tmp_path: Path, config: Path) -> None:
    saved = tmp_path / "saved.html"
    body = read_fixture("transparency/report_2020_prose_lists.html").replace(
        b"<head>", f'<head><link rel="canonical" href="{POST}/">'.encode())
    saved.write_bytes(body)
    db = tmp_path / "r.duckdb"
    result = CliRunner().invoke(cli, ["sync", "--from-file", str(saved), "--observed-at", "2021-02-01",
                                      "--db", str(db), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "transparency 2020Q4: loaded 8 figures from 1 report(s)" in result.output
    assert query(db, "SELECT url FROM transparency_reports") == [(POST + "/",)]
    assert query(db, "SELECT origin FROM captures") == [("file",)]
