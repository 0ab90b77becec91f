"""Backfills from a fake Wayback Machine (responses, in the real CDX JSON form), Atlas
imports from the real EFF export, and reparses without the network."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
import responses
from click.testing import CliRunner

from bench.synthetic_map import synthetic_map_kml
from ringwatch.flows.cli import cli
from tests.conftest import FAST_CONFIG, SHARED_DATA, read_fixture

# The CLI runs these in-process (no Prefect API is configured); the tests that need Prefect
# (the flow, its artifacts) are marked so.

ARCHIVE = "http://archive.test"
MID = "1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB"
WRAPPER = f"https://www.google.com/maps/d/kml?mid={MID}&nl=1&forcekml=1"
DIRECT = f"https://www.google.com/maps/d/kml?forcekml=1&mid={MID}&lid=zXyZ"
TARGET = f"https://www.google.com/maps/d/kml?mid={MID}&forcekml=1"
HEADER = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
ATLAS = SHARED_DATA / "aos_ring_neighbors_20201007.csv"

# Map captures in the archive: two in 2020Q1 (the nearer wins), one in 2020Q2 that answers 503
# (skipped for the next nearest), none in 2020Q3, a wrapper in 2020Q4 whose target is archived too.
MAP_ROWS = [
    ("20200315120000", DIRECT, 40), ("20200402080000", DIRECT, 42),
    ("20200610120000", DIRECT, 44), ("20200701060000", DIRECT, 45),
    ("20201230120000", WRAPPER, 0),
]
TARGET_ROWS = [("20201229100000", TARGET, 46)]
BROKEN = {"20200701060000"}


def cdx_row(timestamp: str, original: str, n: int) -> list[str]:
    return ["com,google)/maps/d/kml", timestamp, original, "application/vnd.google-earth.kml+xml", "200",
            f"DIGEST{timestamp}", "1000"]


class FakeArchive:
    """Answers CDX queries and id_ fetches; counts what it was asked."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.throttle_first_cdx = True

    def cdx(self, request) -> tuple[int, dict, str]:  # noqa: ANN001 - responses' request
        query = parse_qs(urlsplit(request.url).query)
        self.calls["cdx"] += 1
        if self.throttle_first_cdx:
            self.throttle_first_cdx = False
            return 429, {"Retry-After": "0"}, "slow down"
        assert query["output"] == ["json"] and "statuscode:200" in query["filter"]
        assert query["collapse"] == ["digest"]
        url = query["url"][0]
        if query["matchType"] == ["prefix"]:
            assert url == "www.google.com/maps/d/kml" and f"original:.*mid={MID}.*" in query["filter"]
            rows = MAP_ROWS
        elif url == TARGET:
            rows = TARGET_ROWS
        else:
            return 200, {}, "[]"
        lo, hi = query["from"][0], query["to"][0]
        found = [cdx_row(*r) for r in rows if lo <= r[0] <= hi]
        return 200, {"Content-Type": "application/json"}, json.dumps([HEADER, *found] if found else [])

    def raw(self, request) -> tuple[int, dict, bytes]:  # noqa: ANN001
        m = re.match(rf"{ARCHIVE}/web/(\d+)id_/(.+)$", request.url)
        assert m, request.url
        self.calls[f"raw {m[1]}"] += 1
        if m[1] in BROKEN:
            return 503, {}, b"busy"
        if m[2] == WRAPPER:
            return 200, {}, read_fixture("agency_map/wrapper_2024-01-15.kml")
        size = next(n for t, _, n in MAP_ROWS + TARGET_ROWS if t == m[1])
        return 200, {"Content-Type": "application/vnd.google-earth.kml+xml"}, synthetic_map_kml(size, seed=5)

    def install(self) -> None:
        responses.add(responses.GET, f"{ARCHIVE}/robots.txt", status=404)
        responses.add_callback(responses.GET, re.compile(rf"{ARCHIVE}/cdx/search/cdx\?.*"), callback=self.cdx)
        responses.add_callback(responses.GET, re.compile(rf"{ARCHIVE}/web/.*"), callback=self.raw)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(FAST_CONFIG + f'\n[wayback]\nbase_url = "{ARCHIVE}"\nwindow_days = 45\n', encoding="utf-8")
    return path


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def run_cli(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@responses.activate
def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path, config: Path) -> None:
    archive = FakeArchive()
    archive.install()
    db = tmp_path / "r.duckdb"
    result = run_cli("backfill", "--since", "2020Q1", "--until", "2020Q4", "--source", "agency_map", "--dry-run",
                     "--db", str(db), "--config", str(config))
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("agency_map")}
    assert "20200402080000" in lines["2020Q1"] and f"{ARCHIVE}/web/20200402080000id_/" in lines["2020Q1"]
    assert "20200701060000" in lines["2020Q2"]  # the plan does not know yet that it will fail
    assert "missing" in lines["2020Q3"] and "no capture within 45 days" in lines["2020Q3"]
    assert "20201230120000" in lines["2020Q4"]
    assert not db.exists()
    assert archive.calls["cdx"] == 2 and not [k for k in archive.calls if k.startswith("raw")]


@responses.activate
def test_backfill_fills_skips_and_reports_missing_then_a_rerun_fetches_nothing(tmp_path: Path, config: Path) -> None:
    archive = FakeArchive()
    archive.install()
    db = tmp_path / "r.duckdb"
    args = ["backfill", "--since", "2020Q1", "--until", "2020Q4", "--source", "agency_map",
            "--db", str(db), "--config", str(config)]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    assert query(db, "SELECT quarter, rows_loaded, origin, strftime(observed_at, '%Y%m%d%H%M%S') "
                     "FROM snapshots ORDER BY quarter") == [
        ("2020Q1", 42, "wayback", "20200402080000"),
        ("2020Q2", 44, "wayback", "20200610120000"),
        ("2020Q4", 46, "wayback", "20201229100000")]
    assert "3 filled, 0 skipped, 0 kept nearer, 1 missing" in result.output
    assert re.search(r"2020Q3\s+missing\s+no capture within 45 days", result.output)
    # the 503 capture was tried, then skipped for the next nearest
    assert archive.calls["raw 20200701060000"] >= 1 and archive.calls["raw 20200610120000"] == 1
    assert query(db, "SELECT count(*) FROM sync_runs WHERE mode = 'wayback' AND status = 'failed'") == [(1,)]
    # a wrapper's NetworkLink target came from the archive too, recorded as its child
    assert query(db, "SELECT p.url LIKE '%20201230120000id_/%nl=1%', c.url LIKE '%20201229100000id_/%' "
                     "FROM captures c JOIN captures p ON c.parent_capture_id = p.capture_id") == [(True, True)]
    before_calls = archive.calls.copy()
    before = query(db, "SELECT * EXCLUDE (loaded_at, run_id) FROM snapshots ORDER BY quarter")
    second = run_cli(*args)
    assert second.exit_code == 0, second.output
    # Nothing it has is fetched again; only the capture that failed is tried once more
    # (it is nearer 2020Q2's end than the one loaded, and the archive may have recovered).
    assert archive.calls - before_calls == Counter({"raw 20200701060000": 3})
    assert "0 filled, 3 skipped, 0 kept nearer, 1 missing" in second.output
    assert query(db, "SELECT * EXCLUDE (loaded_at, run_id) FROM snapshots ORDER BY quarter") == before


@responses.activate
def test_an_interrupted_backfill_resumes_without_refetching(tmp_path: Path, config: Path) -> None:
    archive = FakeArchive()
    archive.install()
    db = tmp_path / "r.duckdb"
    # first run: stop after 2020Q1 (as if the process had been interrupted there)
    first = run_cli("backfill", "--since", "2020Q1", "--until", "2020Q1", "--source", "agency_map",
                    "--db", str(db), "--config", str(config))
    assert first.exit_code == 0, first.output
    fetched_q1 = archive.calls["raw 20200402080000"]
    result = run_cli("backfill", "--since", "2020Q1", "--until", "2020Q2", "--source", "agency_map",
                     "--db", str(db), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert archive.calls["raw 20200402080000"] == fetched_q1 == 1  # kept from the first run
    assert "1 filled, 1 skipped" in result.output
    assert query(db, "SELECT quarter FROM snapshots ORDER BY quarter") == [("2020Q1",), ("2020Q2",)]


@responses.activate
def test_backfill_never_replaces_a_nearer_snapshot_nor_the_last_live_sync(tmp_path: Path, config: Path) -> None:
    archive = FakeArchive()
    archive.install()
    db = tmp_path / "r.duckdb"
    kml = tmp_path / "map.kml"
    kml.write_bytes(synthetic_map_kml(41, seed=1))
    assert run_cli("sync", "--from-file", str(kml), "--observed-at", "2020-03-31T12:00:00Z", "--db", str(db),
                   "--config", str(config)).exit_code == 0
    result = run_cli("backfill", "--since", "2020Q1", "--until", "2020Q1", "--source", "agency_map",
                     "--db", str(db), "--config", str(config))
    assert "kept_nearer" in result.output
    assert query(db, "SELECT rows_loaded, origin FROM snapshots") == [(41, "file")]
    status = run_cli("status", "--db", str(db)).output
    assert "last live sync: never" in status


@pytest.mark.skipif(not ATLAS.exists(), reason=f"the real Atlas export is not at {ATLAS}")
def test_import_atlas_loads_the_ring_rows_of_the_real_export(tmp_path: Path, config: Path) -> None:
    db = tmp_path / "r.duckdb"
    result = run_cli("import-atlas", str(ATLAS), "--db", str(db), "--config", str(config))
    assert result.exit_code == 0, result.output
    with ATLAS.open(encoding="utf-8-sig", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["Technology"] == "Ring/Neighbors Partnership"]

    def key(r: dict[str, str]) -> tuple[str, str, str]:
        fold = lambda s: " ".join(re.sub(r"[^\w\s]", " ", s.casefold()).split())  # noqa: E731
        return fold(r["Agency"]), fold(r["City"]), r["State"].strip().upper()

    distinct = {key(r) for r in rows}
    assert query(db, "SELECT quarter, rows_loaded, origin FROM snapshots") == [("2020Q3", len(distinct), "atlas")]
    assert f"loaded {len(distinct):,} agencies from {len(rows):,} Ring rows" in result.output
    duplicates = len(rows) - len(distinct)
    assert query(db, "SELECT count(*) FROM quality_warnings WHERE kind = 'duplicate_agency'") == [(duplicates,)]
    # joins per year from the warehouse match the file's own dates: one per distinct agency,
    # where duplicates disagree the first row with a date (the documented merge rule)
    by_key: dict[tuple[str, str, str], str] = {}
    for r in rows:
        if not by_key.get(key(r)):
            by_key[key(r)] = r["Link 1 Date"].strip()
    years: Counter[int] = Counter()
    for value in by_key.values():
        if value:
            year = int(value.rsplit("/", 1)[1])
            years[year + 2000 if year < 100 else year] += 1
    from_db = dict(query(db, "SELECT left(quarter, 4)::INT AS year, sum(joined)::INT FROM agency_joins_by_quarter "
                             "GROUP BY year ORDER BY year"))
    assert from_db == dict(sorted(years.items()))
    assert query(db, "SELECT count(*) FROM agency_snapshots WHERE active_date IS NULL") == [
        (sum(1 for d in by_key.values() if not d),)]


def test_import_atlas_needs_a_date(tmp_path: Path, config: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Agency,City,State,Technology,Link 1 Date\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import-atlas", str(path), "--db", str(tmp_path / "r.duckdb"),
                                      "--config", str(config)])
    assert result.exit_code == 1 and "no YYYYMMDD stamp; pass --observed-at" in result.output


@responses.activate
def test_reparse_after_a_parser_change_updates_snapshots_without_a_request(
        tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "r.duckdb"
    fixture = Path(__file__).parents[1] / "fixtures/agency_map/active_agency_map_2024-01-15.kml"
    assert run_cli("sync", "--from-file", str(fixture), "--observed-at", "2024-01-15", "--db", str(db),
                   "--config", str(config)).exit_code == 0
    report = Path(__file__).parents[1] / "fixtures/transparency/report_2020_table_rows.html"
    assert run_cli("sync", "--from-file", str(report), "--observed-at", "2021-01-20", "--db", str(db),
                   "--config", str(config)).exit_code == 0
    import ringwatch.flows.core.ingest as reparse_module  # the one ingest reads every job's captures
    from ringwatch.scrapers.agency_map import parse_agency_map

    def changed_parser(data: bytes, *, source_url: str, **limits: int) -> list:
        from dataclasses import replace
        return [replace(a, name=a.name.upper()) for a in parse_agency_map(data, source_url=source_url, **limits)]

    monkeypatch.setattr(reparse_module, "parse_agency_map", changed_parser)
    result = run_cli("reparse", "--db", str(db), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "agency_map 2023Q4: reloaded 8 rows" in result.output and "transparency: reloaded 21 rows" in result.output
    assert len(responses.calls) == 0
    assert query(db, "SELECT count(*) FROM agency_snapshots WHERE name = upper(name)") == [(8,)]
    assert query(db, "SELECT count(*) FROM le_request_counts") == [(21,)]
    assert query(db, "SELECT count(*) FROM sync_runs WHERE mode = 'reparse' AND status = 'success'") == [(2,)]


POST = "https://blog.ring.com/2021/01/20/law-enforcement-information-requests-in-2020"


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_server")
@responses.activate
def test_transparency_backfill_keeps_restated_figures_and_publishes_progress(tmp_path: Path, config: Path) -> None:
    first = read_fixture("transparency/report_2020_table_rows.html")
    restated = first.replace(b"<td>Subpoenas</td><td>1,045</td>", b"<td>Subpoenas</td><td>1,050</td>")
    pages = {"20210125000000": first, "20210705000000": restated}

    def cdx(request) -> tuple[int, dict, str]:  # noqa: ANN001
        query = parse_qs(urlsplit(request.url).query)
        if query["url"] != [POST]:
            return 200, {}, "[]"
        rows = [["com,ring,blog)/2021/01/20/x", t, POST, "text/html", "200", f"D{t}", "9"] for t in pages]
        return 200, {}, json.dumps([HEADER, *rows])

    responses.add(responses.GET, f"{ARCHIVE}/robots.txt", status=404)
    responses.add_callback(responses.GET, re.compile(rf"{ARCHIVE}/cdx/search/cdx\?.*"), callback=cdx)
    for stamp_, body in pages.items():
        responses.add(responses.GET, f"{ARCHIVE}/web/{stamp_}id_/{POST}", body=body, content_type="text/html")
    conf = tmp_path / "t.toml"
    conf.write_text(config.read_text() + f'\n[sources.transparency]\nreport_urls = ["{POST}"]\nindex_urls = []\n',
                    encoding="utf-8")
    db = tmp_path / "r.duckdb"
    result = run_cli("backfill", "--since", "2020Q4", "--until", "2021Q2", "--source", "transparency",
                     "--db", str(db), "--config", str(conf))
    assert result.exit_code == 0, result.output
    assert "2 filled, 0 skipped, 0 kept nearer, 1 missing" in result.output
    assert query(db, "SELECT value, strftime(observed_at, '%Y-%m-%d') FROM le_request_counts "
                     "WHERE request_type = 'subpoenas' AND outcome = 'received' ORDER BY observed_at") == [
        (1045, "2021-01-25"), (1050, "2021-07-05")]
    assert query(db, "SELECT url FROM transparency_reports") == [(POST,)]  # the page, not the archive copy

    # The same backfill through the Prefect flow (as a deployment runs it) publishes its progress.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from ringwatch.flows.orchestration.backfill import backfill as backfill_flow

    outcomes = backfill_flow(since="2020Q4", until="2021Q2", source="transparency", db_path=str(db),
                             config_path=str(conf))
    assert [o.quarter for o in outcomes] == ["2020Q4", "2021Q1", "2021Q2"]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["backfill-progress"])))
    assert artifacts and max(a.data for a in artifacts) == 100.0


@pytest.mark.prefect
def test_backfill_flow_loads_from_its_entrypoint_with_its_parameters() -> None:
    from prefect.flows import load_flow_from_entrypoint

    loaded = load_flow_from_entrypoint("flows/orchestration/backfill.py:backfill")
    assert loaded.name == "backfill"
    properties = loaded.parameters.properties
    assert {"since", "until", "source", "dry_run"} <= set(properties)
    assert loaded.parameters.required == ["since", "until"]


@responses.activate
def test_backfill_exits_1_when_a_quarter_failed_and_0_when_the_archive_only_has_gaps(
        tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.BROKEN", {"20200610120000", "20200701060000"})  # all of 2020Q2's captures
    archive = FakeArchive()
    archive.install()
    db = tmp_path / "r.duckdb"
    common = ["--source", "agency_map", "--db", str(db), "--config", str(config)]
    failed = CliRunner().invoke(cli, ["backfill", "--since", "2020Q2", "--until", "2020Q3", *common])
    assert failed.exit_code == 1, failed.output
    assert re.search(r"2020Q2\s+failed\s+2 capture\(s\) within 45 days could not be used", failed.output)
    assert re.search(r"2020Q3\s+missing\s+no capture within 45 days", failed.output)
    assert "0 filled, 0 skipped, 0 kept nearer, 1 missing, 1 failed" in failed.output
    gaps_only = CliRunner().invoke(cli, ["backfill", "--since", "2020Q3", "--until", "2020Q3", *common])
    assert gaps_only.exit_code == 0, gaps_only.output
    assert "0 filled, 0 skipped, 0 kept nearer, 1 missing, 0 failed" in gaps_only.output
