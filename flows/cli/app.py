"""The `ringwatch` command: a thin skin over the flows and the warehouse.

Exit codes follow click: 0 success, 1 failure (a RingwatchError, printed as one line),
2 bad usage.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ringwatch.scrapers import __version__
from ringwatch.scrapers.errors import RingwatchError, SettingsError
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.sources import Source, source_choices

if TYPE_CHECKING:
    from ringwatch.flows.cli.runner import Runner

F = TypeVar("F", bound=Callable[..., Any])


class PathType(click.Path):
    """click.Path whose NUL byte is bad usage (exit 2), not the ValueError os.stat raises for it."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            self.fail(f"{value!r} contains a NUL byte, which no file name can; give another path.", param, ctx)
        return super().convert(value, param, ctx)


def _db_option(func: F) -> F:
    return click.option(
        "--db", "db_path", envvar="RINGWATCH_DB", type=PathType(dir_okay=False),
        help="DuckDB file [env RINGWATCH_DB; default from config: ./ringwatch.duckdb].",
    )(func)


def _config_option(func: F) -> F:
    return click.option(
        "--config", "config_path", envvar="RINGWATCH_CONFIG",
        type=PathType(dir_okay=False, exists=True),
        help="Settings file (TOML) [env RINGWATCH_CONFIG; default: the built-in one].",
    )(func)


def _reports_errors(func: F) -> F:
    """Turn our exception family into one clear line and exit code 1, and Ctrl-C or SIGTERM
    into one line and exit 130 or 143 (the job has recorded its attempt as interrupted)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ringwatch.flows.core.events import Terminated

        def terminate(signum: int, frame: object) -> None:
            raise Terminated()

        previous = signal.signal(signal.SIGTERM, terminate)
        try:
            return func(*args, **kwargs)
        except SettingsError as exc:
            click.echo(f"Error: {exc}", err=True)
            raise SystemExit(2) from None
        except RingwatchError as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt as exc:
            by, code = ("SIGTERM", 143) if isinstance(exc, Terminated) else ("Ctrl-C", 130)
            click.echo(f"Interrupted by {by}: stopped; an attempt under way is recorded as failed "
                       "(interrupted) and nothing partial was written.", err=True)
            raise SystemExit(code) from None
        except click.exceptions.ClickException:
            raise
        except Exception as exc:
            # Anything else (Prefect's API going away mid-run, a bug) is one line too; the
            # attempt, if one was under way, is recorded with the same reason.
            if os.environ.get("RINGWATCH_TRACEBACK"):
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            click.echo(f"Error: unexpected {type(exc).__name__}: {first} (set RINGWATCH_TRACEBACK=1 to see "
                       "where; please report it)", err=True)
            raise SystemExit(1) from None
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper  # type: ignore[return-value]


def _runner(db_path: str | None, config_path: str | None, verbose: bool) -> Runner:
    """The settings, then where the job runs: chosen once, here, for every command that runs one."""
    from ringwatch.flows.cli.runner import choose_runner
    from ringwatch.flows.core.settings import load_settings

    settings = load_settings(config_path, db_path=db_path)
    return choose_runner(settings, db_path=db_path, config_path=config_path, verbose=verbose,
                         progress=_show_progress)


def _show_progress(event: Any) -> None:
    """A job's retries and notes, one line each on stderr."""
    from ringwatch.flows.core.events import EventKind

    if event.kind is EventKind.RETRY:
        click.echo(f"retrying: {event.message}", err=True)


class QuarterType(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.5
    name = "YYYYQn"

    def convert(self, value: Any, param: Any, ctx: Any) -> Quarter:
        if isinstance(value, Quarter):
            return value
        try:
            return Quarter.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class MomentType(click.ParamType):  # type: ignore[type-arg]
    """A date or date-time; naive values are UTC."""

    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not a date like 2024-03-31 or 2024-03-31T12:00:00Z",
                      param, ctx)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ringwatch")
def cli() -> None:
    """Track Ring's police partnerships over time, in quarterly DuckDB snapshots.

    `ringwatch sync` takes this quarter's snapshot of the Active Agency Map;
    `ringwatch query` asks the database in SQL; `ringwatch status` tells what is held
    and what failed; `ringwatch report` draws the trends as an HTML page of charts.
    Every command takes --help.
    """


@cli.command()
@click.option("--source", type=click.Choice(source_choices()), default="all",
              show_default=True, help="Which source to sync; with 'all' a failing source does not stop the other.")
@click.option("--quarter", type=QuarterType(), default=None,
              help="Label the snapshot with this quarter instead of the one the quarter "
                   "rule gives (nearest quarter end to the observation).")
@click.option("--force", is_flag=True,
              help="Load even if the snapshot has less than half the rows of the previous "
                   "quarter (agency map) or of the report's last observation (the drop gate).")
@click.option("--from-file", "from_file", type=PathType(exists=True, dir_okay=False),
              help="Load a saved page instead of fetching (origin 'file'): a KML/KMZ with "
                   "--source agency_map, an HTML report with --source transparency.")
@click.option("--observed-at", type=MomentType(), default=None,
              help="With --from-file: when the file's content was observed "
                   "[default: the file's modification time].")
@click.option("--verbose", "-v", is_flag=True, help="Show Prefect's flow and task logs (when run through Prefect).")
@_db_option
@_config_option
@_reports_errors
def sync(source: str, quarter: Quarter | None, force: bool, from_file: str | None,
         observed_at: datetime | None, verbose: bool, db_path: str | None,
         config_path: str | None) -> None:
    """Fetch the sources, check them, and store this quarter's snapshot.

    Fetches politely (robots.txt, one request at a time, retries), keeps the raw bytes,
    parses, applies the quality gates and loads in one transaction per source. A failure
    leaves every earlier snapshot untouched, records the failed run and exits 1; with
    --source all (the default) the other source still runs.

    Runs in this process, with no Prefect server, unless a Prefect API is configured
    (PREFECT_API_URL or the active Prefect profile): then it runs as the `sync` flow, so it
    appears in the Prefect UI. Each retry prints a line; on a dead network it gives up after
    [http] patience_seconds (default 120). Ctrl-C stops it (exit 130; SIGTERM 143).
    """
    if observed_at and not from_file:
        raise click.UsageError("--observed-at goes with --from-file.")
    if from_file and source == "all":
        source = _source_of_file(from_file)
    runner = _runner(db_path, config_path, verbose)
    result = runner.sync(source=source, quarter=quarter, force=force, from_file=from_file, observed_at=observed_at)
    _print_sync(result)
    if result.failed:
        raise SystemExit(1)


@cli.command()
@click.option("--since", type=QuarterType(), required=True, help="First quarter to fill (inclusive).")
@click.option("--until", type=QuarterType(), required=True, help="Last quarter to fill (inclusive).")
@click.option("--source", type=click.Choice(source_choices()), default="all",
              show_default=True, help="Which source to backfill.")
@click.option("--dry-run", is_flag=True, help="Only print the plan: quarter -> archived capture, or why none.")
@click.option("--force", is_flag=True, help="Load archived snapshots even when the drop gate refuses them.")
@click.option("--verbose", "-v", is_flag=True, help="Show Prefect's flow and task logs (when run through Prefect).")
@_db_option
@_config_option
@_reports_errors
def backfill(since: Quarter, until: Quarter, source: str, dry_run: bool, force: bool, verbose: bool,
             db_path: str | None, config_path: str | None) -> None:
    """Fill past quarters from the Internet Archive's Wayback Machine.

    Asks the archive's CDX index once per source URL, takes for each quarter the capture
    nearest the quarter's last day (within [wayback] window_days, default 45), and loads it
    through the same parse and checks as a live sync (origin 'wayback'). Idempotent and
    resumable: a rerun fetches nothing it already has. Never replaces a snapshot with one
    farther from the quarter's end. RINGWATCH_WAYBACK_URL points it at another archive.
    Exits 1 when a quarter failed (captures exist but could not be fetched or read); quarters
    the archive has no capture for are gaps, not failures. Runs through Prefect only when a
    Prefect API is configured (see 'ringwatch sync --help').
    """
    from ringwatch.flows.core.events import Event, EventKind
    from ringwatch.warehouse.presentation.output import render

    runner = _runner(db_path, config_path, verbose)
    quarters = len(range(_index(since), _index(until) + 1)) * (2 if source == "all" else 1)
    with click.progressbar(length=max(quarters, 1), label="backfill", file=sys.stderr, show_pos=True) as bar:
        def advance(event: Event) -> None:
            if event.kind is EventKind.PROGRESS and event.done is not None:
                bar.label = f"backfill {event.message}"
                bar.update(event.done - bar.pos)
            else:
                _show_progress(event)

        outcomes = runner.backfill(since=since, until=until, source=source, dry_run=dry_run, force=force,
                                   progress=advance)
    columns = ["source", "quarter", "status", "archived_at", "reason" if not dry_run else "url"]
    rows_out = [[o.source, o.quarter, o.status, o.archived_at, o.reason if not dry_run else (o.url or o.reason)]
                for o in outcomes]
    click.echo(render(columns, rows_out, "table"), nl=False)
    if not dry_run:
        from ringwatch.flows.core.backfill import QuarterStatus

        counts = {s: sum(o.status is s for o in outcomes) for s in QuarterStatus if s is not QuarterStatus.PLANNED}
        click.echo(", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
                   + " (missing: the archive holds no capture near the quarter's end; failed: captures "
                     "exist but could not be fetched or read)")
        if counts[QuarterStatus.FAILED]:
            raise SystemExit(1)


def _index(q: Quarter) -> int:
    return q.year * 4 + q.number


@cli.command(name="import-atlas")
@click.argument("path", type=PathType(exists=True, dir_okay=False))
@click.option("--observed-at", type=MomentType(), default=None,
              help="When the export was taken [default: the YYYYMMDD stamp in the file name].")
@click.option("--force", is_flag=True, help="Load even when the drop gate refuses the snapshot.")
@click.option("--verbose", "-v", is_flag=True, help="Show Prefect's flow and task logs (when run through Prefect).")
@_db_option
@_config_option
@_reports_errors
def import_atlas(path: str, observed_at: datetime | None, force: bool, verbose: bool,
                 db_path: str | None, config_path: str | None) -> None:
    """Load an EFF Atlas of Surveillance CSV export as a past agency-map snapshot.

    Keeps the Ring rows (Technology "Ring/Neighbors Partnership"), maps Agency, City, State,
    Type of LEA and Link 1 Date to the snapshot's fields, and loads it as the quarter of the
    export date (origin 'atlas'). Duplicate agencies are merged and reported.
    """
    result = _runner(db_path, config_path, verbose).import_atlas(path, observed_at=observed_at, force=force)
    click.echo(result.line())
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@cli.command()
@click.option("--source", type=click.Choice(source_choices()), default="all",
              show_default=True, help="Which source to reparse.")
@click.option("--quarter", type=QuarterType(), default=None, help="Only this quarter's agency-map snapshot.")
@click.option("--force", is_flag=True, help="Reload even when the drop gate refuses the new parse.")
@click.option("--verbose", "-v", is_flag=True, help="Show Prefect's flow and task logs (when run through Prefect).")
@_db_option
@_config_option
@_reports_errors
def reparse(source: str, quarter: Quarter | None, force: bool, verbose: bool, db_path: str | None,
            config_path: str | None) -> None:
    """Re-run today's parsers on the stored raw captures and reload their snapshots.

    No network: the way to repair history after a parser fix. Exits 1 if any capture fails.
    """
    outcomes = _runner(db_path, config_path, verbose).reparse(source=source, quarter=quarter, force=force)
    for o in outcomes:
        if o.error:
            click.echo(f"Error: {o.line()}", err=True)
        else:
            click.echo(o.line())
        for note in o.notes:
            click.echo(f"warning: {note}", err=True)
    if not outcomes:
        click.echo("nothing to reparse: no snapshots held.")
    if any(o.error for o in outcomes):
        raise SystemExit(1)


@cli.command()
@_db_option
@_config_option
@_reports_errors
def serve(db_path: str | None, config_path: str | None) -> None:
    """Run the quarterly schedule: serve the quarterly-sync and backfill deployments.

    Keeps running; the quarterly sync fires on [schedule] cron (default 06:00 UTC on the first
    day of each quarter) and a backfill runs when triggered from the Prefect UI or with
    prefect deployment run 'backfill/backfill' --param since=2020Q1 --param until=2020Q4.
    One run at a time; stopping the process does not pause the schedule. Needs a Prefect
    API (PREFECT_API_URL, e.g. from 'prefect server start') to be useful beyond this process.
    """
    from ringwatch.flows.core.settings import load_settings

    settings = load_settings(config_path, db_path=db_path)  # a bad [schedule] stops here, before Prefect loads
    from ringwatch.flows.orchestration.serve import serve_forever

    serve_forever(settings, db_path=db_path, config_path=config_path)


def _source_of_file(path: str) -> str:
    """--from-file without --source: a KML/KMZ is the agency map, an HTML page a report."""
    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix in ("kml", "kmz"):
        return Source.AGENCY_MAP
    if suffix in ("html", "htm"):
        return Source.TRANSPARENCY
    raise click.UsageError(f"cannot tell which source {path} belongs to; add --source agency_map "
                           "or --source transparency.")


def _print_sync(result: Any) -> None:
    """Each source's line (errors on stderr), its warnings, once the offline loads if the network
    looks down, then what changed (not when every source failed: this run changed nothing)."""
    from ringwatch.warehouse.presentation.render import changes_markdown

    for outcome in result.results:
        if outcome.failed:
            click.echo(f"Error: {outcome.detail}", err=True)
            continue
        click.echo(outcome.line())
        for warning in outcome.warnings:
            click.echo(f"warning: {warning}", err=True)
    unreachable = list(dict.fromkeys(r.unreachable for r in result.results if r.failed and r.unreachable))
    if unreachable:
        click.echo(f"The network looks unreachable ({'; '.join(unreachable)}). To load data without it: "
                   "'ringwatch sync --from-file PAGE' for a saved map (.kml/.kmz) or report (.html), or "
                   "'ringwatch import-atlas EXPORT.csv' for an EFF Atlas of Surveillance export "
                   "(README: Try it offline).", err=True)
    if result.changes is not None and not all(r.failed for r in result.results):
        click.echo("")
        click.echo(changes_markdown(result.changes), nl=False)


@cli.command()
@click.option("--quarter", type=QuarterType(), default=None, help="The quarter [default: the latest held].")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="List at most this many joins and as many departures.")
@_db_option
@_config_option
@_reports_errors
def changes(quarter: Quarter | None, limit: int, db_path: str | None, config_path: str | None) -> None:
    """What changed in a quarter: agencies now, joins and departures since the previous quarter
    held (by name), states added, and new or restated transparency periods. Read-only."""
    from ringwatch.flows.core.settings import load_settings
    from ringwatch.warehouse.presentation.render import changes_markdown
    from ringwatch.warehouse.read import read_changes

    settings = load_settings(config_path, db_path=db_path)
    label = None if quarter is None else str(quarter)
    click.echo(changes_markdown(read_changes(settings.db_path, label), limit=limit), nl=False)


# SQL may begin with a `-- comment` line, which click would otherwise take for an unknown option.
@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@_db_option
@_config_option
@_reports_errors
def query(sql: str, fmt: str, db_path: str | None, config_path: str | None) -> None:
    """Run SQL against the database, read-only.

    It reads the warehouse and nothing else: no writes, no COPY ... TO, no reading or
    attaching other files, no INSTALL or LOAD. To take the data elsewhere, use
    'ringwatch export'.

    Several statements separated by ';' each show their result, in order, under a line
    '-- statement k of n: ...' (with --format json: one list of {statement, sql, columns,
    rows}). An empty or comment-only query is an error. SQL may begin with a '--' comment.

    Example: ringwatch query "SELECT * FROM agency_counts_by_quarter"
    """
    from ringwatch.flows.core.settings import load_settings
    from ringwatch.warehouse.presentation.output import render_results
    from ringwatch.warehouse.read import run_statements

    settings = load_settings(config_path, db_path=db_path)
    click.echo(render_results(run_statements(settings.db_path, sql), fmt), nl=False)


@cli.command()
@click.option("--out", type=PathType(file_okay=False), required=True,
              help="Folder to write: a new or empty folder, or one holding an earlier export (its manifest.json); "
                   "any other folder, or one holding the database, is refused.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="File format of each table and view.")
@_db_option
@_config_option
@_reports_errors
def export(out: str, fmt: str, db_path: str | None, config_path: str | None) -> None:
    """Write every table and view to OUT/<name>.parquet (or .csv) and OUT/manifest.json.

    The manifest gives, per file, its rows, columns (types and comments) and sha256, and the
    schema version, ringwatch version, export time and quarters held. Read-only on the
    database. OUT is written only when it is new, empty, or holds an earlier export: then
    only the files its manifest.json lists and the manifest itself are replaced, each
    atomically, listed files no longer produced are removed, and other files are left
    alone. Anything else in the way, or an OUT that is, lies in or holds the database, its
    .wal, lock file or captures folder, is refused and nothing is written. Read the files
    with DuckDB, pandas or Polars, or publish the folder on any static host (docs/export-and-report.md).
    """
    from pathlib import Path

    from ringwatch.flows.core.settings import load_settings
    from ringwatch.warehouse.output_guard import join_names
    from ringwatch.warehouse.presentation.export import export_warehouse

    settings = load_settings(config_path, db_path=db_path)
    result = export_warehouse(settings.db_path, Path(out), fmt=fmt)
    rows = sum(f.rows for f in result.files)
    click.echo(f"wrote {len(result.files)} files ({rows:,} rows) and {result.manifest.name} to {result.folder}")
    if result.removed:
        click.echo(f"removed {len(result.removed)} file(s) of the earlier export that this one no longer writes: "
                   + join_names(result.removed, limit=5))


@cli.command()
@click.option("--check", is_flag=True, help="Exit 1 when a source is stale, for a monitor.")
@_db_option
@_config_option
@_reports_errors
def status(check: bool, db_path: str | None, config_path: str | None) -> None:
    """Per source: last live sync, last other load, last attempt and its error, quarters held.

    Backfills, Atlas imports and reparses show as "other loads": they never count as a
    live sync. A source is STALE when its last live sync is older than a quarter plus
    [staleness] grace_days, or (agency map) its content has not changed for
    [staleness] unchanged_quarters quarters; --check then exits 1.
    """
    from ringwatch.flows.core.settings import load_settings
    from ringwatch.warehouse.presentation.output import render_status
    from ringwatch.warehouse.read import source_status

    settings = load_settings(config_path, db_path=db_path)
    statuses = source_status(settings.db_path, policy=settings.staleness)
    click.echo(render_status(settings.db_path, statuses))
    if check and any(s.stale for s in statuses):
        raise SystemExit(1)


@cli.command()
@click.option("--out", type=PathType(dir_okay=False, writable=True), default="report.html", show_default=True,
              help="The HTML file to write: a new file, or an earlier ringwatch report (replaced whole); any "
                   "other file, the database, its .wal or lock, or a path in its captures folder is refused.")
@click.option("--png-dir", type=PathType(file_okay=False), default=None,
              help="Folder for one PNG per chart [default: <out>-charts/ beside the HTML, e.g. report-charts/]: a "
                   "new or empty folder, or one holding an earlier report's charts; other folders are refused.")
@_db_option
@_config_option
@_reports_errors
def report(out: str, png_dir: str | None, db_path: str | None, config_path: str | None) -> None:
    """Write a trend report: one HTML file that opens offline, and a PNG of each chart.

    Charts: agencies per quarter (observed snapshots, and the reconstruction from Active
    Dates), joins and departures, agencies by state (a bar chart and a US tile map) and the
    states that grew most over the last four quarters, agencies by type, transparency
    requests by type and outcome with the share complied with, and the map's video-request
    counts per period with the ten agencies that asked most. A header gives each source's last sync and the
    origins used, and the latest quarter's joins and departures by name. Read-only: it
    can run while nothing else writes, and changes nothing.

    It writes only where an earlier report wrote: OUT must be new or a page an earlier
    report wrote (it carries <meta name="generator" content="ringwatch report">), and the
    PNG folder new, empty, or holding earlier chart PNGs (known by a text chunk ringwatch
    puts in each); there it replaces or removes only its own charts and leaves other files
    alone. Anything else in the way, or a path that is, lies in or holds the database, its
    .wal, lock file or captures folder, is refused before anything is written.
    """
    from pathlib import Path

    from ringwatch.flows.core.settings import load_settings
    from ringwatch.warehouse.presentation.report.build import build_report

    settings = load_settings(config_path, db_path=db_path)
    click.echo(f"reading {settings.db_path} and drawing the charts...", err=True)
    files = build_report(settings.db_path, Path(out), png_dir=Path(png_dir) if png_dir else None,
                         policy=settings.staleness)
    if files.database_empty:
        click.echo(f"warning: {settings.db_path} holds no snapshot and no transparency figures yet; the "
                   "report's charts are empty. Run 'ringwatch sync' first.", err=True)
    elif files.empty_charts:
        click.echo(f"note: {len(files.empty_charts)} chart(s) had no data and say why in the report: "
                   + "; ".join(files.empty_charts), err=True)
    size = files.html.stat().st_size
    click.echo(f"wrote {files.html} ({size / 1024:,.0f} KiB, {len(files.pngs)} charts, "
               f"{files.charts_with_data} with data) and {len(files.pngs)} PNGs in {files.pngs[0].parent}/")


@cli.command()
@click.option("--out", "target", default=None, metavar="TARGET",
              help="Where releases go: a folder, a file:// URL or s3://bucket/prefix [default: [publish] target "
                   "of the settings]. The release is written to TARGET/<release id>/ and TARGET/latest.json "
                   "names the newest; a folder holding anything else, or the database's files, is refused.")
@_db_option
@_config_option
@_reports_errors
def publish(target: str | None, db_path: str | None, config_path: str | None) -> None:
    """Publish a citable release of the warehouse to TARGET/<release id>/, never overwritten.

    The release is a Frictionless Data Package (datapackage.json; every table as CSV and
    Parquet, with a Table Schema: types, column descriptions, keys), a SQLite copy with
    Datasette metadata, the trend report with its PNGs, README.md (sources, licences, the
    quarter rule, identity, known limits, how to cite), CITATION.cff and CHANGES.md. Rows of
    agencies and figures say their origin, source URL, capture sha256 and observed date; no
    local path, host name or process id is published. The release id is the latest quarter
    held and a hash of the data: publishing unchanged data again writes nothing and says so.
    Read-only on the database. s3:// takes its credentials and endpoint from the standard AWS
    variables (AWS_ENDPOINT_URL for an S3-compatible server). See docs/publishing.md.
    """
    from ringwatch.flows.core.settings import check_publish_target, load_settings
    from ringwatch.warehouse.presentation.publish.release import publish as publish_release

    settings = load_settings(config_path, db_path=db_path)
    if target is None:
        target = settings.publish.target
        if not target:
            raise SettingsError(f"no publish target: give --out TARGET, or set [publish] target in "
                                f"{settings.config_file}.")
    else:
        check_publish_target(target, file="--out", where="TARGET")
    click.echo(f"reading {settings.db_path}, writing the release and drawing the charts...", err=True)
    done = publish_release(settings.db_path, target, policy=settings.staleness)
    if done.already_published:
        click.echo(f"release {done.release_id} is already published at {done.location}: the data has not changed "
                   "since. Nothing was written.")
        return
    click.echo(f"published release {done.release_id} ({done.rows:,} rows) to {done.location}: {done.files} files.")
    if done.latest:
        click.echo(f"latest.json in {target} now names {done.release_id}.")
    else:
        click.echo(f"latest.json in {target} still names a release of a later quarter; this one is kept beside it.")


@cli.command(name="remove-load")
@click.argument("run_id", type=click.IntRange(min=1), required=False)
@click.option("--yes", is_flag=True, help="Remove it; without --yes only say what would be removed.")
@_db_option
@_config_option
@_reports_errors
def remove_load(run_id: int | None, yes: bool, db_path: str | None, config_path: str | None) -> None:
    """Remove one load (a run's agency-map snapshot or transparency figures), keeping its raw captures.

    Without RUN_ID: list the loads held, with their run ids. Without --yes: say what would
    be removed and change nothing. With --yes: remove it in one transaction under the writer
    lock, resolve agency identity again as after any load, and record it in removed_loads;
    the views then read as if it had never been loaded. Loading the file again brings it
    back. A snapshot this load replaced is not restored.
    """
    from ringwatch.flows.core.settings import load_settings
    from ringwatch.warehouse.presentation.output import render
    from ringwatch.warehouse.quality import location_of
    from ringwatch.warehouse.removal import list_loads, preview_removal, remove_from

    settings = load_settings(config_path, db_path=db_path)
    if run_id is None:
        loads = list_loads(settings.db_path)
        if not loads:
            click.echo(f"{settings.db_path} holds no load: nothing to remove.")
            return
        click.echo(render(["run_id", "source", "quarter", "origin", "rows", "file_or_url", "finished_at"],
                          [[h.run_id, h.source, h.quarter, h.origin, h.rows, location_of(h.url or ""), h.finished_at]
                           for h in loads], "table"), nl=False)
        click.echo("See what removing one would do: ringwatch remove-load RUN_ID; remove it: add --yes.")
        return
    if not yes:
        plan = preview_removal(settings.db_path, run_id)
        click.echo(f"would remove {plan.what()}.")
        click.echo(plan.kept())
        click.echo(f"Nothing was changed: add --yes to remove it (ringwatch remove-load {run_id} --yes).")
        return
    done = remove_from(settings.db_path, run_id, aliases=settings.aliases,
                       lock_timeout_seconds=settings.lock_timeout_seconds)
    click.echo(f"removed {done.what()}.")
    click.echo(done.kept())
    if done.agencies is not None:
        click.echo("Agency identity was resolved again, as after any load.")
    click.echo("The removal is recorded in removed_loads.")
