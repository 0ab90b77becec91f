from __future__ import annotations

from pathlib import Path

import pytest

from ringwatch.flows.settings import load_settings
from ringwatch.scrapers.errors import ConfigError, FetchError


def test_built_in_defaults_are_polite() -> None:
    settings = load_settings()
    assert settings.http.delay_seconds >= 1.0
    assert settings.http.user_agent.startswith("ringwatch/0.1.0 (+")
    assert settings.map_url().startswith("https://www.google.com/maps/d/kml?")
    assert "mid=1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB" in settings.map_url()
    assert str(settings.db_path) == "ringwatch.duckdb"


def test_environment_overrides_the_file_and_arguments_override_both(
        monkeypatch: pytest.MonkeyPatch, fast_config: Path) -> None:
    monkeypatch.setenv("RINGWATCH_CONFIG", str(fast_config))
    monkeypatch.setenv("RINGWATCH_DB", "/tmp/from-env.duckdb")
    monkeypatch.setenv("RINGWATCH_AGENCY_MAP_URL", "http://127.0.0.1:9/map.kml")
    settings = load_settings()
    assert settings.http.delay_seconds == 0.0  # from the file
    assert str(settings.db_path) == "/tmp/from-env.duckdb"
    assert settings.map_url() == "http://127.0.0.1:9/map.kml"
    assert str(load_settings(db_path="x.duckdb").db_path) == "x.duckdb"


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[http]\ndelay_secnds = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) delay_secnds in \[http\]"):
        load_settings(path)


def test_invalid_toml_and_missing_files_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[http\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/map.kml"])
def test_non_http_source_urls_are_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("RINGWATCH_AGENCY_MAP_URL", url)
    with pytest.raises(FetchError, match="only http and https"):
        load_settings()


def test_wayback_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().wayback.base_url == "https://web.archive.org"
    monkeypatch.setenv("RINGWATCH_WAYBACK_URL", "http://127.0.0.1:8080")
    settings = load_settings()
    assert settings.wayback.base_url == "http://127.0.0.1:8080" and settings.wayback.window_days == 45
