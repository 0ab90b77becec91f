"""One runner per command: in this process, or through Prefect, chosen once.

The command line asks `choose_runner` once; every command is then one call on the runner,
whose result and failure look the same on both paths: a sync or backfill in which a source
or quarter failed returns its outcomes (the command prints them and exits 1), whether the
jobs ran here or as Prefect flows that raised SyncFailed or BackfillFailed. Prefect is
imported only by the Prefect runner, so the in-process path stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ringwatch.flows.core.events import Progress, ignore
from ringwatch.flows.core.settings import Settings
from ringwatch.scrapers.quarter import Quarter

if TYPE_CHECKING:  # the jobs themselves are imported when a command runs one
    from ringwatch.flows.core.atlas import ImportResult
    from ringwatch.flows.core.backfill import QuarterOutcome
    from ringwatch.flows.core.reparse import ReparseOutcome
    from ringwatch.flows.core.sync import SyncResult


class Runner(Protocol):
    """What every command runs its job through."""

    def sync(self, *, source: str, quarter: Quarter | None, force: bool, from_file: str | None,
             observed_at: datetime | None) -> SyncResult: ...

    def backfill(self, *, since: Quarter, until: Quarter, source: str, dry_run: bool, force: bool,
                 progress: Progress) -> list[QuarterOutcome]: ...

    def import_atlas(self, path: str, *, observed_at: datetime | None, force: bool) -> ImportResult: ...

    def reparse(self, *, source: str, quarter: Quarter | None, force: bool) -> list[ReparseOutcome]: ...


@dataclass(frozen=True, slots=True)
class InProcess:
    """The jobs, called here: no Prefect imported, no server started."""

    settings: Settings
    progress: Progress = ignore

    def sync(self, *, source: str, quarter: Quarter | None, force: bool, from_file: str | None,
             observed_at: datetime | None) -> SyncResult:
        from ringwatch.flows.core.sync import sync

        return sync(self.settings, source=source, quarter=quarter, force=force, from_file=from_file,
                    observed_at=observed_at, progress=self.progress)

    def backfill(self, *, since: Quarter, until: Quarter, source: str, dry_run: bool, force: bool,
                 progress: Progress) -> list[QuarterOutcome]:
        from ringwatch.flows.core.backfill import backfill

        return backfill(self.settings, since=since, until=until, source=source, dry_run=dry_run, force=force,
                        progress=progress)

    def import_atlas(self, path: str, *, observed_at: datetime | None, force: bool) -> ImportResult:
        from ringwatch.flows.core.atlas import import_atlas

        return import_atlas(self.settings, path, observed_at=observed_at, force=force)

    def reparse(self, *, source: str, quarter: Quarter | None, force: bool) -> list[ReparseOutcome]:
        from ringwatch.flows.core.reparse import reparse

        return reparse(self.settings, source=source, quarter=quarter, force=force, progress=self.progress)


@dataclass(frozen=True, slots=True)
class ThroughPrefect:
    """The same jobs as Prefect flows, so each run shows in the Prefect UI. Flows take text
    parameters (as the UI gives them), and read the settings themselves from the same files."""

    db_path: str | None
    config_path: str | None

    def sync(self, *, source: str, quarter: Quarter | None, force: bool, from_file: str | None,
             observed_at: datetime | None) -> SyncResult:
        from ringwatch.flows.orchestration.sync import SyncFailed, sync

        try:
            return sync(source=source, quarter=_text(quarter), force=force, from_file=from_file,
                        observed_at=observed_at, db_path=self.db_path, config_path=self.config_path)
        except SyncFailed as failed:
            return failed.result

    def backfill(self, *, since: Quarter, until: Quarter, source: str, dry_run: bool, force: bool,
                 progress: Progress) -> list[QuarterOutcome]:
        from ringwatch.flows.orchestration.backfill import BackfillFailed, backfill

        try:
            return backfill(since=str(since), until=str(until), source=source, dry_run=dry_run, force=force,
                            db_path=self.db_path, config_path=self.config_path)
        except BackfillFailed as failed:
            return failed.outcomes

    def import_atlas(self, path: str, *, observed_at: datetime | None, force: bool) -> ImportResult:
        from ringwatch.flows.orchestration.import_atlas import import_atlas

        return import_atlas(path=path, observed_at=observed_at, force=force, db_path=self.db_path,
                            config_path=self.config_path)

    def reparse(self, *, source: str, quarter: Quarter | None, force: bool) -> list[ReparseOutcome]:
        from ringwatch.flows.orchestration.reparse import reparse

        return reparse(source=source, quarter=_text(quarter), force=force, db_path=self.db_path,
                       config_path=self.config_path)


def choose_runner(settings: Settings, *, db_path: str | None, config_path: str | None, verbose: bool,
                  progress: Progress = ignore) -> Runner:
    """Prefect only when an API is configured (PREFECT_API_URL or the active Prefect profile),
    and then only if it answers (else one line naming it); otherwise this process."""
    from ringwatch.flows.orchestration.api import check_answers, configured_api

    url = configured_api()
    if not url:
        return InProcess(settings, progress)
    check_answers(url)
    _quiet_prefect(verbose)
    return ThroughPrefect(db_path, config_path)


def _text(quarter: Quarter | None) -> str | None:
    return None if quarter is None else str(quarter)


def _quiet_prefect(verbose: bool) -> None:
    """Keep the terminal to our own lines unless asked; the Prefect UI still gets the logs."""
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL", "CRITICAL")
