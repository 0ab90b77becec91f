"""Load settings.toml once, at the edge, into frozen records passed down to every layer."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from scrapers.errors import ConfigError
from scrapers.http import HttpSettings, check_scheme
from warehouse.quality import GatePolicy

ENV_DB = "RINGWATCH_DB"
ENV_CONFIG = "RINGWATCH_CONFIG"
ENV_SOURCE_URL = "RINGWATCH_{SOURCE}_URL"  # e.g. RINGWATCH_AGENCY_MAP_URL


@dataclass(frozen=True, slots=True)
class FlowSettings:
    fetch_retries: int = 1
    fetch_retry_delay_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: Path
    http: HttpSettings
    flow: FlowSettings
    gates: GatePolicy
    source_urls: dict[str, str] = field(default_factory=dict)
    config_file: str = "(built-in)"

    def url_for(self, source: str) -> str:
        try:
            return self.source_urls[source]
        except KeyError:
            raise ConfigError(
                f"no URL configured for source {source!r}; add [sources.{source}] url = ... "
                f"to {self.config_file} or set {ENV_SOURCE_URL.format(SOURCE=source.upper())}."
            ) from None


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
        text = resources.files("config").joinpath("settings.toml").read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        name = "config/settings.toml (built-in)"
    try:
        http = _record(HttpSettings, raw.get("http", {}), name, "http")
        flow = _record(FlowSettings, raw.get("flow", {}), name, "flow")
        gates_raw = dict(raw.get("gates", {}))
        if "required_fields" in gates_raw:
            gates_raw["required_fields"] = tuple(gates_raw["required_fields"])
        gates = _record(GatePolicy, gates_raw, name, "gates")
    except TypeError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    urls = {src: str(table.get("url", "")) for src, table in raw.get("sources", {}).items()}
    for source in list(urls):
        override = os.environ.get(ENV_SOURCE_URL.format(SOURCE=source.upper()))
        if override:
            urls[source] = override
    override = os.environ.get(ENV_SOURCE_URL.format(SOURCE="AGENCY_MAP"))
    if override:
        urls["agency_map"] = override
    for source, url in urls.items():
        check_scheme(url, context=f"config [sources.{source}]")
    db = db_path or os.environ.get(ENV_DB) or raw.get("warehouse", {}).get("path",
                                                                            "ringwatch.duckdb")
    return Settings(db_path=Path(db), http=http, flow=flow, gates=gates, source_urls=urls,
                    config_file=name)


def _record(cls: type, values: dict[str, Any], file: str, table: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"{file}: unknown key(s) {', '.join(unknown)} in [{table}]; "
            f"known keys: {', '.join(sorted(known))}."
        )
    return cls(**values)
