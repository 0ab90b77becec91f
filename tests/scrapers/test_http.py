from __future__ import annotations

import hashlib

import pytest
import requests
import responses

from ringwatch.scrapers.errors import FetchError, RobotsDisallowed
from ringwatch.scrapers.http import HttpSettings, PoliteClient, parse_retry_after

URL = "https://maps.test/maps/d/kml?mid=abc&forcekml=1"
ROBOTS = "https://maps.test/robots.txt"


class FakeTime:
    """A clock that advances only when slept on, so waits can be asserted exactly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def clock(self) -> float:
        return self.now


def client(fake: FakeTime | None = None, **overrides: object) -> PoliteClient:
    fake = fake or FakeTime()
    values: dict[str, object] = {"contact": "tests@example.org", "delay_seconds": 0.0,
                                 "max_retries": 2, "backoff_base_seconds": 1.0, **overrides}
    settings = HttpSettings(**values)  # type: ignore[arg-type]
    return PoliteClient(settings, sleep=fake.sleep, clock=fake.clock)


def allow_robots() -> None:
    responses.add(responses.GET, ROBOTS, body="User-agent: *\nAllow: /\n")


@responses.activate
def test_fetch_sends_identifying_user_agent_and_returns_provenance() -> None:
    allow_robots()
    responses.add(responses.GET, URL, body=b"<kml/>", content_type="application/vnd.google-earth.kml+xml",
                  headers={"ETag": '"v1"'})
    capture = client().fetch(URL, source="agency_map")
    sent = responses.calls[1].request
    assert sent.headers["User-Agent"] == "ringwatch/0.1.0 (+tests@example.org)"
    assert (capture.http_status, capture.body, capture.etag) == (200, b"<kml/>", '"v1"')
    assert capture.content_type == "application/vnd.google-earth.kml+xml"
    assert capture.sha256 == hashlib.sha256(b"<kml/>").hexdigest()
    assert capture.fetched_at.tzinfo is not None


@responses.activate
def test_robots_is_read_once_per_host() -> None:
    allow_robots()
    responses.add(responses.GET, URL, body=b"a")
    responses.add(responses.GET, URL, body=b"b")
    c = client()
    c.fetch(URL, source="agency_map")
    c.fetch(URL, source="agency_map")
    assert [call.request.url for call in responses.calls].count(ROBOTS) == 1


@responses.activate
def test_disallowed_url_is_a_clear_error_and_never_fetched() -> None:
    responses.add(responses.GET, ROBOTS, body="User-agent: *\nDisallow: /maps/\n")
    with pytest.raises(RobotsDisallowed, match=r"agency_map: .*robots.txt disallows .*maps/d/kml") as info:
        client().fetch(URL, source="agency_map")
    assert info.value.transient is False
    assert len(responses.calls) == 1  # only robots.txt


@responses.activate
def test_missing_robots_allows_everything() -> None:
    responses.add(responses.GET, ROBOTS, status=404)
    responses.add(responses.GET, URL, body=b"ok")
    assert client().fetch(URL, source="agency_map").body == b"ok"


@responses.activate
def test_unreachable_robots_means_disallow_all_and_is_transient() -> None:
    responses.add(responses.GET, ROBOTS, status=503)
    with pytest.raises(FetchError, match="robots.txt is unreachable") as info:
        client().fetch(URL, source="agency_map")
    assert info.value.transient
    assert all(call.request.url == ROBOTS for call in responses.calls)


@responses.activate
def test_503_twice_then_success_backs_off_exponentially() -> None:
    allow_robots()
    responses.add(responses.GET, URL, status=503)
    responses.add(responses.GET, URL, status=503)
    responses.add(responses.GET, URL, body=b"third time")
    fake = FakeTime()
    assert client(fake).fetch(URL, source="agency_map").body == b"third time"
    assert fake.sleeps == [1.0, 2.0]


@responses.activate
def test_429_honours_retry_after() -> None:
    allow_robots()
    responses.add(responses.GET, URL, status=429, headers={"Retry-After": "7"})
    responses.add(responses.GET, URL, body=b"ok")
    fake = FakeTime()
    assert client(fake).fetch(URL, source="agency_map").body == b"ok"
    assert fake.sleeps == [7.0]


@responses.activate
def test_retry_after_beyond_the_limit_gives_up_transiently() -> None:
    allow_robots()
    responses.add(responses.GET, URL, status=429, headers={"Retry-After": "86400"})
    with pytest.raises(FetchError, match="asked us to wait 86400 s") as info:
        client(max_retry_after_seconds=60.0).fetch(URL, source="agency_map")
    assert info.value.transient


@responses.activate
def test_persistent_503_ends_transient_with_the_error_page_kept() -> None:
    allow_robots()
    for _ in range(3):
        responses.add(responses.GET, URL, status=503, body=b"<html>busy</html>")
    with pytest.raises(FetchError, match=r"answered HTTP 503") as info:
        client().fetch(URL, source="agency_map")
    assert info.value.transient and info.value.status == 503
    assert info.value.partial.body == b"<html>busy</html>"  # type: ignore[union-attr]


@responses.activate
def test_404_is_terminal_and_not_retried() -> None:
    allow_robots()
    responses.add(responses.GET, URL, status=404, body=b"not here")
    with pytest.raises(FetchError, match="answered HTTP 404; the URL has probably moved") as info:
        client().fetch(URL, source="agency_map")
    assert not info.value.transient
    assert len(responses.calls) == 2


@responses.activate
def test_connection_errors_are_retried() -> None:
    allow_robots()
    responses.add(responses.GET, URL, body=requests.ConnectionError("reset"))
    responses.add(responses.GET, URL, body=requests.ConnectTimeout("slow"))
    responses.add(responses.GET, URL, body=b"ok")
    assert client().fetch(URL, source="agency_map").body == b"ok"


@responses.activate
def test_timeouts_are_passed_to_requests() -> None:
    allow_robots()
    responses.add(responses.GET, URL, body=b"ok")
    client(connect_timeout_seconds=3.0, read_timeout_seconds=9.0).fetch(URL, source="agency_map")
    assert responses.calls[1].request.req_kwargs["timeout"] == (3.0, 9.0)


@responses.activate
def test_body_over_the_cap_is_refused() -> None:
    allow_robots()
    responses.add(responses.GET, URL, body=b"x" * 5000, auto_calculate_content_length=True)
    with pytest.raises(FetchError, match="cap of 1,000 bytes") as info:
        client(max_body_bytes=1000).fetch(URL, source="agency_map")
    assert not info.value.transient


@responses.activate
def test_streamed_body_over_the_cap_is_cut_off() -> None:
    allow_robots()
    responses.add(responses.GET, URL, body=b"x" * 300_000)  # no Content-Length
    with pytest.raises(FetchError, match="sent more than the cap") as info:
        client(max_body_bytes=100_000).fetch(URL, source="agency_map")
    assert len(info.value.partial.body) == 100_000  # type: ignore[union-attr]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://maps.test/x.kml", "gopher://x"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        client().fetch(url, source="agency_map")


@responses.activate
def test_redirect_to_file_scheme_is_refused() -> None:
    allow_robots()
    responses.add(responses.GET, URL, status=302, headers={"Location": "file:///etc/passwd"})
    with pytest.raises(FetchError, match="only http and https"):
        client().fetch(URL, source="agency_map")


@responses.activate
def test_redirect_loop_is_reported() -> None:
    allow_robots()
    other = "https://maps.test/other"
    responses.add(responses.GET, URL, status=302, headers={"Location": other})
    responses.add(responses.GET, other, status=302, headers={"Location": URL})
    with pytest.raises(FetchError, match="redirect loop"):
        client().fetch(URL, source="agency_map")


@responses.activate
def test_redirect_to_another_host_checks_that_hosts_robots() -> None:
    allow_robots()
    target = "https://cdn.test/map.kml"
    responses.add(responses.GET, URL, status=302, headers={"Location": target})
    responses.add(responses.GET, "https://cdn.test/robots.txt", body="User-agent: *\nDisallow: /\n")
    with pytest.raises(RobotsDisallowed, match="cdn.test/robots.txt disallows"):
        client().fetch(URL, source="agency_map")


@responses.activate
def test_conditional_get_sends_validators_and_accepts_304() -> None:
    allow_robots()
    responses.add(responses.GET, URL, status=304)
    capture = client().fetch(URL, source="agency_map", etag='"v1"',
                             last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    headers = responses.calls[1].request.headers
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert (capture.http_status, capture.body) == (304, b"")


@responses.activate
def test_requests_to_one_host_are_spaced_by_the_delay() -> None:
    allow_robots()
    responses.add(responses.GET, URL, body=b"1")
    responses.add(responses.GET, URL, body=b"2")
    fake = FakeTime()
    c = client(fake, delay_seconds=2.5)
    c.fetch(URL, source="agency_map")
    c.fetch(URL, source="agency_map")
    # robots.txt, then the first fetch after 2.5 s, then the second after another 2.5 s.
    assert fake.sleeps == [2.5, 2.5]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
