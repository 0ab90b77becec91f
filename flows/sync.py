"""The `sync` flow: one quarter's sync of every selected source.

Each source runs as its own subflow and is recorded on its own; one failing does not stop
the other, and the flow fails (and the CLI exits 1) if any did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.settings import load_settings
from flows.steps import publish_changes, scheduled_start
from flows.sync_agency_map import sync_agency_map
from flows.sync_transparency import sync_transparency
from scrapers.errors import ConfigError, RingwatchError

FLOWS = {"agency_map": sync_agency_map, "transparency": sync_transparency}
SOURCES = tuple(FLOWS)


class SyncFailed(RingwatchError):
    """At least one source failed; `outcomes` holds every source's result or error line, and
    `changes` what changed all the same."""

    def __init__(self, outcomes: list[dict[str, Any]], changes: str | None) -> None:
        failed = [o for o in outcomes if o["error"]]
        super().__init__("; ".join(o["error"] for o in failed))
        self.outcomes = outcomes
        self.changes = changes


def sources_for(source: str) -> tuple[str, ...]:
    if source == "all":
        return SOURCES
    if source not in FLOWS:
        raise ConfigError(f"unknown source {source!r}; choose one of: all, {', '.join(SOURCES)}.")
    return (source,)


@flow(name="sync")
def sync(
    source: str = "all",
    quarter: str | None = None,
    force: bool = False,
    from_file: str | None = None,
    observed_at: datetime | None = None,
    db_path: str | None = None,
    config_path: str | None = None,
) -> dict[str, Any]:
    """Sync the selected sources (default: all); return each one's summary or error, and what
    changed (also published as the `quarterly-changes` markdown and table artifacts)."""
    selected = sources_for(source)
    if from_file and len(selected) > 1:
        raise ConfigError("--from-file loads one source: add --source agency_map or --source transparency.")
    # A deployment's scheduled time decides the quarter; subflows cannot see it themselves.
    scheduled_at = scheduled_start()
    outcomes: list[dict[str, Any]] = []
    for name in selected:
        try:
            summary = FLOWS[name](quarter=quarter, force=force, from_file=from_file, observed_at=observed_at,
                                  db_path=db_path, config_path=config_path, scheduled_at=scheduled_at)
            outcomes.append({"source": name, "summary": summary, "error": None})
        except RingwatchError as exc:
            outcomes.append({"source": name, "summary": None, "error": str(exc)})
    loaded = [o["summary"]["quarter"] for o in outcomes if o["summary"] and o["source"] == "agency_map"]
    try:
        # Without a new agency-map snapshot, what changed is that of the latest quarter held.
        changes: str | None = publish_changes(load_settings(config_path, db_path=db_path),
                                              loaded[0] if loaded else None)
    except RingwatchError:
        changes = None  # nothing held yet to compare
    if any(o["error"] for o in outcomes):
        raise SyncFailed(outcomes, changes)
    return {"outcomes": outcomes, "changes": changes}
