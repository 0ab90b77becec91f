"""Offline: a host whose name does not resolve, or that refuses every connection, is told apart
(NetworkUnreachable), a failed name is tried twice at most, and `ringwatch sync` says once that
the network looks down and how to load data without it.

The failures are real where they can be: the `.invalid` top-level domain never resolves
(RFC 6761), and a port just closed on 127.0.0.1 refuses connections.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from click.testing import CliRunner
from urllib3.exceptions import MaxRetryError, NameResolutionError

from ringwatch.flows.cli import cli
from ringwatch.scrapers.errors import FetchError, NetworkUnreachable
from ringwatch.scrapers.http import HttpSettings, PoliteClient, unreachable_kind
from tests.conftest import FAST_CONFIG
from tests.scrapers.test_http import ROBOTS, URL, FakeTime, allow_robots

NOWHERE = "ringwatch-test.invalid"


class CountingSession(requests.Session):
    """A real session that counts the requests it was asked to make."""

    def __init__(self) -> None:
        super().__init__()
        self.tries: list[str] = []

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:
        self.tries.append(str(url))
        return super().get(url, **kwargs)


def counting_client(fake: FakeTime, **overrides: object) -> tuple[PoliteClient, CountingSession]:
    values: dict[str, object] = {"contact": "tests@example.org", "delay_seconds": 0.0, "max_retries": 4,
                                 "backoff_base_seconds": 2.0, "connect_timeout_seconds": 5.0, **overrides}
    session = CountingSession()
    settings = HttpSettings(**values)  # type: ignore[arg-type]
    return PoliteClient(settings, session=session, sleep=fake.sleep, clock=fake.clock), session


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: bound, read, closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def real_error(url: str) -> requests.RequestException:
    try:
        requests.get(url, timeout=5)
    except requests.RequestException as exc:
        return exc
    raise AssertionError(f"{url} answered")


def dns_failure(host: str) -> requests.ConnectionError:
    """The chain requests and urllib3 2 build for a name that does not resolve:
    ConnectionError(MaxRetryError(reason=NameResolutionError)) from a socket.gaierror."""
    gai = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    name = NameResolutionError(host, None, gai)  # type: ignore[arg-type]
    name.__cause__ = gai
    retry = MaxRetryError(None, "/", reason=name)  # type: ignore[arg-type]
    retry.__cause__ = name
    error = requests.ConnectionError(retry)
    error.__context__ = retry
    return error


# -- telling the failures apart, by type -------------------------------------------------


def test_the_real_failures_are_classified_by_their_exception_types() -> None:
    assert unreachable_kind(real_error(f"http://{NOWHERE}/")) == "dns"
    assert unreachable_kind(real_error(f"http://127.0.0.1:{closed_port()}/")) == "refused"
    assert unreachable_kind(dns_failure(NOWHERE)) == "dns"
    # The words alone are not the failure: only the exception chain says what happened.
    assert unreachable_kind(requests.ConnectionError("Name or service not known; Connection refused")) is None
    assert unreachable_kind(requests.ConnectionError("reset")) is None


def test_a_name_that_does_not_resolve_is_tried_twice_then_reported_unreachable() -> None:
    fake = FakeTime()
    client, session = counting_client(fake, obey_robots=False)
    began = time.monotonic()
    with pytest.raises(NetworkUnreachable) as info:
        client.fetch(f"http://{NOWHERE}/map.kml", source="agency_map")
    assert time.monotonic() - began < 10
    assert session.tries == [f"http://{NOWHERE}/map.kml"] * 2  # max_retries is 4: DNS gets one retry
    assert fake.sleeps == [2.0]
    error = info.value
    assert isinstance(error, FetchError) and error.transient  # everything that handles a FetchError still does
    assert (error.kind, error.host, error.what) == ("dns", NOWHERE, f"{NOWHERE} did not resolve")
    assert "does not resolve" in str(error) and "tried twice at most" in str(error)


def test_robots_txt_on_a_host_that_does_not_resolve_stays_unreachable() -> None:
    fake = FakeTime()
    client, session = counting_client(fake)
    retries: list[str] = []
    client._on_retry = retries.append
    with pytest.raises(NetworkUnreachable) as info:
        client.fetch(f"https://{NOWHERE}/map.kml", source="agency_map")
    assert session.tries == [f"https://{NOWHERE}/robots.txt"] * 2
    assert info.value.kind == "dns"
    assert len(retries) == 1 and "(try 2 of 2)" in retries[0]


def test_a_port_that_refuses_every_try_keeps_its_retries_and_is_then_unreachable() -> None:
    port = closed_port()
    fake = FakeTime()
    client, session = counting_client(fake, obey_robots=False, max_retries=2)
    with pytest.raises(NetworkUnreachable) as info:
        client.fetch(f"http://127.0.0.1:{port}/report", source="transparency")
    assert len(session.tries) == 3
    assert (info.value.kind, info.value.host) == ("refused", f"127.0.0.1:{port}")
    assert "Connection refused" in str(info.value) and "All 3 tries were refused" in str(info.value)


@responses.activate
def test_a_name_that_resolves_on_the_second_try_is_fetched() -> None:
    allow_robots()
    responses.add(responses.GET, URL, body=dns_failure("maps.test"))
    responses.add(responses.GET, URL, body=b"ok")
    assert PoliteClient(HttpSettings(delay_seconds=0.0), sleep=lambda s: None).fetch(URL, source="s").body == b"ok"


@responses.activate
def test_a_built_dns_failure_gives_up_after_two_tries_with_the_host_named() -> None:
    responses.add(responses.GET, ROBOTS, body=dns_failure("maps.test"))
    responses.add(responses.GET, ROBOTS, body=dns_failure("maps.test"))
    responses.add(responses.GET, ROBOTS, body=b"User-agent: *\nAllow: /\n")
    with pytest.raises(NetworkUnreachable) as info:
        PoliteClient(HttpSettings(delay_seconds=0.0), sleep=lambda s: None).fetch(URL, source="s")
    assert len(responses.calls) == 2 and info.value.host == "maps.test"


def test_refusals_mixed_with_a_server_error_are_a_plain_fetch_error() -> None:
    """Unreachable means no try reached the host: one that answered 503 did."""
    refused = real_error(f"http://127.0.0.1:{closed_port()}/")  # a real refusal, before requests is mocked
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, ROBOTS, body="User-agent: *\nAllow: /\n")
        mock.add(responses.GET, URL, body=refused)
        mock.add(responses.GET, URL, status=503)
        mock.add(responses.GET, URL, body=refused)
        client = PoliteClient(HttpSettings(delay_seconds=0.0, max_retries=2), sleep=lambda s: None)
        with pytest.raises(FetchError) as info:
            client.fetch(URL, source="s")
        assert len(mock.calls) == 4
    assert "Connection refused" in str(info.value)
    assert not isinstance(info.value, NetworkUnreachable)


# -- what `ringwatch sync` says offline --------------------------------------------------


def offline_config(tmp_path: Path, backoff: float = 0.5) -> Path:
    """Both sources on hosts that never resolve, with the default retries and a real backoff."""
    config = tmp_path / "offline.toml"
    config.write_text(
        FAST_CONFIG.replace("max_retries = 2", "max_retries = 4")
        .replace("backoff_base_seconds = 0.0", f"backoff_base_seconds = {backoff}")
        .replace("backoff_max_seconds = 0.0", "backoff_max_seconds = 4.0")
        + f'\n[sources.transparency]\nreport_urls = ["https://{NOWHERE}/report"]\nindex_urls = []\n',
        encoding="utf-8")
    return config


def test_an_offline_sync_says_once_that_the_network_looks_unreachable_and_how_to_load_without_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGWATCH_AGENCY_MAP_URL", f"https://maps.{NOWHERE}/map.kml")
    began = time.monotonic()
    result = CliRunner().invoke(cli, ["sync", "--db", str(tmp_path / "w.duckdb"),
                                      "--config", str(offline_config(tmp_path))])
    assert time.monotonic() - began < 30
    assert result.exit_code == 1, result.output
    out = result.output
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert [e.split(":")[1].strip() for e in errors] == ["agency_map", "transparency"], out
    retries = [line for line in out.splitlines() if line.startswith("retrying:")]
    assert len(retries) == 2 and all("(try 2 of 2)" in line for line in retries), out
    hints = [line for line in out.splitlines() if "network looks unreachable" in line]
    assert len(hints) == 1, out
    assert f"maps.{NOWHERE} did not resolve" in hints[0] and f"; {NOWHERE} did not resolve" in hints[0]
    assert "--from-file" in hints[0] and "import-atlas" in hints[0]
    assert "run `ringwatch sync`" not in out and "run 'ringwatch sync'" not in out
    assert "What changed" not in out  # this run changed nothing
    assert "unexpected" not in out and "Traceback" not in out


def test_a_failure_that_is_not_the_network_gives_no_offline_hint(tmp_path: Path) -> None:
    bad = tmp_path / "signin.kml"
    bad.write_bytes(b"<!DOCTYPE html><html><body>Sign in</body></html>")
    config = tmp_path / "c.toml"
    config.write_text(FAST_CONFIG, encoding="utf-8")
    result = CliRunner().invoke(cli, ["sync", "--from-file", str(bad), "--db", str(tmp_path / "w.duckdb"),
                                      "--config", str(config)])
    assert result.exit_code == 1
    assert "HTML page" in result.output and "network looks unreachable" not in result.output


def test_the_empty_warehouse_summary_names_the_offline_loads_and_no_failed_command() -> None:
    from ringwatch.warehouse.changes import ChangeSummary
    from ringwatch.warehouse.presentation.render import changes_markdown

    text = changes_markdown(ChangeSummary(quarter=None))
    assert "No agency-map snapshot is held yet" in text
    assert "--from-file" in text and "import-atlas" in text and "run `ringwatch sync`" not in text


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_server")
def test_through_prefect_an_offline_sync_gives_the_same_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    monkeypatch.setenv("RINGWATCH_AGENCY_MAP_URL", f"https://maps.{NOWHERE}/map.kml")
    result = CliRunner().invoke(cli, ["sync", "--db", str(tmp_path / "w.duckdb"),
                                      "--config", str(offline_config(tmp_path, backoff=0.0))])
    assert result.exit_code == 1, result.output
    hints = [line for line in result.output.splitlines() if "network looks unreachable" in line]
    assert len(hints) == 1 and "--from-file" in hints[0] and "import-atlas" in hints[0], result.output
