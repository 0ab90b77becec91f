"""`ringwatch serve`: the quarterly schedule and the backfill deployment, in one process.

Two deployments: `quarterly-sync` (the `sync` flow on a cron schedule from [schedule] in the
config) and `backfill` (no schedule; since/until/source given per run, from the Prefect UI or
`prefect deployment run`). The serve loop runs one flow run at a time (limit=1), and each
deployment enqueues rather than overlaps (a concurrency limit of 1): together with the
writer lock on the database, no two runs ever write at once. Shutting the process down does
not pause the schedule, so it survives restarts.
"""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from ringwatch.flows.core.settings import Settings, check_schedule
from ringwatch.flows.orchestration.backfill import backfill
from ringwatch.flows.orchestration.sync import sync

SYNC_DEPLOYMENT = "quarterly-sync"
BACKFILL_DEPLOYMENT = "backfill"


def one_at_a_time() -> ConcurrencyLimitConfig:
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def build_deployments(settings: Settings, *, db_path: str | None = None,
                      config_path: str | None = None) -> list[Any]:
    """The two deployments, with the schedule and limits from the settings."""
    # load_settings has checked the schedule already; Settings built in code have not, and
    # Prefect's own check would end in a pydantic ValidationError that names no file or key.
    check_schedule(settings.schedule, file=settings.config_file)
    where: dict[str, Any] = {k: v for k, v in (("db_path", db_path), ("config_path", config_path)) if v}
    quarterly = sync.to_deployment(
        name=SYNC_DEPLOYMENT,
        schedules=[Cron(settings.schedule.cron, timezone=settings.schedule.timezone)],
        parameters={"source": "all", **where},
        concurrency_limit=one_at_a_time(),
        description="Quarterly snapshot of the Active Agency Map and the transparency reports. The quarter "
                    "comes from the scheduled time, so a late run still records the quarter it was due for.",
        tags=["ringwatch"],
    )
    archive = backfill.to_deployment(
        name=BACKFILL_DEPLOYMENT,
        parameters={"source": "all", **where},
        concurrency_limit=one_at_a_time(),
        description="Fill past quarters from the Wayback Machine: give since and until (YYYYQn).",
        tags=["ringwatch"],
    )
    return [quarterly, archive]


def serve_forever(settings: Settings, *, db_path: str | None, config_path: str | None) -> None:
    from prefect import serve

    serve(*build_deployments(settings, db_path=db_path, config_path=config_path),
          pause_on_shutdown=False, limit=1)
