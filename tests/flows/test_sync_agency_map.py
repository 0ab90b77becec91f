"""The sync flow end to end under Prefect, and every failure ending as the issue says:
a clear error naming the source and URL, a failed run recorded, the raw bytes kept, and
the earlier snapshots byte-for-byte untouched."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import responses

from bench.synthetic_map import synthetic_map_kml
from ringwatch.scrapers.errors import FetchError, ParseError, QualityGateError, RobotsDisallowed
from ringwatch.warehouse.quarters import quarter_for
from tests.conftest import FAST_CONFIG, MAP_URL, ROBOTS_URL, TARGET_URL, copy_database, read_fixture
from tests.scrapers.test_agency_map import BILLION_LAUGHS

# The sync job in-process (as the CLI runs it without a Prefect API); the two tests of Prefect's
# own task retries run the flow.

WRAPPER = read_fixture("agency_map/wrapper_2024-01-15.kml")
SEED_QUARTERS = ("2024Q1", "2024Q2")


def run_sync(db: Path, config: Path, **kwargs: object) -> dict:
    from dataclasses import asdict

    from ringwatch.flows.core.settings import load_settings
    from ringwatch.flows.core.sync import sync_agency_map

    return asdict(sync_agency_map(load_settings(config, db_path=db), **kwargs))  # type: ignore[arg-type]


def run_flow(db: Path, config: Path, **kwargs: object) -> dict:
    from dataclasses import asdict

    from ringwatch.flows.orchestration.sync_agency_map import sync_agency_map as sync

    return asdict(sync(db_path=str(db), config_path=str(config), **kwargs))


def dump(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("snapshots", "agency_snapshots", "agency_snapshot_fields", "agencies")}
    finally:
        con.close()


def runs(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT status, error, quarter FROM sync_runs ORDER BY run_id").fetchall()
    finally:
        con.close()


def captures(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT url, http_status, sha256, complete, origin FROM captures "
                           "ORDER BY capture_id").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database already holding two quarters (10 agencies each), loaded through the flow once."""
    folder = tmp_path_factory.mktemp("seeded")
    config = folder / "settings.toml"
    config.write_text(FAST_CONFIG, encoding="utf-8")
    db = folder / "ringwatch.duckdb"
    for n, quarter in enumerate(SEED_QUARTERS):
        path = folder / f"seed{n}.kml"
        path.write_bytes(synthetic_map_kml(10, seed=n))
        run_sync(db, config, from_file=str(path), quarter=quarter)
    return db


@pytest.fixture
def seeded_db(seeded_template: Path, tmp_path: Path) -> Path:
    """A copy of the seeded database (and its captures), for this test alone."""
    return copy_database(seeded_template, tmp_path / "ringwatch.duckdb")


def serve_map(body: bytes, *, status: int = 200, content_type: str = "application/vnd.google-earth.kml+xml") -> None:
    responses.add(responses.GET, ROBOTS_URL, body="User-agent: *\nAllow: /maps/d/\n")
    responses.add(responses.GET, MAP_URL, body=WRAPPER, content_type=content_type)
    responses.add(responses.GET, TARGET_URL, body=body, status=status, content_type=content_type)


@responses.activate
def test_live_sync_follows_the_wrapper_and_loads_this_quarter(tmp_path: Path, fast_config: Path) -> None:
    serve_map(read_fixture("agency_map/active_agency_map_2024-01-15.kml"))
    db = tmp_path / "ringwatch.duckdb"
    before = datetime.now(UTC)
    summary = run_sync(db, fast_config)
    expected_quarter = str(quarter_for(before))
    assert (summary["status"], summary["rows_loaded"], summary["quarter"]) == ("loaded", 8, expected_quarter)
    assert [c[:2] for c in captures(db)] == [(MAP_URL, 200), (TARGET_URL, 200)]
    assert runs(db) == [("success", None, expected_quarter)]
    blob_dir = tmp_path / "ringwatch.captures"
    assert sorted(p.name for p in blob_dir.rglob("*") if p.is_file()) == sorted(c[2] for c in captures(db))
    sent = [call.request.headers["User-Agent"] for call in responses.calls]
    assert all(agent == "ringwatch/0.1.0 (+tests@example.org)" for agent in sent)


@responses.activate
def test_the_same_sync_twice_leaves_identical_tables(tmp_path: Path, fast_config: Path) -> None:
    body = read_fixture("agency_map/active_agency_map_2024-01-15.kml")
    serve_map(body)
    serve_map(body)
    db = tmp_path / "ringwatch.duckdb"
    run_sync(db, fast_config, quarter="2024Q1")
    first = dump(db)
    con = duckdb.connect(str(db), read_only=True)
    first_capture_ids = con.execute("SELECT capture_id FROM agency_snapshots LIMIT 1").fetchone()
    con.close()
    run_sync(db, fast_config, quarter="2024Q1")
    second = dump(db)
    # The rows are the same but for the capture they point at and the time observed.
    strip = lambda rows: [r[:13] for r in rows]  # noqa: E731
    assert strip(second["agency_snapshots"]) == strip(first["agency_snapshots"])
    assert second["agencies"] == first["agencies"]
    assert len(second["snapshots"]) == 1
    assert first_capture_ids is not None
    # The body is stored once, however often it is fetched.
    blobs = [p for p in (tmp_path / "ringwatch.captures").rglob("*") if p.is_file()]
    assert len(blobs) == 2 and len(captures(db)) == 4


def test_from_file_loads_kmz_with_observed_at(tmp_path: Path, fast_config: Path) -> None:
    db = tmp_path / "ringwatch.duckdb"
    kmz = Path(__file__).parents[1] / "fixtures/agency_map/active_agency_map_2024-01-15.kmz"
    summary = run_sync(db, fast_config, from_file=str(kmz),
                       observed_at=datetime(2024, 4, 1, 6, tzinfo=UTC))
    assert (summary["quarter"], summary["rows_loaded"]) == ("2024Q1", 8)
    assert captures(db)[0][4] == "file" and captures(db)[0][1] == 0


def test_deployment_runs_take_the_quarter_from_the_scheduled_time() -> None:
    from ringwatch.flows.core.steps import choose_quarter
    from ringwatch.flows.orchestration.tasks import scheduled_start

    scheduled = datetime(2025, 4, 1, 6, tzinfo=UTC)
    late_start = datetime(2025, 5, 20, tzinfo=UTC)  # the run started late: Q2 by the clock
    assert choose_quarter(None, late_start, scheduled) == "2025Q1"
    assert choose_quarter("2024Q3", late_start, scheduled) == "2024Q3"
    assert choose_quarter(None, late_start) == "2025Q2"
    assert scheduled_start() is None  # not inside a deployment run


FAILURES = {
    "sign-in page": (b"<!DOCTYPE html><html><head><title>Sign in - Google Accounts</title></head>"
                     b"<body></body></html>",
                     200, ParseError, "returned an HTML page"),
    "empty kml": (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">'
                  b"<Document><name>Active Agency Map</name></Document></kml>",
                  200, QualityGateError, "parsed to no agencies"),
    "malformed xml": (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">'
                      b"<Document><Placemark><name>A</nam></Placemark>",
                      200, ParseError, "not well-formed XML"),
    "entity bomb": (BILLION_LAUGHS,
                    200, ParseError, "declares a DTD"),
    "404": (b"<html>Not Found</html>", 404, FetchError, "answered HTTP 404"),
    "60% drop": (synthetic_map_kml(4, seed=9), 200, QualityGateError, "less than 50% of the 10 held for 2024Q2"),
}


@pytest.mark.parametrize("case", list(FAILURES))
@responses.activate
def test_failures_leave_earlier_snapshots_untouched(case: str, seeded_db: Path, fast_config: Path) -> None:
    body, status, error, message = FAILURES[case]
    before = dump(seeded_db)
    serve_map(body, status=status)
    with pytest.raises(error, match=message) as info:
        run_sync(seeded_db, fast_config, quarter="2024Q3")
    text = str(info.value)
    assert text.startswith("agency_map: ")
    assert TARGET_URL in text
    assert dump(seeded_db) == before
    status_, error_text, _quarter = runs(seeded_db)[-1]
    assert status_ == "failed" and error_text == text
    # The raw bytes are kept for re-parsing, even though they never became data.
    kept = [c for c in captures(seeded_db) if c[0] == TARGET_URL]
    assert len(kept) == 1 and kept[0][1] == status
    blob = seeded_db.with_name("ringwatch.captures") / kept[0][2][:2] / kept[0][2]
    assert blob.read_bytes() == body


@responses.activate
def test_a_drop_is_loaded_with_force(seeded_db: Path, fast_config: Path) -> None:
    serve_map(synthetic_map_kml(4, seed=9))
    summary = run_sync(seeded_db, fast_config, quarter="2024Q3", force=True)
    assert summary["rows_loaded"] == 4


@responses.activate
def test_503_then_success_recovers(seeded_db: Path, fast_config: Path) -> None:
    responses.add(responses.GET, ROBOTS_URL, body="User-agent: *\nAllow: /\n")
    responses.add(responses.GET, MAP_URL, status=503)
    responses.add(responses.GET, MAP_URL, body=WRAPPER)
    responses.add(responses.GET, TARGET_URL, body=synthetic_map_kml(11, seed=1))
    summary = run_sync(seeded_db, fast_config, quarter="2024Q3")
    assert (summary["status"], summary["rows_loaded"]) == ("loaded", 11)
    assert runs(seeded_db)[-1][0] == "success"


@responses.activate
def test_robots_disallow_fetches_nothing_and_fails(seeded_db: Path, fast_config: Path) -> None:
    before = dump(seeded_db)
    responses.add(responses.GET, ROBOTS_URL, body="User-agent: *\nAllow: /maps/d/viewer\nDisallow: /maps/\n")
    with pytest.raises(RobotsDisallowed, match="robots.txt disallows"):
        run_sync(seeded_db, fast_config, quarter="2024Q3")
    assert [c.request.url for c in responses.calls] == [ROBOTS_URL]
    assert dump(seeded_db) == before
    assert runs(seeded_db)[-1][0] == "failed"


class _Truncating(http.server.BaseHTTPRequestHandler):
    """Announces more bytes than it sends, then closes: a truncated download."""

    body = b""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/robots.txt":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.google-earth.kml+xml")
        self.send_header("Content-Length", str(len(self.body) * 2))
        self.end_headers()
        self.wfile.write(self.body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def truncating_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Truncating)
    _Truncating.body = synthetic_map_kml(20, seed=3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/maps/d/kml?forcekml=1"
    finally:
        server.shutdown()
        server.server_close()


def test_truncated_body_fails_and_keeps_the_partial_bytes(seeded_db: Path, tmp_path: Path,
                                                          truncating_server: str) -> None:
    config = tmp_path / "local.toml"
    config.write_text(FAST_CONFIG.replace(MAP_URL, truncating_server), encoding="utf-8")
    before = dump(seeded_db)
    with pytest.raises(FetchError, match="truncated|connection .* broke") as info:
        run_sync(seeded_db, config, quarter="2024Q3")
    assert info.value.transient
    assert truncating_server in str(info.value)
    assert dump(seeded_db) == before
    kept = [c for c in captures(seeded_db) if c[0] == truncating_server]
    assert kept and kept[-1][3] is False  # complete = false
    assert runs(seeded_db)[-1][0] == "failed"


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_server")
@responses.activate
def test_prefect_retries_a_transient_fetch_failure(seeded_db: Path, tmp_path: Path) -> None:
    config = tmp_path / "retry.toml"
    config.write_text(FAST_CONFIG.replace("fetch_retries = 0", "fetch_retries = 1"), encoding="utf-8")
    responses.add(responses.GET, ROBOTS_URL, status=404)
    for _ in range(3):  # the client's own three attempts all fail
        responses.add(responses.GET, MAP_URL, status=503)
    responses.add(responses.GET, MAP_URL, body=WRAPPER)
    responses.add(responses.GET, TARGET_URL, body=synthetic_map_kml(12, seed=2))
    summary = run_flow(seeded_db, config, quarter="2024Q3")
    assert summary["rows_loaded"] == 12


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_server")
@responses.activate
def test_prefect_does_not_retry_a_terminal_failure(seeded_db: Path, tmp_path: Path) -> None:
    config = tmp_path / "retry.toml"
    config.write_text(FAST_CONFIG.replace("fetch_retries = 0", "fetch_retries = 2"), encoding="utf-8")
    responses.add(responses.GET, ROBOTS_URL, status=404)
    responses.add(responses.GET, MAP_URL, status=404)
    with pytest.raises(FetchError, match="HTTP 404"):
        run_flow(seeded_db, config, quarter="2024Q3")
    assert [c.request.url for c in responses.calls].count(MAP_URL) == 1


@responses.activate
def test_duplicate_placemarks_are_merged_and_reported(tmp_path: Path, fast_config: Path) -> None:
    one = ("<Placemark><name>Twin Police Department</name><address>Reno, NV</address>"
           "<ExtendedData><Data name='Agency Profile'><value>https://agency.ring.com/agencies/"
           "11111111-2222-4333-8444-555555555555</value></Data></ExtendedData></Placemark>")
    body = ('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"{one}{one}</Document></kml>").encode()
    serve_map(body)
    db = tmp_path / "ringwatch.duckdb"
    summary = run_sync(db, fast_config, quarter="2024Q1")
    assert summary["rows_loaded"] == 1
    assert len(summary["warnings"]) == 1 and "kept #1, dropped #2" in summary["warnings"][0]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT kind, subject FROM quality_warnings").fetchall() == [
        ("duplicate_agency", "11111111-2222-4333-8444-555555555555")]
    con.close()


@responses.activate
def test_conditional_get_304_reuses_the_stored_bytes(tmp_path: Path, fast_config: Path) -> None:
    body = read_fixture("agency_map/active_agency_map_2024-01-15.kml")
    validators = {"ETag": '"map-v1"', "Last-Modified": "Mon, 15 Jan 2024 00:00:00 GMT"}
    responses.add(responses.GET, ROBOTS_URL, status=404)
    responses.add(responses.GET, MAP_URL, body=WRAPPER, headers=validators)
    responses.add(responses.GET, TARGET_URL, body=body, headers=validators)
    db = tmp_path / "ringwatch.duckdb"
    run_sync(db, fast_config, quarter="2024Q1")
    responses.add(responses.GET, ROBOTS_URL, status=404)
    responses.add(responses.GET, MAP_URL, status=304)
    responses.add(responses.GET, TARGET_URL, status=304)
    summary = run_sync(db, fast_config, quarter="2024Q2")
    assert summary["rows_loaded"] == 8
    second_round = [c.request for c in responses.calls][-2:]
    assert all(r.headers["If-None-Match"] == '"map-v1"' for r in second_round)
    statuses = [(c[0], c[1]) for c in captures(db)]
    assert statuses[-2:] == [(MAP_URL, 304), (TARGET_URL, 304)]
    assert captures(db)[-1][2] == captures(db)[1][2]  # same sha256 as the first target capture
