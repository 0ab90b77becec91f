"""ringwatch as a service: a Prefect server on PostgreSQL, process workers that come and go,
captures in an S3 bucket (moto's server), one warehouse, all started for real on this machine.

The scenario, run once for the module and timed part by part:
1. a warehouse seeded with one quarter (in-process), and the same seed in a reference warehouse;
2. a sync on worker A pauses inside its load's transaction (a hook this test injects through
   PYTHONPATH for that run alone: production code reads no test switch), and worker A is killed
   with SIGKILL, its flow run with it;
3. two quarterly syncs and a backfill start at once on two new workers: C writes, and hands the
   syncs' fetching to B (the fetch pool), which has no warehouse at all and runs in a network
   namespace of its own where this machine allows it; all of them wait for the writer slot
   until the dead run's lease lapses;
4. the same loads run in-process into the reference warehouse, for comparison.
The tests below read what the scenario recorded. It is left out of the everyday suite by its
marker; .ci/run runs it after the suite (`pytest -m integration`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bench.synthetic_map import synthetic_map_kml
from tests.conftest import FAST_CONFIG, MAP_URL, read_fixture
from tests.fake_site import FakeSite, running
from tests.fake_wayback import fake_wayback
from tests.integration import cluster

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
POOL = "ringwatch"
FETCH_POOL = "ringwatch-fetch"
FETCH_DEPLOYMENT = "fetch/fetch-anywhere"
BUCKET = "ringwatch-it"
MID = "1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB"
SEED_QUARTER = "2024Q1"
BACKFILL = ("2020Q1", "2020Q2")
# Archived map captures the fake Wayback Machine holds (timestamp -> placemarks): one per quarter.
ARCHIVED = {"20200310120000": 30, "20200612120000": 33}
REPORT = "transparency/layouts/list_items_h2_2021.html"

# Injected into the victim's flow run only (PYTHONPATH): the map load says where it is and
# waits inside its transaction until it is killed.
PAUSING_HOOK = '''
import os, time
from pathlib import Path
import ringwatch.flows.core.ingest as ingest

_load = ingest.load_agency_snapshot

def _pausing(*args, **kwargs):
    def pause():
        Path(os.environ["RINGWATCH_IT_MARKER"]).write_text(str(os.getpid()))
        time.sleep(600)
    kwargs["before_commit"] = pause
    return _load(*args, **kwargs)

ingest.load_agency_snapshot = _pausing
'''


@dataclass
class Scenario:
    timings: dict[str, float] = field(default_factory=dict)
    runs: dict[str, Any] = field(default_factory=dict)  # name -> final flow run
    windows: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    logs: dict[str, list[str]] = field(default_factory=dict)
    killed_at: datetime | None = None
    slot_taken_after_kill: int | None = None
    slot_freed_at: datetime | None = None
    after_kill: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    before_victim: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    warehouse: Path | None = None
    reference: Path | None = None
    bucket_keys: set[str] = field(default_factory=set)
    namespace: str = ""  # why there is no namespace part, or ""
    fetch_runs: list[tuple[Any, str]] = field(default_factory=list)  # every fetch flow run, its state
    fetched_on_b: list[Any] = field(default_factory=list)  # those worker B ran
    final_slots: int | None = None


class Clock:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario, self.started = scenario, time.monotonic()

    def part(self, name: str) -> Any:
        clock = self

        class Part:
            def __enter__(self) -> None:
                self.t = time.monotonic()

            def __exit__(self, *exc: object) -> None:
                clock.scenario.timings[name] = time.monotonic() - self.t
        return Part()


def site_for(host: str) -> FakeSite:
    site = FakeSite(host=host, max_seconds=300)  # the scenario waits out a 60 s lease
    site.serve(f"/maps/d/kml?mid={MID}&forcekml=1", synthetic_map_kml(40, seed=3),
               content_type="application/vnd.google-earth.kml+xml")
    site.serve("/law-enforcement-information-requests", read_fixture(REPORT), content_type="text/html")
    fake_wayback(site, MID, ARCHIVED)
    return site


def config_text(site: FakeSite) -> str:
    return (FAST_CONFIG.replace(MAP_URL, site.url(f"/maps/d/kml?mid={MID}&forcekml=1"))
            + f'\n[wayback]\nbase_url = "{site.base}"\nwindow_days = 45\n'
            + f'\n[sources.transparency]\nreport_urls = ["{site.url("/law-enforcement-information-requests")}"]\n'
            + "index_urls = []\n")


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read-only; a lock still held by a process being killed is waited for (up to 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            break
        except duckdb.IOException as e:
            if "Conflicting lock" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# What two warehouses loaded the same way must share, whatever the order and the capture store.
CONTENT = {  # a live capture's time is its own run's: only its quarter and bytes must agree
    "snapshots": "SELECT source, quarter, origin, rows_loaded, CASE WHEN origin = 'live' THEN NULL "
                 "ELSE observed_at END FROM snapshots ORDER BY ALL",
    "agency_snapshots": "SELECT * EXCLUDE (capture_id, observed_at) FROM agency_snapshots ORDER BY ALL",
    "agencies": "SELECT * FROM agencies ORDER BY ALL",
    "le_request_counts": "SELECT * EXCLUDE (report_id, capture_id, observed_at) FROM le_request_counts ORDER BY ALL",
    "captures": "SELECT source, url, sha256, http_status, origin, complete FROM captures ORDER BY ALL",
}


def content(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {name: rows(db, sql) for name, sql in CONTENT.items()}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    reason = cluster.can_run_postgres()
    if reason:
        pytest.skip(reason)
    moto_server = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    base = tmp_path_factory.mktemp("service")
    done = Scenario()
    clock = Clock(done)
    processes: list[cluster.Process] = []
    closing = 0.0
    try:
        with contextlib.ExitStack() as stack:
            with clock.part("namespace, server started, fake sites, S3, PostgreSQL (initdb, start)"):
                ns = stack.enter_context(cluster.namespace())
                mp = stack.enter_context(pytest.MonkeyPatch.context())
                host = ns.host_ip if isinstance(ns, cluster.Namespace) else "127.0.0.1"
                done.namespace = "" if isinstance(ns, cluster.Namespace) else str(ns)
                # The Prefect server starts first: it imports while the rest starts, and goes on
                # once its database exists.
                pg_port, api_port = cluster.free_port(), cluster.free_port(host)
                api, ready = f"http://{host}:{api_port}/api", base / "database-ready"
                plain = {k: v for k, v in os.environ.items()
                         if not k.startswith(("PREFECT_", "RINGWATCH_", "PYTEST"))}
                server = cluster.prefect_server(
                    host=host, port=api_port, database_url=cluster.database_url(pg_port),
                    home=base / "server-home", env=plain, log=base / "server.log", database_ready=ready)
                processes.append(server)
                site = stack.enter_context(running(site_for(host)))
                moto = moto_server.ThreadedMotoServer(ip_address=host, port=0, verbose=False)
                moto.start()
                stack.callback(moto.stop)
                stack.enter_context(cluster.postgres(port=pg_port))
                ready.touch()
            try:
                yield from _run(done, clock, base, host, ns, site, moto, (api, server), mp, s3fs, processes)
            finally:
                with clock.part("teardown: workers and Prefect server stopped"):
                    cluster.stop_all(processes)
                closing = time.monotonic()
    finally:
        if closing:
            done.timings["teardown: S3 server, PostgreSQL, namespace"] = time.monotonic() - closing
        done.timings["whole test, setup to teardown"] = time.monotonic() - clock.started
        say(request, summary(done))


def summary(done: Scenario) -> list[str]:
    lines = ["", "integration scenario, seconds per part:"]
    lines += [f"  {name:<58} {seconds:6.1f}" for name, seconds in done.timings.items()]
    if done.killed_at is not None:
        for name, windows in done.windows.items():
            spans = ", ".join(f"{(a - done.killed_at).total_seconds():.1f}-{(b - done.killed_at).total_seconds():.1f}"
                              for a, b in windows)
            lines.append(f"  write windows of {name}, seconds after the kill: {spans}")
    if done.namespace:
        lines.append(f"  network namespace part skipped: {done.namespace}")
    return lines


def say(request: pytest.FixtureRequest, lines: list[str]) -> None:
    """Straight to the terminal, passing or failing: the timings are part of what this test reports."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        for line in lines:
            reporter.write_line(line)


def _run(done: Scenario, clock: Clock, base: Path, host: str, ns: object, site: FakeSite, moto: Any,
         prefect: tuple[str, cluster.Process], mp: pytest.MonkeyPatch, s3fs: Any, processes: list[cluster.Process]
         ) -> Iterator[Scenario]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from ringwatch.flows.core.backfill import backfill
    from ringwatch.flows.core.settings import load_settings
    from ringwatch.flows.core.sync import sync, sync_agency_map
    from ringwatch.flows.orchestration.writer_slot import WRITER_LIMIT
    from ringwatch.scrapers.quarter import Quarter

    api, server = prefect
    endpoint = "http://{}:{}".format(*moto.get_host_and_port())
    aws = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(base / "no-aws-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(base / "no-aws-credentials"), "NO_PROXY": f"{host},127.0.0.1"}
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "PREFECT_API_URL", "RINGWATCH_CAPTURES", "RINGWATCH_DB"):
        mp.delenv(name, raising=False)
    for name, value in aws.items():
        mp.setenv(name, value)
    config = base / "settings.toml"
    config.write_text(config_text(site), encoding="utf-8")
    db, ref = base / "service" / "ringwatch.duckdb", base / "reference" / "ringwatch.duckdb"
    db.parent.mkdir()
    ref.parent.mkdir()
    done.warehouse, done.reference = db, ref
    captures = f"s3://{BUCKET}/captures"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RINGWATCH_", "PYTEST"))}
    env.update(aws)
    env.update({"PREFECT_API_URL": api, "RINGWATCH_CONFIG": str(config), "RINGWATCH_DB": str(db),
                "RINGWATCH_CAPTURES": captures, "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.5",
                "RINGWATCH_CACHE_DIR": ""})

    with clock.part("Prefect server up, on PostgreSQL"):
        workers = base / "workers"
        workers.mkdir()
        a = cluster.worker("a", pool=POOL, api=api, env=env, home=workers / "a", log=workers / "a.log")
        processes.append(a)
        with clock.part("meanwhile: bucket, seed; worker A imports"):
            fs = s3fs.S3FileSystem(skip_instance_cache=True, client_kwargs={"endpoint_url": endpoint})
            fs.mkdir(BUCKET)
            seed = base / "seed.kml"
            seed.write_bytes(synthetic_map_kml(36, seed=3))
            observed = datetime(2024, 2, 1, tzinfo=UTC)

            def seed_into(path: Path, store: str) -> None:
                settings = replace(load_settings(config, db_path=path), captures=store)
                sync_agency_map(settings, from_file=str(seed), observed_at=observed,
                                quarter=Quarter.parse(SEED_QUARTER))

            seed_into(db, captures)
            done.before_victim = content(db)
        cluster.wait_healthy(api, server)

    with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        with clock.part("work pool, deployments from prefect.yaml"):
            deploy(client)
            hook = base / "hook"
            hook.mkdir()
            (hook / "sitecustomize.py").write_text(PAUSING_HOOK, encoding="utf-8")
            marker = base / "victim-in-transaction"
        with clock.part("victim sync on worker A reaches its load's transaction"):
            victim = run_deployment("sync/sync-now", parameters={"source": "agency_map"}, timeout=0,
                                    job_variables={"env": {"PYTHONPATH": str(hook),
                                                           "RINGWATCH_IT_MARKER": str(marker)}})
            wait_for(lambda: marker.exists(), 60, lambda: f"the victim never reached its load:\n{a.output()[-3000:]}")
        with clock.part("worker A and its flow run killed (SIGKILL), until gone"):
            a.kill()
            victim_pid = int(marker.read_text())
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim_pid, 9)  # when the worker started it in a session of its own
            wait_for(lambda: gone(victim_pid), 30, lambda: f"the victim (pid {victim_pid}) outlived SIGKILL")
        done.killed_at = datetime.now(UTC)
        done.slot_taken_after_kill = int(client.read_global_concurrency_limit_by_name(WRITER_LIMIT).active_slots)
        done.after_kill = content(db)

        with clock.part("two syncs + backfill, on workers B and C, until all end"):
            # B fetches only: the network and the bucket, a warehouse path that does not exist.
            b = cluster.worker("b", pool=FETCH_POOL, api=api, env={**env, "RINGWATCH_DB": "/nonexistent/rw.duckdb"},
                               home=workers / "b", log=workers / "b.log",
                               netns=ns.name if isinstance(ns, cluster.Namespace) else None)
            processes.append(b)
            # C writes: the runs it takes have their pages fetched on B's pool.
            c = cluster.worker("c", pool=POOL, api=api, env={**env, "RINGWATCH_FETCH_DEPLOYMENT": FETCH_DEPLOYMENT},
                               home=workers / "c", log=workers / "c.log")
            processes.append(c)
            started_runs = {
                # The quarterly run, and one started by hand meanwhile: the quarterly deployment
                # runs one at a time, so only the writer slot keeps these two apart.
                "sync 1": run_deployment("sync/quarterly-sync", timeout=0),
                "sync 2": run_deployment("sync/sync-now", timeout=0),
                "backfill": run_deployment("backfill/backfill", timeout=0,
                                           parameters={"since": BACKFILL[0], "until": BACKFILL[1],
                                                       "source": "agency_map"}),
            }
            # The same loads in-process, for comparison, while the runs wait out the dead run's lease.
            with clock.part("  meanwhile: the in-process reference run"):
                seed_into(ref, "")
                reference = replace(load_settings(config, db_path=ref), captures="")
                assert not sync(reference).failed
                assert not sync(reference).failed
                assert not any(o.failed for o in backfill(reference, since=Quarter.parse(BACKFILL[0]),
                                                          until=Quarter.parse(BACKFILL[1]), source="agency_map"))
            final = {name: wait_final(client, run.id, 150) for name, run in started_runs.items()}
        done.fetch_runs = [(run.id, run.state_type.value) for run in client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["fetch"])))]
        done.fetched_on_b = [run_id for run_id, _ in done.fetch_runs if str(run_id) in b.output()]
        done.runs = {**final, "victim": client.read_flow_run(victim.id)}
        for name, run in final.items():
            own = final_logs(client, run.id)
            done.logs[name] = [log.message for log in own]
            got = [log.timestamp for log in own if log.message.startswith("got the warehouse writer slot")]
            released = [log.timestamp for log in own if log.message.startswith("released the warehouse writer slot")]
            done.windows[name] = list(zip(got, released, strict=False))
        # The dead run's lease lapsed when the first waiting run got the slot.
        starts = [start for windows in done.windows.values() for start, _ in windows]
        if starts and done.killed_at is not None:
            done.slot_freed_at = min(starts)
            lapse = (done.slot_freed_at - done.killed_at).total_seconds()
            part = "two syncs + backfill, on workers B and C, until all end"
            done.timings["  of which: until the dead run's lease lapsed"] = lapse
            done.timings["  of which: the writes after it"] = done.timings[part] - lapse
        done.final_slots = int(client.read_global_concurrency_limit_by_name(WRITER_LIMIT).active_slots)
    done.bucket_keys = {Path(p).name for p in fs.find(f"{BUCKET}/captures")}
    done.timings["scenario, until the tests read it"] = time.monotonic() - clock.started
    yield done


def deploy(client: Any) -> None:
    """The process pools and their deployments as prefect.yaml declares them (entrypoint,
    parameters, concurrency), created through the API (the `prefect deploy` command would add
    seconds of start-up); plus sync-now, the same flow with no deployment limit, as a sync
    started by hand is (`ringwatch sync` with a Prefect API runs the flow with no deployment):
    the killed run, and the second sync."""
    import yaml
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy, ConcurrencyOptions

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    pull = [{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]
    mine = [d for d in spec["deployments"] if d["work_pool"]["name"] in (POOL, FETCH_POOL)]
    assert {d["name"] for d in mine} == {"quarterly-sync", "backfill", "fetch-anywhere"}
    for pool in (POOL, FETCH_POOL):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"), overwrite=True)
    for d in mine:
        flow_name = d["entrypoint"].rsplit(":", 1)[1]
        flow_id = client.create_flow_from_name(flow_name)
        limit = d.get("concurrency_limit") or {}
        client.create_deployment(
            flow_id=flow_id, name=d["name"], work_pool_name=d["work_pool"]["name"], entrypoint=d["entrypoint"],
            pull_steps=pull, parameters=d.get("parameters") or {}, tags=d.get("tags"),
            concurrency_limit=limit.get("limit"),
            concurrency_options=ConcurrencyOptions(collision_strategy=ConcurrencyLimitStrategy(
                limit["collision_strategy"])) if limit else None)
        if flow_name == "sync":
            client.create_deployment(flow_id=flow_id, name="sync-now", work_pool_name=POOL,
                                     entrypoint=d["entrypoint"], pull_steps=pull, parameters={})


def gone(pid: int) -> bool:
    """Exited (a zombie holds no locks: its parent, the killed worker, is not there to reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def all_logs(client: Any, run_id: Any) -> list[Any]:
    """Every log line of one flow run, oldest first (the API answers 200 at a time)."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    found: list[Any] = []
    while True:
        page = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])),
                                limit=200, offset=len(found), sort=LogSort.TIMESTAMP_ASC)
        found += page
        if len(page) < 200:
            return found


def final_logs(client: Any, run_id: Any, seconds: float = 15) -> list[Any]:
    """A finished run's whole log. Its process sends the last lines in a batch after the run's
    state is final, so read until the engine's closing line ("Finished in state ...") is there."""
    deadline = time.monotonic() + seconds
    while True:
        logs = all_logs(client, run_id)
        if any(log.message.startswith("Finished in state") for log in logs) or time.monotonic() > deadline:
            return logs
        time.sleep(0.2)


def wait_for(condition: Any, seconds: float, say: Any) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(say())


def wait_final(client: Any, run_id: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = client.read_flow_run(run_id)
        if run.state is not None and run.state.is_final():
            return run
        time.sleep(0.5)
    raise AssertionError(f"flow run {run_id} did not end within {seconds} s: {client.read_flow_run(run_id).state}")


# --- what the scenario must show -------------------------------------------------------------------

def test_every_run_started_at_once_completes(scenario: Scenario) -> None:
    for name in ("sync 1", "sync 2", "backfill"):
        state = scenario.runs[name].state
        assert state.type.value == "COMPLETED", (name, state, scenario.logs.get(name))


def test_write_windows_never_overlap_and_each_run_wrote(scenario: Scenario) -> None:
    windows = sorted(w for name in ("sync 1", "sync 2", "backfill") for w in scenario.windows[name])
    for name in ("sync 1", "sync 2", "backfill"):
        assert scenario.windows[name], (name, scenario.logs[name])
        assert all(start <= end for start, end in scenario.windows[name])
    # sync: the map and the report; backfill: one write per quarter; the windows strictly follow each other.
    assert len(windows) >= 2 + 2 + len(BACKFILL)
    for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
        assert end <= start, windows


def test_a_worker_killed_mid_write_keeps_nothing_partial_and_its_slot_lapses(scenario: Scenario) -> None:
    assert scenario.slot_taken_after_kill == 1  # the dead run still held the slot
    # Nothing of its quarter and the seed intact; its raw capture alone is kept, for a re-parse.
    tables = set(CONTENT) - {"captures"}
    assert {t: scenario.after_kill[t] for t in tables} == {t: scenario.before_victim[t] for t in tables}
    kept = set(scenario.after_kill["captures"]) - set(scenario.before_victim["captures"])
    assert set(scenario.before_victim["captures"]) <= set(scenario.after_kill["captures"])
    assert [(source, origin, complete) for source, _, _, _, origin, complete in kept] == [("agency_map", "live", True)]
    assert scenario.killed_at is not None and scenario.slot_freed_at is not None
    # Nobody wrote until the lease ran out (60 s; the kill came seconds after the slot was taken),
    # and the waiting runs said they were waiting.
    assert (scenario.slot_freed_at - scenario.killed_at).total_seconds() > 30
    assert any("waiting for the warehouse writer slot" in line for name in ("sync 1", "backfill")
               for line in scenario.logs[name])
    assert scenario.final_slots == 0
    # The next writer closed the dead run's row.
    assert scenario.warehouse is not None
    dead = rows(scenario.warehouse, "SELECT status, error FROM sync_runs WHERE flow_run_id = ?"
                .replace("?", f"'{scenario.runs['victim'].id}'"))
    assert [(status, error.split(":")[0]) for status, error in dead] == [("failed", "interrupted")]


def test_every_capture_is_in_the_bucket(scenario: Scenario) -> None:
    assert scenario.warehouse is not None
    held = {sha for (sha,) in rows(scenario.warehouse, "SELECT sha256 FROM captures")}
    assert len(held) >= 4
    assert held <= scenario.bucket_keys, held - scenario.bucket_keys


def test_the_warehouse_equals_an_in_process_run(scenario: Scenario) -> None:
    assert scenario.warehouse is not None and scenario.reference is not None
    service, reference = content(scenario.warehouse), content(scenario.reference)
    assert service["snapshots"] and service["le_request_counts"]
    for name in set(CONTENT) - {"captures"}:
        assert service[name] == reference[name], name
    # The service also keeps the killed run's capture; the rest are the same captures.
    kept = Counter(scenario.after_kill["captures"]) - Counter(scenario.before_victim["captures"])
    assert Counter(service["captures"]) - kept == Counter(reference["captures"])
    assert sum(kept.values()) == 1


def test_every_run_fetched_on_the_fetch_worker_and_loaded_on_the_writer(scenario: Scenario) -> None:
    # One fetch run per sync and one for the backfill, all run by B (whose warehouse path does
    # not exist), all complete, their three fetch lists in the bucket.
    assert len(scenario.fetch_runs) == 3, scenario.fetch_runs
    assert [state for _, state in scenario.fetch_runs] == ["COMPLETED"] * 3
    assert sorted(map(str, scenario.fetched_on_b)) == sorted(str(run_id) for run_id, _ in scenario.fetch_runs)
    for name in ("sync 1", "sync 2", "backfill"):
        assert any(f"on a worker of the deployment {FETCH_DEPLOYMENT}" in line for line in scenario.logs[name])
    assert not any("fetching it here" in line for line in scenario.logs["backfill"])
    assert len([key for key in scenario.bucket_keys if key.endswith(".json")]) == 3


def test_a_worker_in_its_own_network_namespace_did_its_share(scenario: Scenario) -> None:
    if scenario.namespace:
        pytest.skip(scenario.namespace)
    # B ran in the namespace: it reached the server, the bucket and the sites over its own link.
    assert scenario.fetched_on_b
