"""Fault by fault, against a real server on 127.0.0.1 and the real CLI run in-process (the
same code path as `ringwatch sync` with no Prefect API configured): ringwatch either
recovers or fails loudly, with nothing lost. tests/faults/test_cli_process.py runs the CLI
as a subprocess for what only a process shows (signals, exit codes, a reader meanwhile).

Each test starts from a database that already holds 2024Q1 and 2024Q2 and syncs 2024Q3."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from bench.synthetic_map import synthetic_map_kml
from tests.conftest import read_fixture
from tests.fake_site import FakeSite, fail_then, redirect, reset_mid_body, running, slow, truncated
from tests.faults.conftest import CONFIG, EARLIER
from tests.scrapers.test_agency_map import BILLION_LAUGHS

ROOT = Path(__file__).resolve().parents[2]
WRAPPER_PATH = "/maps/d/kml?mid=M1&nl=1&forcekml=1"
TARGET_PATH = "/maps/d/kml?mid=M1&forcekml=1"
REPORT_PATH = "/2021/01/20/law-enforcement-information-requests-in-2020"
KML = "application/vnd.google-earth.kml+xml"


def wrapper_for(site: FakeSite) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<name>Active Agency Map</name><NetworkLink><name>Active Agency Map</name><Link>"
            f"<href><![CDATA[{site.url(TARGET_PATH)}]]></href></Link></NetworkLink></Document></kml>").encode()


@pytest.fixture
def site() -> Iterator[FakeSite]:
    fake = FakeSite()
    with running(fake) as started:
        started.serve("/robots.txt", b"User-agent: *\nDisallow: /private/\n")
        started.serve(WRAPPER_PATH, wrapper_for(started), content_type=KML)
        started.serve(TARGET_PATH, synthetic_map_kml(12, seed=3), content_type=KML)
        started.serve(REPORT_PATH, read_fixture("transparency/report_2020_table_rows.html"), content_type="text/html")
        yield started


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def config_for(site: FakeSite, db: Path) -> Path:
    config = db.with_name("faults.toml")
    config.write_text(CONFIG + f'\n[sources.transparency]\nreport_urls = ["{site.url(REPORT_PATH)}"]\n'
                      "index_urls = []\n", encoding="utf-8")
    return config


def ringwatch(site: FakeSite, db: Path, *args: str, source: str = "agency_map",
              env: dict[str, str] | None = None) -> Outcome:
    """`ringwatch sync` in this process, as a user's shell would run it (no Prefect API)."""
    from click.testing import CliRunner

    from ringwatch.flows.cli import cli

    environment = {"RINGWATCH_AGENCY_MAP_URL": site.url(WRAPPER_PATH), "RINGWATCH_CONFIG": str(config_for(site, db)),
                   "RINGWATCH_DB": str(db), "PREFECT_API_URL": None, **(env or {})}
    result = CliRunner().invoke(cli, ["sync", "--source", source, "--quarter", "2024Q3", *args], env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def dump(db: Path) -> str:
    """Everything the earlier quarters hold, as text: compared before and after."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        parts = []
        for table in ("snapshots", "agency_snapshots", "agency_snapshot_fields"):
            rows = con.execute(f"SELECT * FROM {table} WHERE quarter IN ('2024Q1', '2024Q2') ORDER BY ALL").fetchall()
            parts.append(f"{table}: {rows!r}")
        return "\n".join(parts)
    finally:
        con.close()


def last_run(db: Path) -> tuple[str, str | None]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT status, error FROM sync_runs ORDER BY run_id DESC LIMIT 1").fetchone()
        assert row is not None
        return row[0], row[1]
    finally:
        con.close()


def kept(db: Path, url: str) -> list[tuple[int, int, bool]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT http_status, size_bytes, complete FROM captures WHERE url = ? ORDER BY capture_id",
                           [url]).fetchall()
    finally:
        con.close()


def one_error_line(result: Outcome, *, source: str, cause: str) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"Error: {source}: "), errors[0]
    assert cause in errors[0], errors[0]
    assert "Traceback" not in result.stderr
    return errors[0]


def held_quarters(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT quarter FROM snapshots WHERE source = 'agency_map' ORDER BY 1")
                .fetchall()]
    finally:
        con.close()


FAILURES = {
    # fault: (how the site misbehaves, the cause the error line names, whether bytes are kept)
    "slow response past the timeout": (lambda s: s.routes.update({TARGET_PATH: slow(2.5, b"late")}),
                                       "did not answer within the timeout", False),
    "connection reset mid-body": (lambda s: s.routes.update({TARGET_PATH: reset_mid_body(synthetic_map_kml(200))}),
                                  "broke after", True),
    "truncated body": (lambda s: s.routes.update({TARGET_PATH: truncated(synthetic_map_kml(50))}),
                       "truncated", True),
    "sign-in page instead of KML": (lambda s: s.serve(TARGET_PATH, b"<!DOCTYPE html><html><head><title>Sign in"
                                                      b"</title></head><body>Google Accounts</body></html>",
                                                      content_type="text/html"), "returned an HTML page", True),
    "empty KML": (lambda s: s.serve(TARGET_PATH, b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">'
                                    b"<Document><name>Active Agency Map</name></Document></kml>", content_type=KML),
                  "parsed to no agencies", True),
    "60% fewer agencies": (lambda s: s.serve(TARGET_PATH, synthetic_map_kml(4, seed=3), content_type=KML),
                           "less than 50% of the 10 held for 2024Q2", True),
    "malformed XML": (lambda s: s.serve(TARGET_PATH, synthetic_map_kml(12, seed=3)[:-40] + b"<Placemark></kml>",
                                        content_type=KML), "not well-formed XML", True),
    "entity-expansion bomb": (lambda s: s.serve(TARGET_PATH, BILLION_LAUGHS, content_type=KML),
                              "declares a DTD", True),
    "body over the size cap": (lambda s: s.serve(TARGET_PATH, synthetic_map_kml(1000, seed=3), content_type=KML),
                               "cap of 200,000 bytes", False),
    "redirect loop": (lambda s: s.routes.update({TARGET_PATH: redirect("/loop-a"), "/loop-a": redirect("/loop-b"),
                                                 "/loop-b": redirect("/loop-a")}), "redirect loop", False),
    "robots.txt disallows the path": (lambda s: s.serve("/robots.txt", b"User-agent: *\nDisallow: /maps/\n"),
                                      "robots.txt disallows", False),
}


@pytest.mark.parametrize("fault", list(FAILURES))
def test_faults_fail_loudly_with_nothing_lost(fault: str, site: FakeSite, db: Path) -> None:
    breaks, cause, bytes_kept = FAILURES[fault]
    before = dump(db)
    breaks(site)
    result = ringwatch(site, db)
    assert result.returncode == 1, result.stderr
    line = one_error_line(result, source="agency_map", cause=cause)
    assert "127.0.0.1" in line  # names the URL
    assert dump(db) == before
    assert held_quarters(db) == list(EARLIER)  # no partial quarter
    status, error = last_run(db)
    assert status == "failed" and error and cause in error
    captures = kept(db, site.url(TARGET_PATH))
    if bytes_kept:
        assert captures and captures[-1][1] > 0, captures
    else:
        assert all(size == 0 for _, size, _ in captures), captures


RECOVERIES = {
    "429 with Retry-After, then success": lambda s: s.routes.update(
        {WRAPPER_PATH: fail_then([(429, {"Retry-After": "1"})], wrapper_for(s), KML)}),
    "503 twice, then success": lambda s: s.routes.update(
        {TARGET_PATH: fail_then([(503, {}), (503, {})], synthetic_map_kml(12, seed=3), KML)}),
    "redirect to another host": lambda s: s.routes.update(
        {WRAPPER_PATH: redirect(f"http://localhost:{s.port}/moved-wrapper"), "/moved-wrapper": lambda r: r.send(
            200, wrapper_for(s), content_type=KML)}),
    "robots.txt rules whose order and specificity disagree": lambda s: s.serve(
        "/robots.txt", b"User-agent: *\nAllow: /maps/d/kml\nDisallow: /maps/\nDisallow: /\nAllow: /robots\n"),
    "a KML field with an unknown name": lambda s: s.serve(TARGET_PATH, synthetic_map_kml(12, seed=3).replace(
        b'<Data name="Active Date">', b'<Data name="Axon Partner Since"><value>2025</value></Data>'
        b'<Data name="Active Date">'), content_type=KML),
}


@pytest.mark.parametrize("fault", list(RECOVERIES))
def test_recoverable_faults_recover(fault: str, site: FakeSite, db: Path) -> None:
    before = dump(db)
    RECOVERIES[fault](site)
    result = ringwatch(site, db)
    assert result.returncode == 0, result.stderr
    assert "agency_map 2024Q3: loaded 12 agencies" in result.stdout
    assert dump(db) == before
    assert held_quarters(db) == [*EARLIER, "2024Q3"]
    assert last_run(db) == ("success", None)


def test_the_unknown_field_is_kept(site: FakeSite, db: Path) -> None:
    RECOVERIES["a KML field with an unknown name"](site)
    assert ringwatch(site, db).returncode == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*), min(value_number) FROM agency_snapshot_fields "
                       "WHERE quarter = '2024Q3' AND field_name = 'Axon Partner Since'").fetchone() == (12, 2025.0)
    con.close()


def test_a_report_page_with_no_figures_fails_loudly(site: FakeSite, db: Path) -> None:
    site.serve(REPORT_PATH, read_fixture("transparency/no_figures_2020-05-01.html"), content_type="text/html")
    before = dump(db)
    result = ringwatch(site, db, source="transparency")
    assert result.returncode == 1
    one_error_line(result, source="transparency", cause="has no request figures")
    assert dump(db) == before
    assert last_run(db)[0] == "failed"
    assert kept(db, site.url(REPORT_PATH))[-1][1] > 0
