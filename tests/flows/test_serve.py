"""The served deployments, read back through the Prefect client, and a run triggered through
one of them: the quarter comes from the schedule, and what changed is published."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import responses

from bench.synthetic_map import synthetic_map_kml
from ringwatch.flows.core.settings import load_settings
from ringwatch.flows.orchestration.serve import build_deployments
from tests.conftest import FAST_CONFIG, MAP_URL, ROBOTS_URL, TARGET_URL, read_fixture

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_server")]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(FAST_CONFIG + '\n[schedule]\ncron = "0 7 2 1,4,7,10 *"\ntimezone = "America/New_York"\n'
                    '\n[sources.transparency]\nreport_urls = []\nindex_urls = []\n', encoding="utf-8")
    return path


def apply(config: Path, db: Path) -> dict[str, object]:
    from prefect.client.orchestration import get_client

    settings = load_settings(config)
    ids = {d.name: d.apply() for d in build_deployments(settings, db_path=str(db), config_path=str(config))}
    with get_client(sync_client=True) as client:
        return {name: client.read_deployment(deployment_id) for name, deployment_id in ids.items()}


def test_deployments_carry_the_configured_schedule_parameters_and_limit(tmp_path: Path, config: Path) -> None:
    deployments = apply(config, tmp_path / "r.duckdb")
    sync, backfill = deployments["quarterly-sync"], deployments["backfill"]
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in sync.schedules] == [
        ("0 7 2 1,4,7,10 *", "America/New_York", True)]
    assert sync.parameters == {"source": "all", "db_path": str(tmp_path / "r.duckdb"), "config_path": str(config)}
    assert backfill.schedules == []
    assert backfill.parameter_openapi_schema["required"] == ["since", "until"]
    for deployment in (sync, backfill):
        assert deployment.global_concurrency_limit is not None and deployment.global_concurrency_limit.limit == 1
        assert deployment.concurrency_options.collision_strategy.value == "ENQUEUE"
        assert deployment.paused is False


def test_the_default_schedule_is_quarterly_at_six_utc() -> None:
    settings = load_settings()
    assert (settings.schedule.cron, settings.schedule.timezone) == ("0 6 1 1,4,7,10 *", "UTC")


@responses.activate
def test_a_scheduled_run_records_its_quarter_and_publishes_what_changed(tmp_path: Path, config: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    from ringwatch.flows.orchestration.sync import sync

    db = tmp_path / "r.duckdb"
    seed = tmp_path / "seed.kml"
    seed.write_bytes(synthetic_map_kml(10, seed=1))
    sync(source="agency_map", from_file=str(seed), quarter="2024Q4", db_path=str(db), config_path=str(config))
    deployment = apply(config, db)["quarterly-sync"]
    responses.add(responses.GET, ROBOTS_URL, status=404)
    responses.add(responses.GET, MAP_URL, body=read_fixture("agency_map/wrapper_2024-01-15.kml"))
    responses.add(responses.GET, TARGET_URL, body=synthetic_map_kml(12, seed=1))  # 10 kept, 2 new
    due = datetime(2025, 4, 1, 6, tzinfo=UTC)  # the run is late: the clock says 2026
    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run_from_deployment(
            deployment.id, parameters={**deployment.parameters, "source": "agency_map"},
            state=Scheduled(scheduled_time=due))
    result = run_flow(sync, flow_run=flow_run, parameters={**deployment.parameters, "source": "agency_map"})
    assert [o.quarter for o in result.results] == ["2025Q1"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT quarter, rows_loaded FROM snapshots ORDER BY quarter").fetchall() == [
        ("2024Q4", 10), ("2025Q1", 12)]
    con.close()
    with get_client(sync_client=True) as client:
        keys = ArtifactFilterKey(any_=["quarterly-changes", "quarterly-changes-table"])
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=keys),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])))
    by_key = {a.key: a for a in artifacts}
    markdown = by_key["quarterly-changes"].data
    assert "What changed in 2025Q1" in markdown and "Joined since 2024Q4: **2**" in markdown
    assert "Left since 2024Q4: **0**" in markdown
    table = by_key["quarterly-changes-table"].data
    assert '"change": "joined"' in str(table).replace("'", '"') and str(table).count("joined") == 2


def test_prefect_yaml_matches_serve() -> None:
    import yaml
    from prefect.flows import load_flow_from_entrypoint

    root = Path(__file__).resolve().parents[2]
    spec = yaml.safe_load((root / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["name"]: d for d in spec["deployments"]}
    assert set(deployments) == {"quarterly-sync", "backfill", "quarterly-sync-docker", "backfill-docker",
                                "fetch-anywhere"}
    # The fetch flow, on a pool of its own, named as [flow] fetch_deployment expects it.
    fetcher = deployments["fetch-anywhere"]
    assert load_flow_from_entrypoint(fetcher["entrypoint"]).name == "fetch"
    assert fetcher["work_pool"]["name"] == "ringwatch-fetch"
    assert "fetch/fetch-anywhere" in (root / "config" / "settings.toml").read_text(encoding="utf-8")
    settings = load_settings()
    assert deployments["quarterly-sync"]["schedules"] == [
        {"cron": settings.schedule.cron, "timezone": settings.schedule.timezone, "active": True}]
    # The Docker pool's copy has the same schedule, off: one of the two pools runs it.
    assert deployments["quarterly-sync-docker"]["schedules"] == [
        {"cron": settings.schedule.cron, "timezone": settings.schedule.timezone, "active": False}]
    assert "schedules" not in deployments["backfill"] and "schedules" not in deployments["backfill-docker"]
    for name, flow_name in (("quarterly-sync", "sync"), ("backfill", "backfill")):
        deployment = deployments[name]
        assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
        assert load_flow_from_entrypoint(str(root / deployment["entrypoint"])).name == flow_name
        assert deployment["parameters"] == {"source": "all"}
        docker = deployments[f"{name}-docker"]
        assert docker["concurrency_limit"] == deployment["concurrency_limit"]
        assert docker["parameters"] == deployment["parameters"]
        assert load_flow_from_entrypoint(docker["entrypoint"]).name == flow_name  # the installed package
        assert docker["work_pool"]["name"] == "ringwatch-docker"
        jobs = docker["work_pool"]["job_variables"]
        assert jobs["image"] == "ringwatch:latest" and jobs["volumes"] == ["ringwatch-data:/data"]
        assert jobs["env"]["RINGWATCH_DB"].startswith("/data/")
