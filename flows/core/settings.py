"""Load settings.toml once, at the edge, into frozen records passed down to every layer.

Everything wrong with the settings (the file, an unknown section or key, a value, the
environment variables that override them, the aliases file they name) is a SettingsError,
found before any command does anything, so the CLI stops at once with exit 2 and one line.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ringwatch.scrapers.errors import ConfigError, FetchError, SettingsError
from ringwatch.scrapers.http_settings import HttpSettings, check_scheme
from ringwatch.warehouse.aliases import HEADER, parse_aliases, read_aliases
from ringwatch.warehouse.identity import AliasDecision
from ringwatch.warehouse.quality import GatePolicy
from ringwatch.warehouse.staleness import StalenessPolicy

ENV_DB = "RINGWATCH_DB"
ENV_CONFIG = "RINGWATCH_CONFIG"
ENV_MAP_URL = "RINGWATCH_AGENCY_MAP_URL"
ENV_REPORT_URLS = "RINGWATCH_TRANSPARENCY_URLS"
ENV_INDEX_URLS = "RINGWATCH_TRANSPARENCY_INDEX_URLS"
ENV_WAYBACK = "RINGWATCH_WAYBACK_URL"
ENV_CAPTURES = "RINGWATCH_CAPTURES"
ENV_FETCH_DEPLOYMENT = "RINGWATCH_FETCH_DEPLOYMENT"
DEFAULT_ALIASES = "agency_aliases.csv"
BUILT_IN = "config/settings.toml (built-in)"


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When `ringwatch serve` runs the quarterly sync: 06:00 on the first day of each quarter."""

    cron: str = "0 6 1 1,4,7,10 *"
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class WaybackSettings:
    """The Internet Archive, for backfills."""

    base_url: str = "https://web.archive.org"
    window_days: int = 45
    cdx_max_age_hours: float = 24.0


@dataclass(frozen=True, slots=True)
class TransparencySources:
    """Known report pages, and index pages whose report links are followed."""

    report_urls: tuple[str, ...] = ()
    index_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """Runs through Prefect (deployments, or the CLI with a Prefect API configured)."""

    fetch_retries: int = 1
    fetch_retry_delay_seconds: float = 300.0
    # How long a Prefect run may wait on the network in all; an interactive command waits
    # [http] patience_seconds.
    patience_seconds: float = 1800.0
    # "flow/deployment" of the `fetch` flow: the sync flow then fetches live pages on a worker of
    # that deployment and loads them here (docs/scheduling.md). "": it fetches itself.
    fetch_deployment: str = ""


@dataclass(frozen=True, slots=True)
class _WarehouseTable:
    """[warehouse], as written: a relative path is relative to the working directory."""

    path: str = "ringwatch.duckdb"
    lock_timeout_seconds: float = 600.0
    # Where raw captures are kept: "" is the folder beside the database (<name>.captures/).
    captures: str = ""


@dataclass(frozen=True, slots=True)
class _IdentityTable:
    """[identity], as written. Left out, it is the default's value, so a copy without the
    section reads the same aliases as the defaults do; "" reads none."""

    aliases_file: str = DEFAULT_ALIASES


@dataclass(frozen=True, slots=True)
class PublishSettings:
    """[publish]: where `ringwatch publish` writes when --out is not given, and where the sync flow
    publishes after a successful run. "" publishes nowhere by itself."""

    target: str = ""


@dataclass(frozen=True, slots=True)
class _AgencyMapTable:
    """[sources.agency_map], as written."""

    url: str = ""


# Every table a settings file may hold, and the record whose fields are its keys: the one
# place that says what is known, so a misspelled section or key is an error, never ignored.
_TABLES: dict[str, type] = {
    "warehouse": _WarehouseTable, "http": HttpSettings, "flow": FlowSettings, "gates": GatePolicy,
    "wayback": WaybackSettings, "staleness": StalenessPolicy, "schedule": ScheduleSettings,
    "identity": _IdentityTable, "publish": PublishSettings, "sources.agency_map": _AgencyMapTable,
    "sources.transparency": TransparencySources,
}


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: Path
    http: HttpSettings
    flow: FlowSettings
    gates: GatePolicy
    agency_map_url: str = ""
    transparency: TransparencySources = field(default_factory=TransparencySources)
    wayback: WaybackSettings = field(default_factory=WaybackSettings)
    lock_timeout_seconds: float = 600.0
    staleness: StalenessPolicy = field(default_factory=StalenessPolicy)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    config_file: str = "(built-in)"
    # The reviewed identity decisions of [identity] aliases_file, applied on every load.
    aliases: tuple[AliasDecision, ...] = ()
    aliases_file: str = "(none)"
    publish: PublishSettings = field(default_factory=PublishSettings)
    # The capture store: "" (the folder beside the database), a folder, file:// or s3://bucket/prefix.
    captures: str = ""

    def map_url(self) -> str:
        if not self.agency_map_url:
            raise SettingsError(f"no agency map URL: add [sources.agency_map] url = ... to "
                                f"{self.config_file} or set {ENV_MAP_URL}.")
        return self.agency_map_url

    def transparency_sources(self) -> TransparencySources:
        if not (self.transparency.report_urls or self.transparency.index_urls):
            raise SettingsError(f"no transparency report or index URLs: add [sources.transparency] "
                                f"report_urls / index_urls to {self.config_file} or set {ENV_REPORT_URLS}.")
        return self.transparency


def load_settings(config_path: str | Path | None = None, *,
                  db_path: str | Path | None = None) -> Settings:
    """Read the config file (argument, else RINGWATCH_CONFIG, else the packaged default).

    Environment variables override the file; explicit arguments override both.
    """
    path = config_path or os.environ.get(ENV_CONFIG)
    if path:
        file = Path(path).absolute()
        name, folder = str(file), file.parent
        raw = _read_config(file)
    else:
        text = resources.files("ringwatch.config").joinpath("settings.toml").read_text(encoding="utf-8")
        raw, name, folder = tomllib.loads(text), BUILT_IN, None
    tables = dict(_tables(raw, name))
    records = {table: _record(cls, tables.get(table, {}), name, table) for table, cls in _TABLES.items()}
    warehouse: _WarehouseTable = records["warehouse"]
    schedule: ScheduleSettings = records["schedule"]
    wayback: WaybackSettings = records["wayback"]
    sources: TransparencySources = records["sources.transparency"]
    check_schedule(schedule, file=name)
    check_publish_target(records["publish"].target, file=name)
    captures = os.environ.get(ENV_CAPTURES, warehouse.captures)
    check_captures_location(captures, file=name if ENV_CAPTURES not in os.environ else ENV_CAPTURES)
    if not warehouse.path.strip():
        raise SettingsError(f"{name}: [warehouse] path is empty; give the DuckDB file, e.g. \"ringwatch.duckdb\".")
    map_url = os.environ.get(ENV_MAP_URL) or records["sources.agency_map"].url
    reports = _url_list(os.environ.get(ENV_REPORT_URLS)) or sources.report_urls
    indexes = _url_list(os.environ.get(ENV_INDEX_URLS)) or sources.index_urls
    if os.environ.get(ENV_WAYBACK):
        wayback = WaybackSettings(os.environ[ENV_WAYBACK], wayback.window_days, wayback.cdx_max_age_hours)
    for url in (map_url, *reports, *indexes, wayback.base_url):
        if url:
            try:
                check_scheme(url, context=f"config {name}")
            except FetchError as exc:
                raise SettingsError(str(exc)) from None
    db = db_path or os.environ.get(ENV_DB) or warehouse.path
    flow: FlowSettings = records["flow"]
    fetch_deployment = os.environ.get(ENV_FETCH_DEPLOYMENT, flow.fetch_deployment).strip()
    if fetch_deployment and fetch_deployment.count("/") != 1:
        where = ENV_FETCH_DEPLOYMENT if ENV_FETCH_DEPLOYMENT in os.environ else f"{name}: [flow] fetch_deployment"
        raise SettingsError(f"{where} = {fetch_deployment!r}: name the deployment as flow/deployment, "
                            "e.g. \"fetch/fetch-anywhere\" (\"\" fetches in the sync's own run).")
    flow = replace(flow, fetch_deployment=fetch_deployment)
    aliases_path, aliases = _aliases(records["identity"].aliases_file, name, folder)
    return Settings(db_path=Path(db), http=records["http"], flow=flow, gates=records["gates"],
                    agency_map_url=map_url, transparency=TransparencySources(reports, indexes), wayback=wayback,
                    lock_timeout_seconds=warehouse.lock_timeout_seconds, staleness=records["staleness"],
                    schedule=schedule, config_file=name, aliases=aliases, aliases_file=aliases_path,
                    publish=records["publish"], captures=captures)


# Where a release may go: a folder (relative to the working directory), a file:// URL, or an
# S3 bucket (with the ringwatch[s3] extra). Checked when the file is loaded, like the schedule.
PUBLISH_SCHEMES = ("file", "s3")
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)


def check_publish_target(target: str, *, file: str, where: str = "[publish] target") -> None:
    """A folder or a URL whose scheme ringwatch publishes to; SettingsError names the key."""
    help_text = "give a folder, a file:// URL or s3://bucket/prefix (\"\" publishes nowhere)"
    if target != target.strip() or "\x00" in target:
        raise SettingsError(f"{file}: {where} = {target!r} has white space around it or a NUL byte; {help_text}.")
    match = _URL_SCHEME.match(target)
    if not match:
        return
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme not in PUBLISH_SCHEMES:
        raise SettingsError(f"{file}: {where} = {target!r}: ringwatch does not publish to {scheme}:// URLs; "
                            f"{help_text}.")
    if scheme == "s3" and not rest.split("/", 1)[0]:
        raise SettingsError(f"{file}: {where} = {target!r} names no bucket; {help_text}.")


CAPTURE_SCHEMES = ("file", "s3")


def check_captures_location(location: str, *, file: str) -> None:
    """[warehouse] captures (or RINGWATCH_CAPTURES): "", a folder, a file:// URL or an S3 prefix."""
    help_text = ('give a folder, a file:// URL or s3://bucket/prefix ("" keeps them in the folder beside '
                 "the database)")
    where = "[warehouse] captures" if file != ENV_CAPTURES else ENV_CAPTURES
    shown = file if file != ENV_CAPTURES else "the environment"
    if location != location.strip() or "\x00" in location:
        raise SettingsError(f"{shown}: {where} = {location!r} has white space around it or a NUL byte; {help_text}.")
    match = _URL_SCHEME.match(location)
    if not match:
        return
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme not in CAPTURE_SCHEMES:
        raise SettingsError(f"{shown}: {where} = {location!r}: ringwatch keeps no captures at {scheme}:// URLs; "
                            f"{help_text}.")
    if scheme == "s3" and not rest.split("/", 1)[0]:
        raise SettingsError(f"{shown}: {where} = {location!r} names no bucket; {help_text}.")


def _read_config(file: Path) -> dict[str, Any]:
    where = f"check --config or {ENV_CONFIG}"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"config file {file} not found; {where}.") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"config file {file} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                            "save it as UTF-8.") from None
    except OSError as exc:
        raise SettingsError(f"config file {file} cannot be read ({exc.strerror or exc}); {where}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {file} is not valid TOML: {exc}") from None


def _children(prefix: str) -> list[str]:
    """The names one level below a dotted prefix ("" for the top): sections and sub-tables."""
    depth = prefix.count(".") + 1 if prefix else 0
    return sorted({t.split(".")[depth] for t in _TABLES if not prefix or t.startswith(prefix + ".")})


def _tables(raw: dict[str, Any], file: str, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Each known table the file holds, by its dotted name; an unknown or misplaced one is an error."""
    known = _children(prefix)
    for key, value in raw.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in known:
            raise SettingsError(_unknown_section(file, prefix, key, value))
        if not isinstance(value, dict):
            raise SettingsError(f"{file}: {dotted} = {value!r} must be a section: write [{dotted}] and its keys "
                                "on the lines below.")
        if dotted in _TABLES:
            yield dotted, value
        else:
            yield from _tables(value, file, dotted)


def _unknown_section(file: str, prefix: str, key: str, value: Any) -> str:
    dotted = f"{prefix}.{key}" if prefix else key
    sections = ", ".join(f"[{t}]" for t in _TABLES)
    if not isinstance(value, dict):
        owners = [t for t, cls in _TABLES.items() if key in {f.name for f in fields(cls)}]
        place = f"in [{prefix}]" if prefix else "outside any section"
        hint = f" ({key} is a key of {' and '.join(f'[{t}]' for t in owners)})" if owners else ""
        return f"{file}: {key} is {place}{hint}; keys go in a section, one of {sections}."
    written = _written(dotted, value)
    hint = _did_you_mean(written, list(_TABLES), brackets=True)
    return f"{file}: unknown section [{written}]{hint}; the known sections are {sections}."


def _written(dotted: str, value: dict[str, Any]) -> str:
    """The table name as the user wrote it: [source.agency_map] reads as {"source": {"agency_map": ...}}."""
    subtables = [k for k, v in value.items() if isinstance(v, dict)]
    if len(subtables) == 1 and len(value) == 1:
        return _written(f"{dotted}.{subtables[0]}", value[subtables[0]])
    return dotted


def _did_you_mean(word: str, candidates: list[str], *, brackets: bool = False) -> str:
    same_but_case = [c for c in candidates if c.lower() == word.lower()]
    close = same_but_case or difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean [{close[0]}]?)" if brackets else f" (did you mean {close[0]}?)"


def _aliases(configured: str, file: str, folder: Path | None) -> tuple[str, tuple[AliasDecision, ...]]:
    """The decisions of [identity] aliases_file. A relative path is relative to the settings
    file's folder; the default name, when no such file is there, is the packaged one, so an
    unedited copy of the defaults works from any folder. "" reads no file."""
    if not configured.strip():
        return "(none)", ()
    default = Path(configured) == Path(DEFAULT_ALIASES)
    target = Path(configured)
    if not target.is_absolute():
        target = (folder if folder is not None else Path.cwd()) / target
    target = target.absolute()
    if default and (folder is None or not target.exists()):
        text = resources.files("ringwatch.config").joinpath(DEFAULT_ALIASES).read_text(encoding="utf-8")
        return f"config/{DEFAULT_ALIASES} (built-in)", parse_aliases(text, file=f"config/{DEFAULT_ALIASES}")
    if target.is_dir():
        raise SettingsError(f"{file}: [identity] aliases_file {target} is a folder; give the path of a CSV file "
                            "(a relative one is relative to the settings file's folder; \"\" reads none).")
    if not target.exists():
        raise SettingsError(f"{file}: [identity] aliases_file {target} does not exist; create it with the header "
                            f"{','.join(HEADER)}, or fix the path (a relative one is relative to the settings "
                            "file's folder; \"\" reads none).")
    try:
        return str(target), read_aliases(target)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    except OSError as exc:
        raise SettingsError(f"{file}: [identity] aliases_file {target} cannot be read "
                            f"({exc.strerror or exc}).") from None


def _url_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated list of URLs from the environment."""
    return tuple(u.strip() for u in (value or "").split(",") if u.strip())


# -- [schedule] -------------------------------------------------------------------------------
# Checked here, when the file is loaded, so `serve` (and every other command) stops with a
# line naming the key instead of Prefect's pydantic error. The cron grammar is deliberately
# narrower than the croniter Prefect uses (no L, #, ?, H, seconds or @daily): whatever passes
# here, Prefect accepts.

_MONTHS = {m: n for n, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAYS = {d: n for n, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS), ("day-of-week", 0, 7, _DAYS),
)
_CRON_ITEM = re.compile(r"(?P<start>\*|[0-9a-z]+)(?:-(?P<end>[0-9a-z]+))?(?:/(?P<step>[0-9]+))?", re.IGNORECASE)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_CRON_HELP = ("write five fields, minute hour day-of-month month day-of-week, each *, a number, a range a-b, "
              "a list a,b or a step */n or a-b/n, e.g. \"0 6 1 1,4,7,10 *\"")


def check_schedule(schedule: ScheduleSettings, *, file: str) -> None:
    """[schedule] cron and timezone, as Prefect will read them; SettingsError names the key."""
    _check_timezone(schedule.timezone, file)
    try:
        _cron_values(schedule.cron)
    except ValueError as exc:
        raise SettingsError(f"{file}: [schedule] cron = {schedule.cron!r}: {exc}; {_CRON_HELP}.") from None


def _check_timezone(name: str, file: str) -> None:
    problem = ""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problem = "is not a timezone"
    if not problem and name not in _zone_names():  # Prefect's own test: "posixrules", "right/UTC" load, yet fail
        problem = "is not an IANA timezone name"
    if problem:
        hint = _did_you_mean(name, sorted(_zone_names()))
        raise SettingsError(f"{file}: [schedule] timezone = {name!r} {problem}{hint}; give an IANA name such as "
                            "\"UTC\" or \"America/New_York\".")


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _cron_values(cron: str) -> list[set[int]]:
    """The values each of the five fields allows; ValueError says which field is wrong."""
    parts = cron.split()
    if len(parts) != len(_CRON_FIELDS):
        raise ValueError(f"it has {len(parts)} field(s), not 5")
    values = [_cron_field(part, *spec) for part, spec in zip(parts, _CRON_FIELDS, strict=True)]
    days, months = values[2], values[3]
    if parts[4] == "*" and min(days) > max(_DAYS_IN_MONTH[m - 1] for m in months):
        raise ValueError("it never fires: no month it names has that day")
    return values


def _cron_field(part: str, name: str, least: int, most: int, names: dict[str, int]) -> set[int]:
    allowed: set[int] = set()
    for item in part.split(","):
        match = _CRON_ITEM.fullmatch(item)
        if not match:
            raise ValueError(f"the {name} field {part!r} has {item!r}, which is not a value, range or step")
        start, end, step = match["start"], match["end"], match["step"]
        if start == "*":
            if end is not None:
                raise ValueError(f"the {name} field {part!r} has {item!r}: * takes no range")
            low, high = least, most
        else:
            low = _cron_number(start, name, least, most, names)
            high = _cron_number(end, name, least, most, names) if end is not None else low
            if low > high:
                raise ValueError(f"the {name} field {part!r} has the range {item!r}, which runs backwards")
            if step is not None and end is None:
                raise ValueError(f"the {name} field {part!r} has {item!r}: a step goes after * or a range a-b")
        stride = int(step) if step is not None else 1
        if not 1 <= stride <= most - least + 1:
            raise ValueError(f"the {name} field {part!r} has the step {stride}, outside 1 to {most - least + 1}")
        allowed.update(range(low, high + 1, stride))
    return allowed


def _cron_number(text: str, name: str, least: int, most: int, names: dict[str, int]) -> int:
    if text.isdigit() and text.isascii():
        number = int(text)
    elif text.lower() in names:
        number = names[text.lower()]
    else:
        raise ValueError(f"the {name} field has {text!r}, which is not a number"
                         + (f" or a name ({', '.join(names)})" if names else ""))
    if not least <= number <= most:
        raise ValueError(f"the {name} field has {number}, outside {least} to {most}")
    return number


# -- types and ranges ---------------------------------------------------------------------------

# Allowed ranges, as (least, most); None: no bound. Checked when the file is loaded, so a
# wrong value stops every command at once, naming the key, instead of failing mid-sync.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "delay_seconds": (0, 3600), "connect_timeout_seconds": (0.1, 3600), "read_timeout_seconds": (0.1, 3600),
    "total_timeout_seconds": (0.1, 86400), "max_retries": (0, 100), "backoff_base_seconds": (0, 3600),
    "backoff_max_seconds": (0, 86400), "max_retry_after_seconds": (0, 86400), "max_body_bytes": (1, None),
    "max_inflated_bytes": (1, None), "max_redirects": (0, 50), "patience_seconds": (1, 7 * 86400),
    "fetch_retries": (0, 100), "fetch_retry_delay_seconds": (0, 86400), "window_days": (0, 366),
    "cdx_max_age_hours": (0, None), "min_rows": (0, None), "min_fraction_of_previous": (0, 1),
    "grace_days": (0, 366), "unchanged_quarters": (1, 400), "lock_timeout_seconds": (0, 86400),
}


def _record(cls: type, values: dict[str, Any], file: str, table: str) -> Any:
    """One table as its record: every key known, of its type and in its range."""
    known = [f.name for f in fields(cls)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        advice = "".join(_key_hint(key, known, table) for key in unknown)
        raise SettingsError(f"{file}: unknown key(s) {', '.join(unknown)} in [{table}]{advice}; "
                            f"known keys: {', '.join(sorted(known))}.")
    hints = typing.get_type_hints(cls)
    converted: dict[str, Any] = {}
    for key, value in values.items():
        _check_value(value, hints[key], file=file, where=f"[{table}] {key}", key=key)
        converted[key] = tuple(value) if typing.get_origin(hints[key]) is tuple else value
    try:
        return cls(**converted)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{file}: [{table}]: {exc}") from None


def _key_hint(key: str, known: list[str], table: str) -> str:
    owners = [t for t, cls in _TABLES.items() if t != table and key in {f.name for f in fields(cls)}]
    if owners:
        return f" ({key} belongs in {' or '.join(f'[{t}]' for t in owners)})"
    return _did_you_mean(key, known)


def _check_value(value: Any, expected: Any, *, file: str, where: str, key: str) -> None:
    """Type and range of one setting; SettingsError names the key and the file."""
    optional = type(None) in typing.get_args(expected)
    if optional and value is None:
        return
    if optional:
        expected = next(a for a in typing.get_args(expected) if a is not type(None))
    origin = typing.get_origin(expected)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{file}: {where} must be a list of strings, not {value!r}.")
        return
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif expected is str:
        ok = isinstance(value, str)
    else:
        ok = True
    if not ok:
        kind = {bool: "true or false", int: "a whole number", float: "a number", str: "a string in quotes"}
        raise SettingsError(f"{file}: {where} must be {kind.get(expected, expected)}, not {value!r} "
                            f"({type(value).__name__}).")
    least, most = _RANGES.get(key, (None, None))
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and ((least is not None and value < least) or (most is not None and value > most)):
        span = f"{least if least is not None else '-inf'} to {most if most is not None else 'inf'}"
        raise SettingsError(f"{file}: {where} = {value!r} is out of range ({span}).")
