"""Load settings.toml once, at the edge, into frozen records passed down to every layer."""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from ringwatch.scrapers.errors import ConfigError, SettingsError
from ringwatch.scrapers.http import HttpSettings, check_scheme
from ringwatch.warehouse.aliases import parse_aliases, read_aliases
from ringwatch.warehouse.identity import AliasDecision
from ringwatch.warehouse.quality import GatePolicy
from ringwatch.warehouse.staleness import StalenessPolicy

ENV_DB = "RINGWATCH_DB"
ENV_CONFIG = "RINGWATCH_CONFIG"
ENV_MAP_URL = "RINGWATCH_AGENCY_MAP_URL"
ENV_REPORT_URLS = "RINGWATCH_TRANSPARENCY_URLS"
ENV_INDEX_URLS = "RINGWATCH_TRANSPARENCY_INDEX_URLS"
ENV_WAYBACK = "RINGWATCH_WAYBACK_URL"
DEFAULT_ALIASES = "agency_aliases.csv"


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

    def map_url(self) -> str:
        if not self.agency_map_url:
            raise ConfigError(f"no agency map URL: add [sources.agency_map] url = ... to "
                              f"{self.config_file} or set {ENV_MAP_URL}.")
        return self.agency_map_url

    def transparency_sources(self) -> TransparencySources:
        if not (self.transparency.report_urls or self.transparency.index_urls):
            raise ConfigError(f"no transparency report or index URLs: add [sources.transparency] "
                              f"report_urls / index_urls to {self.config_file} or set {ENV_REPORT_URLS}.")
        return self.transparency


def load_settings(config_path: str | Path | None = None, *,
                  db_path: str | Path | None = None) -> Settings:
    """Read the config file (argument, else RINGWATCH_CONFIG, else the packaged default).

    Environment variables override the file; explicit arguments override both.
    """
    path = config_path or os.environ.get(ENV_CONFIG)
    if path:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} not found; check --config or "
                              f"{ENV_CONFIG}.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        name = str(path)
    else:
        text = resources.files("ringwatch.config").joinpath("settings.toml").read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        name = "config/settings.toml (built-in)"
    try:
        http = _record(HttpSettings, raw.get("http", {}), name, "http")
        flow = _record(FlowSettings, raw.get("flow", {}), name, "flow")
        gates_raw = dict(raw.get("gates", {}))
        if "required_fields" in gates_raw:
            _check_value(gates_raw["required_fields"], tuple[str, ...], file=name, where="[gates] required_fields",
                         key="required_fields")
            gates_raw["required_fields"] = tuple(gates_raw["required_fields"])
        gates = _record(GatePolicy, gates_raw, name, "gates")
        wayback = _record(WaybackSettings, raw.get("wayback", {}), name, "wayback")
        staleness = _record(StalenessPolicy, raw.get("staleness", {}), name, "staleness")
        schedule = _record(ScheduleSettings, raw.get("schedule", {}), name, "schedule")
    except TypeError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    sources = raw.get("sources", {})
    map_url = os.environ.get(ENV_MAP_URL) or str(sources.get("agency_map", {}).get("url", ""))
    table = sources.get("transparency", {})
    reports = _url_list(os.environ.get(ENV_REPORT_URLS)) or tuple(table.get("report_urls", ()))
    indexes = _url_list(os.environ.get(ENV_INDEX_URLS)) or tuple(table.get("index_urls", ()))
    if os.environ.get(ENV_WAYBACK):
        wayback = WaybackSettings(os.environ[ENV_WAYBACK], wayback.window_days, wayback.cdx_max_age_hours)
    for url in (map_url, *reports, *indexes, wayback.base_url):
        if url:
            check_scheme(url, context=f"config {name}")
    warehouse = raw.get("warehouse", {})
    unknown = sorted(set(warehouse) - {"path", "lock_timeout_seconds"})
    if unknown:
        raise ConfigError(f"{name}: unknown key(s) {', '.join(unknown)} in [warehouse]; "
                          "known keys: lock_timeout_seconds, path.")
    db = db_path or os.environ.get(ENV_DB) or warehouse.get("path", "ringwatch.duckdb")
    aliases_path, aliases = _aliases(raw.get("identity", {}), name, Path(path).parent if path else None)
    return Settings(db_path=Path(db), http=http, flow=flow, gates=gates, agency_map_url=map_url,
                    transparency=TransparencySources(reports, indexes), wayback=wayback,
                    lock_timeout_seconds=_lock_timeout(warehouse, name), staleness=staleness,
                    schedule=schedule, config_file=name, aliases=aliases, aliases_file=aliases_path)


def _lock_timeout(warehouse: dict[str, Any], file: str) -> float:
    value = warehouse.get("lock_timeout_seconds", 600.0)
    _check_value(value, float, file=file, where="[warehouse] lock_timeout_seconds", key="lock_timeout_seconds")
    return float(value)


def _aliases(table: dict[str, Any], file: str, folder: Path | None) -> tuple[str, tuple[AliasDecision, ...]]:
    """The aliases file named by [identity] aliases_file: relative to the config file's folder;
    the packaged config/agency_aliases.csv when the built-in config is used."""
    unknown = sorted(set(table) - {"aliases_file"})
    if unknown:
        raise ConfigError(f"{file}: unknown key(s) {', '.join(unknown)} in [identity]; known keys: aliases_file.")
    configured = table.get("aliases_file")
    if configured is not None and not isinstance(configured, str):
        raise ConfigError(f"{file}: [identity] aliases_file must be a path in quotes, not {configured!r}.")
    if folder is None and configured in (None, DEFAULT_ALIASES):
        text = resources.files("ringwatch.config").joinpath(DEFAULT_ALIASES).read_text(encoding="utf-8")
        return f"config/{DEFAULT_ALIASES} (built-in)", parse_aliases(text, file=f"config/{DEFAULT_ALIASES}")
    if configured is None:
        return "(none)", ()
    target = Path(configured)
    if not target.is_absolute() and folder is not None:
        target = folder / target
    return str(target), read_aliases(target)


def _url_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated list of URLs from the environment."""
    return tuple(u.strip() for u in (value or "").split(",") if u.strip())


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
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"{file}: unknown key(s) {', '.join(unknown)} in [{table}]; "
            f"known keys: {', '.join(sorted(known))}."
        )
    hints = typing.get_type_hints(cls)
    for key, value in values.items():
        _check_value(value, hints[key], file=file, where=f"[{table}] {key}", key=key)
    return cls(**values)


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
