"""Fetch on one worker, load on the writer (flows/core/fetching.py), in-process: the fetching side
has only the network and the capture store (its database path does not even exist), and the
writer loads what its fetch list names. The same sync through Prefect and real workers is in
tests/integration."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bench.synthetic_map import synthetic_map_kml
from ringwatch.flows.core.backfill import backfill
from ringwatch.flows.core.fetching import (
    FetchedPages,
    by_url,
    fetch_archive_to_store,
    fetch_list,
    fetch_to_store,
    read_fetch_list,
    take_fetch_list,
    validators_of,
)
from ringwatch.flows.core.settings import Settings, load_settings
from ringwatch.flows.core.sync import sync

# Prefect is imported here, at collection: imported inside a test, its logging set-up would take
# caplog's handler off the root logger.
from ringwatch.flows.orchestration import backfill as flow_module
from ringwatch.flows.orchestration.fetch import FetchOn
from ringwatch.scrapers.errors import FetchError, SettingsError, WarehouseError
from ringwatch.scrapers.http import PoliteClient
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.sources import Source
from ringwatch.warehouse.captures import open_capture_store
from tests.conftest import FAST_CONFIG, MAP_URL, read_fixture
from tests.fake_site import FakeSite, Request, running
from tests.fake_wayback import fake_wayback

MAP_PATH = "/maps/d/kml?mid=1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB&forcekml=1"
REPORT_PATH = "/law-enforcement-information-requests"
REPORT = "transparency/layouts/list_items_h2_2021.html"
ETAG = '"map-v1"'


def site_with_etag(report_status: int = 200) -> FakeSite:
    """The map answers with an ETag and honours If-None-Match, as Google's export does."""
    site = FakeSite()
    body = synthetic_map_kml(25, seed=5)

    def the_map(r: Request) -> None:
        if r.handler.headers.get("If-None-Match") == ETAG:
            r.send(304, b"", headers={"ETag": ETAG})
        else:
            r.send(200, body, content_type="application/vnd.google-earth.kml+xml", headers={"ETag": ETAG})

    site.routes[MAP_PATH] = the_map
    site.serve(REPORT_PATH, read_fixture(REPORT) if report_status == 200 else b"gone", status=report_status,
               content_type="text/html")
    return site


def config(tmp_path: Path, site: FakeSite) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(FAST_CONFIG.replace(MAP_URL, site.url(MAP_PATH))
                    + f'\n[sources.transparency]\nreport_urls = ["{site.url(REPORT_PATH)}"]\nindex_urls = []\n',
                    encoding="utf-8")
    return path


class Elsewhere:
    """What a fetch worker and the writer do between them, minus Prefect: the worker fetches
    into the shared store, the writer reads the list back."""

    def __init__(self, worker: Settings, writer: Settings) -> None:
        self.worker, self.writer, self.lists = worker, writer, 0

    def __call__(self, source: Source, previous: dict[str, Capture]) -> FetchedPages:
        name = uuid.uuid4().hex
        fetch_to_store(self.worker, [source], {source.value: validators_of(previous)}, name,
                       PoliteClient(self.worker.http))
        self.lists += 1
        pages = take_fetch_list(self.writer, name)[source]
        if isinstance(pages, str):
            raise FetchError(pages, url=source.value)
        return pages


def content(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            "snapshots": con.execute("SELECT source, quarter, rows_loaded FROM snapshots ORDER BY ALL").fetchall(),
            "agency_snapshots": con.execute(
                "SELECT * EXCLUDE (capture_id, observed_at) FROM agency_snapshots ORDER BY ALL").fetchall(),
            "figures": con.execute("SELECT * EXCLUDE (report_id, capture_id, observed_at) FROM le_request_counts "
                                   "ORDER BY ALL").fetchall(),
            "captures": con.execute("SELECT source, url, http_status, sha256, etag, complete FROM captures "
                                    "ORDER BY ALL").fetchall(),
            "runs": con.execute("SELECT source, status FROM sync_runs ORDER BY ALL").fetchall(),
        }
    finally:
        con.close()


def settings_pair(tmp_path: Path, site: FakeSite) -> tuple[Settings, Settings, Settings]:
    """Writer (shared store), fetch worker (same store, a database path that does not exist),
    and a plain writer that fetches itself (its own store), for comparison."""
    store = str(tmp_path / "shared-store")
    writer = replace(load_settings(config(tmp_path, site), db_path=tmp_path / "writer" / "rw.duckdb"), captures=store)
    worker = replace(writer, db_path=tmp_path / "no-such-folder" / "rw.duckdb")
    alone = load_settings(config(tmp_path, site), db_path=tmp_path / "alone" / "rw.duckdb")
    for s in (writer, alone):
        s.db_path.parent.mkdir()
    return writer, worker, alone


def test_a_sync_fetched_elsewhere_loads_what_one_fetching_itself_loads(tmp_path: Path) -> None:
    with running(site_with_etag()) as site:
        writer, worker, alone = settings_pair(tmp_path, site)
        elsewhere = Elsewhere(worker, writer)
        for _ in range(2):  # the second map fetch is conditional: a 304 whose body the worker reads back
            assert not sync(writer, fetch_elsewhere=elsewhere).failed
            assert not sync(alone).failed
    assert elsewhere.lists == 4
    assert content(writer.db_path) == content(alone.db_path)
    statuses = [row[2] for row in content(writer.db_path)["captures"] if row[0] == "agency_map"]
    assert sorted(statuses) == [200, 304]
    assert not worker.db_path.parent.exists()  # the fetching side never touched a warehouse
    lists = list((tmp_path / "shared-store" / "fetches").glob("*.json"))
    assert len(lists) == 4


def test_a_source_that_failed_elsewhere_fails_alone_with_the_workers_reason(tmp_path: Path) -> None:
    with running(site_with_etag(report_status=404)) as site:
        writer, worker, _ = settings_pair(tmp_path, site)
        result = sync(writer, fetch_elsewhere=Elsewhere(worker, writer))
    by_source = {r.source: r for r in result.results}
    assert not by_source[Source.AGENCY_MAP].failed
    failed = by_source[Source.TRANSPARENCY]
    assert failed.failed and "404" in failed.detail and REPORT_PATH in failed.detail
    assert ("transparency", "failed") in content(writer.db_path)["runs"]


def test_the_worker_writes_each_sources_error_and_goes_on(tmp_path: Path) -> None:
    with running(site_with_etag(report_status=404)) as site:
        _, worker, _ = settings_pair(tmp_path, site)
        name = uuid.uuid4().hex
        fetch_to_store(worker, [Source.TRANSPARENCY, Source.AGENCY_MAP], {}, name, PoliteClient(worker.http))
    listed = json.loads((tmp_path / "shared-store" / "fetches" / f"{name}.json").read_bytes())
    assert "404" in listed["sources"]["transparency"]["error"]
    assert [c["http_status"] for c in listed["sources"]["agency_map"]["captures"]] == [200]


def a_list(tmp_path: Path) -> tuple[Any, bytes]:
    store = open_capture_store(str(tmp_path / "store"), tmp_path / "rw.duckdb")
    capture = Capture(source="agency_map", url="https://example.org/map.kml", fetched_at=datetime(2024, 5, 1),
                      http_status=200, content_type="text/xml", body=b"<kml/>")
    store.put(capture)
    return store, fetch_list({Source.AGENCY_MAP: FetchedPages(Source.AGENCY_MAP, (capture,))})


def test_a_fetch_list_round_trips_every_field(tmp_path: Path) -> None:
    store, data = a_list(tmp_path)
    pages = read_fetch_list(data, store, where="here")[Source.AGENCY_MAP]
    assert not isinstance(pages, str)
    assert [(c.url, c.body, c.sha256, c.http_status, c.content_type) for c in pages.captures] == [
        ("https://example.org/map.kml", b"<kml/>", hashlib.sha256(b"<kml/>").hexdigest(), 200,
         "text/xml")]


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: {**d, "format": "something-else/9"}, "cannot be read: format 'something-else/9'"),
    (lambda d: {**d, "sources": {"agency_map": {"captures": [{"url": "x"}]}}}, "cannot be read"),
    (lambda d: {**d, "sources": {"mystery": {"captures": []}}}, "cannot be read"),
    (lambda d: {**d, "sources": {"transparency": {"captures": [], "report_urls": ["https://r/1"],
                                                  "discovered": []}}}, "report pages it did not fetch"),
])
def test_a_fetch_list_that_is_not_what_was_written_is_refused(tmp_path: Path, change: Any, says: str) -> None:
    store, data = a_list(tmp_path)
    with pytest.raises(WarehouseError, match="the fetch list here") as caught:
        read_fetch_list(json.dumps(change(json.loads(data))).encode(), store, where="here")
    assert says in str(caught.value)


def test_a_fetch_list_whose_bytes_are_gone_is_refused(tmp_path: Path) -> None:
    store, data = a_list(tmp_path)
    for blob in (tmp_path / "store").rglob("*"):
        if blob.is_file():
            blob.unlink()
    with pytest.raises(WarehouseError, match="missing"):
        read_fetch_list(data, store, where="here")


def test_a_missing_fetch_list_says_the_stores_must_be_shared(tmp_path: Path) -> None:
    store = open_capture_store(str(tmp_path / "store"), tmp_path / "rw.duckdb")
    with pytest.raises(WarehouseError, match="must share"):
        store.get_fetch_list(uuid.uuid4().hex)
    with pytest.raises(WarehouseError, match="not the name of a fetch list"):
        store.get_fetch_list("../../etc/passwd")


def test_fetch_lists_on_s3(s3: tuple[Any, str]) -> None:
    _, bucket = s3
    store = open_capture_store(f"s3://{bucket}/captures", "rw.duckdb")
    name = uuid.uuid4().hex
    assert store.put_fetch_list(name, b'{"format": 1}') == f"s3://{bucket}/captures/fetches/{name}.json"
    assert store.get_fetch_list(name) == b'{"format": 1}'
    with pytest.raises(WarehouseError, match="must share"):
        store.get_fetch_list(uuid.uuid4().hex)


def test_the_fetch_deployment_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RINGWATCH_FETCH_DEPLOYMENT", "fetch/fetch-anywhere")
    assert load_settings().flow.fetch_deployment == "fetch/fetch-anywhere"
    monkeypatch.setenv("RINGWATCH_FETCH_DEPLOYMENT", "fetch-anywhere")
    with pytest.raises(SettingsError, match="RINGWATCH_FETCH_DEPLOYMENT = 'fetch-anywhere': name the deployment"):
        load_settings()
    monkeypatch.delenv("RINGWATCH_FETCH_DEPLOYMENT")
    assert load_settings().flow.fetch_deployment == ""


def test_stored_validators_are_read_without_the_writer_lock_or_left_out(tmp_path: Path) -> None:
    from ringwatch.flows.core.fetching import stored_validators
    from ringwatch.warehouse.db import Warehouse

    with running(site_with_etag()) as site:
        writer, _, _ = settings_pair(tmp_path, site)
        assert stored_validators(writer) == {}  # no warehouse yet: the fetch is unconditional
        assert not sync(writer, source="agency_map").failed
        held = stored_validators(writer)
        assert held["agency_map"][site.url(MAP_PATH)]["etag"] == ETAG
        with Warehouse.open(writer.db_path, captures=writer.captures):
            assert stored_validators(writer) == {}  # a writer has it open: no waiting, no validators


# --- a backfill's Wayback fetches, made by a fetch worker -----------------------------------------

MID = "1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB"
ARCHIVED = {"20200310120000": 30, "20200612120000": 33, "20200915120000": 35}


def wayback_settings(tmp_path: Path, site: FakeSite) -> tuple[Settings, Settings, Settings]:
    path = tmp_path / "settings.toml"
    path.write_text(FAST_CONFIG.replace(MAP_URL, site.url(f"/maps/d/kml?mid={MID}&forcekml=1"))
                    + f'\n[wayback]\nbase_url = "{site.base}"\nwindow_days = 45\n', encoding="utf-8")
    store = str(tmp_path / "shared-store")
    writer = replace(load_settings(path, db_path=tmp_path / "writer" / "rw.duckdb"), captures=store)
    worker = replace(writer, db_path=tmp_path / "no-such-folder" / "rw.duckdb")
    alone = load_settings(path, db_path=tmp_path / "alone" / "rw.duckdb")
    return writer, worker, alone


SINCE, UNTIL = Quarter.parse("2020Q1"), Quarter.parse("2020Q3")


def worker_fetched_archive(tmp_path: Path, site: FakeSite) -> tuple[Settings, Settings, Settings, dict[str, Capture]]:
    """The fetch worker's part of a 2020Q1-Q3 map backfill, read back by the writer: the settings
    of both sides (and of a writer that fetches itself), and the captures by URL."""
    fake_wayback(site, MID, ARCHIVED)
    writer, worker, alone = wayback_settings(tmp_path, site)
    name = uuid.uuid4().hex
    fetch_archive_to_store(worker, [Source.AGENCY_MAP], SINCE, UNTIL, name, PoliteClient(worker.http))
    return writer, worker, alone, by_url(take_fetch_list(writer, name))


def test_a_backfill_fetched_elsewhere_asks_the_archive_nothing_and_loads_the_same(tmp_path: Path) -> None:
    with running(FakeSite()) as site:
        writer, worker, alone, prefetched = worker_fetched_archive(tmp_path, site)
        asked_by_worker = sum(site.calls.values())
        filled = backfill(writer, since=SINCE, until=UNTIL, source="agency_map", prefetched=prefetched)
        asked_by_writer = sum(site.calls.values()) - asked_by_worker
        assert not any(o.failed for o in backfill(alone, since=SINCE, until=UNTIL, source="agency_map"))
    assert [o.status.value for o in filled] == ["filled", "filled", "filled"]
    assert len(prefetched) == 1 + len(ARCHIVED)  # the CDX answer and one capture per quarter
    assert asked_by_writer == 0  # everything came from the fetch worker, through the store
    assert not worker.db_path.parent.exists()
    mine, theirs = content(writer.db_path), content(alone.db_path)
    for table in ("snapshots", "agency_snapshots", "runs"):
        assert mine[table] == theirs[table], table


def test_what_the_fetch_worker_did_not_fetch_the_writer_fetches_itself(tmp_path: Path) -> None:
    with running(FakeSite()) as site:
        writer, _, _, everything = worker_fetched_archive(tmp_path, site)
        prefetched = {url: c for url, c in everything.items() if "20200612" not in url}
        before = dict(site.calls)
        filled = backfill(writer, since=SINCE, until=UNTIL, source="agency_map", prefetched=prefetched)
        asked = {path: n - before.get(path, 0) for path, n in site.calls.items()
                 if n > before.get(path, 0) and path != "/robots.txt"}
    assert [o.status.value for o in filled] == ["filled", "filled", "filled"]
    # Only the one capture left out of the list was fetched by the writer.
    assert list(asked.values()) == [1] and "/web/20200612120000id_/" in next(iter(asked))


# --- FetchOn: how the writer waits for a fetch run, and how it says it failed -------------------

class FakeRuns:
    """Prefect's run_deployment and read_flow_run for FetchOn, with a clock that moves a second
    per wait; `states` are what successive reads of the run see (the last one repeats)."""

    def __init__(self, states: list[Any], *, refuse: Exception | None = None) -> None:
        from prefect.client.schemas.objects import FlowRun

        self.flow_run, self.states, self.refuse = FlowRun, states, refuse
        self.now, self.started, self.reads = 0.0, 0, 0
        self.run = FlowRun(name="quiet-fox", flow_id=uuid.uuid4(), state=states[0])

    def start(self, deployment: str, **kwargs: Any) -> Any:
        if self.refuse is not None:
            raise self.refuse
        self.started += 1
        return self.run

    def read(self, run_id: Any) -> Any:
        state = self.states[min(self.reads, len(self.states) - 1)]
        self.reads += 1
        return self.run.model_copy(update={"state": state})

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def fetch_on(tmp_path: Path, runs: FakeRuns, *, patience: float = 1800) -> Any:
    settings = load_settings(db_path=tmp_path / "rw.duckdb")
    settings = replace(settings, flow=replace(settings.flow, patience_seconds=patience))
    return FetchOn(settings, "fetch/fetch-anywhere", [Source.AGENCY_MAP], start_run=runs.start, read_run=runs.read,
                   clock=lambda: runs.now, sleep=runs.sleep)


def test_a_fetch_deployment_that_cannot_be_started_fails_each_source_in_one_line(tmp_path: Path) -> None:
    from prefect.exceptions import ObjectNotFound

    runs = FakeRuns([None], refuse=ObjectNotFound(http_exc=Exception("Deployment not found")))
    elsewhere = fetch_on(tmp_path, runs)
    elsewhere.start({})  # the sync flow starts it before its sources: nothing is raised there
    with pytest.raises(FetchError, match="could not start a fetch run of the deployment fetch/fetch-anywhere"
                                         r".*ObjectNotFound.*Deploy it") as caught:
        elsewhere(Source.AGENCY_MAP, {})
    assert caught.value.url == "fetch/fetch-anywhere"


def test_a_fetch_run_no_worker_takes_ends_after_the_patience_and_says_so(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from prefect.states import Scheduled

    runs = FakeRuns([Scheduled()])
    with caplog.at_level(logging.INFO), pytest.raises(FetchError, match="still scheduled after 150 s .*is a worker"):
        fetch_on(tmp_path, runs, patience=150)(Source.AGENCY_MAP, {})
    said = [r.getMessage() for r in caplog.records if "still waiting for the fetch run quiet-fox" in r.getMessage()]
    assert len(said) == 2  # at 60 and 120 s


def test_a_fetch_run_that_failed_names_itself_and_its_reason(tmp_path: Path) -> None:
    from prefect.states import Failed, Running, Scheduled

    runs = FakeRuns([Scheduled(), Running(), Failed(message="robots.txt unreachable")])
    with pytest.raises(FetchError, match="the fetch run quiet-fox .* ended failed: robots.txt unreachable"):
        fetch_on(tmp_path, runs)(Source.AGENCY_MAP, {})
    assert runs.started == 1 and runs.reads == 3


def test_a_backfill_whose_fetch_run_failed_fetches_here_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    import logging

    def failed(self: Any) -> Any:
        raise FetchError("the fetch run quiet-fox of fetch/fetch-anywhere ended crashed: worker lost.",
                         url="fetch/fetch-anywhere")

    monkeypatch.setattr(FetchOn, "everything", failed)
    with caplog.at_level(logging.WARNING):
        prefetched = flow_module.fetched_elsewhere(load_settings(db_path=tmp_path / "rw.duckdb"), "2020Q1", "2020Q2",
                                                   [Source.AGENCY_MAP])
    assert prefetched == {}  # the writer's backfill then asks the archive itself
    assert any("ended crashed: worker lost. Fetching the backfill here instead." in r.getMessage()
               for r in caplog.records)
