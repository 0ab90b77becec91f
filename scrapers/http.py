"""The polite HTTP client: the only code in ringwatch that talks to the network.

Politeness, in the order a request meets it: only http(s); robots.txt (RFC 9309, read
once per host); one request at a time per host with a delay between them; an identifying
User-Agent; timeouts on connect, on each read and on the whole body; a cap on body size;
retries with exponential backoff on connection errors, 429 and 5xx, honouring Retry-After;
redirects followed by hand so that each hop meets the same checks.

A host that cannot be reached at all is told apart (NetworkUnreachable): a name that does not
resolve is tried twice at most (a machine without DNS will not get it in the next minute), a
refused connection gets its usual retries and is called unreachable when every try was refused.
"""

from __future__ import annotations

import email.utils
import errno
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import requests

from ringwatch.scrapers.errors import FetchError, NetworkUnreachable, RobotsDisallowed
from ringwatch.scrapers.http_settings import USER_AGENT_TOKEN
from ringwatch.scrapers.http_settings import HttpSettings as HttpSettings  # re-exported: the client's settings
from ringwatch.scrapers.http_settings import check_scheme as check_scheme
from ringwatch.scrapers.records import Capture
from ringwatch.scrapers.robots import MAX_ROBOTS_BYTES, RobotsPolicy, parse_robots

log = logging.getLogger(__name__)

# Small reads: when a connection breaks, what arrived in whole chunks is kept as evidence.
_CHUNK = 4 * 1024
# A failed name lookup; urllib3 1.26 has no NameResolutionError (its NewConnectionError then
# comes from the socket.gaierror alone).
_NO_NAME: tuple[type[BaseException], ...] = (socket.gaierror,)
try:
    from urllib3.exceptions import NameResolutionError

    _NO_NAME += (NameResolutionError,)
except ImportError:  # pragma: no cover
    pass


class PoliteClient:
    """Fetch URLs politely and return `Capture` records with their provenance.

    `sleep` and `clock` are injectable so tests can run the retry and delay logic without
    waiting; production uses the real ones.
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_retry: Callable[[str], None] | None = None,
        deadline: float | None = None,
    ) -> None:
        """`on_retry` hears one line per retry (what failed, when the next try comes, try k of
        n); `deadline` (on `clock`) is when the command's patience runs out, shared by every
        client of one command: default, `patience_seconds` from now."""
        self.settings = settings or HttpSettings()
        self._on_retry = on_retry
        self.deadline = deadline if deadline is not None else clock() + self.settings.patience_seconds
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = self.settings.user_agent
        self._sleep = sleep
        self._clock = clock
        self._robots: dict[str, RobotsPolicy] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._last_request: dict[str, float] = {}
        self._locks_guard = threading.Lock()

    # -- public -------------------------------------------------------------------------

    def reset_patience(self) -> None:
        """Start a new patience period (a long job such as a backfill gives each of its
        fetches the whole patience, instead of one for the command)."""
        self.deadline = self._clock() + self.settings.patience_seconds

    def fetch(
        self,
        url: str,
        *,
        source: str,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Capture:
        """GET `url` (following redirects by hand) and return the final response's capture.

        Sends If-None-Match / If-Modified-Since when validators are given; a 304 comes back
        as a capture with an empty body. Raises FetchError (transient or not) otherwise.
        """
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        seen: list[str] = []
        for _hop in range(self.settings.max_redirects + 1):
            check_scheme(current, context=source)
            self._check_robots(current, source=source)
            capture, location = self._get_with_retries(current, source=source, headers=headers)
            if location is None:
                return capture
            seen.append(current)
            current = urljoin(current, location)
            if current in seen:
                raise FetchError(
                    f"{source}: redirect loop at {url} ({' -> '.join([*seen, current])}); "
                    "the site is misconfigured, try again later.",
                    url=url,
                    status=capture.http_status,
                )
        raise FetchError(
            f"{source}: more than {self.settings.max_redirects} redirects starting at {url}; "
            "the URL has probably moved, check it in the config.",
            url=url,
        )

    # -- robots.txt ---------------------------------------------------------------------

    def _check_robots(self, url: str, *, source: str) -> None:
        if not self.settings.obey_robots:
            return
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        policy = self._robots.get(origin)
        if policy is None:
            policy = self._fetch_robots(origin, source=source)
            self._robots[origin] = policy
        rule = policy.decide(url)
        if rule is not None and not rule.allow:
            raise RobotsDisallowed(
                f"{source}: {origin}/robots.txt disallows {url} for {USER_AGENT_TOKEN} "
                f"(rule 'Disallow: {rule.pattern}'); ringwatch will not fetch it. "
                "Use a saved copy with 'ringwatch sync --from-file' or an allowed URL.",
                url=url,
            )

    def _fetch_robots(self, origin: str, *, source: str) -> RobotsPolicy:
        """Read robots.txt once per host, with RFC 9309's answers to failures.

        4xx: no rules apply (allow all). 5xx or unreachable after retries: assume complete
        disallow, which we surface as a transient error rather than a silent skip.
        """
        robots_url = f"{origin}/robots.txt"
        current = robots_url
        for _hop in range(self.settings.max_redirects + 1):
            try:
                capture, location = self._get_with_retries(
                    current, source=source, headers={}, body_cap=MAX_ROBOTS_BYTES
                )
            except NetworkUnreachable:
                raise  # the host was never reached: there is no robots.txt answer to speak of
            except FetchError as exc:
                if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                    return RobotsPolicy.allow_all()
                raise FetchError(
                    f"{source}: {robots_url} is unreachable ({exc}); RFC 9309 says to treat "
                    "the whole site as disallowed, so nothing was fetched. Try again later.",
                    url=robots_url,
                    status=exc.status,
                    transient=True,
                ) from exc
            if location is None:
                text = capture.body.decode("utf-8", errors="replace")
                return parse_robots(text, USER_AGENT_TOKEN)
            current = urljoin(current, location)
            check_scheme(current, context=source)
        return RobotsPolicy.allow_all()  # RFC 9309 2.3.1.2: too many redirects = unavailable

    # -- one URL, with retries ----------------------------------------------------------

    def _get_with_retries(
        self,
        url: str,
        *,
        source: str,
        headers: dict[str, str],
        body_cap: int | None = None,
    ) -> tuple[Capture, str | None]:
        attempts = self.settings.max_retries + 1
        unreachable = 0  # tries that never reached the host (no name, or refused)
        no_name = 0  # of which the name did not resolve
        for attempt in range(1, attempts + 1):
            self._check_patience(url, source=source)
            try:
                return self._get_once(url, source=source, headers=headers, body_cap=body_cap)
            except FetchError as exc:
                kind = unreachable_kind(exc)
                unreachable += kind is not None
                no_name += kind == "dns"
                every_try = kind is not None and unreachable == attempt  # never reached the host
                if no_name >= 2 or (kind == "dns" and attempt == attempts):
                    raise _unreachable(f"{exc} Gave up after try {attempt} of {attempts}: a host name that "
                                       "does not resolve is tried twice at most.", exc, kind="dns") from exc
                if not exc.transient or attempt == attempts:
                    if every_try and kind is not None:
                        raise _unreachable(f"{exc} All {attempt} tries were refused.", exc, kind=kind) from exc
                    raise
                wait = self._backoff(attempt, exc)
                left = self.deadline - self._clock()
                if wait > left:
                    asked = (" (the server's Retry-After)"
                             if exc.retry_after is not None and wait >= exc.retry_after else "")
                    message = (
                        f"{exc} Gave up after try {attempt} of {attempts}: the next try would come in "
                        f"{wait:.0f} s{asked}, after the {self.settings.patience_seconds:.0f} s this command "
                        "waits on the network ([http] patience_seconds, or [flow] patience_seconds for "
                        "scheduled runs). Run it again later."
                    )
                    if every_try and kind is not None:
                        raise _unreachable(message, exc, kind=kind) from exc
                    raise FetchError(message, url=exc.url, status=exc.status, transient=True,
                                     partial=exc.partial) from exc
                last = attempt + 1 if kind == "dns" else attempts
                line = f"{exc} Next try in {wait:.0f} s (try {attempt + 1} of {last})."
                log.warning("%s", line)
                if self._on_retry is not None:
                    self._on_retry(line)
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_patience(self, url: str, *, source: str) -> None:
        if self._clock() >= self.deadline:
            raise FetchError(
                f"{source}: gave up before fetching {url}: this command has waited its "
                f"{self.settings.patience_seconds:.0f} s on the network ([http] patience_seconds). "
                "Run it again later.",
                url=url, transient=True,
            )

    def _backoff(self, attempt: int, exc: FetchError) -> float:
        wait = min(
            self.settings.backoff_base_seconds * float(2 ** (attempt - 1)),
            self.settings.backoff_max_seconds,
        )
        retry_after = exc.retry_after
        if retry_after is not None:
            if retry_after > self.settings.max_retry_after_seconds:
                raise FetchError(
                    f"{exc} The server asked us to wait {retry_after:.0f} s (Retry-After), "
                    f"longer than the {self.settings.max_retry_after_seconds:.0f} s we wait; "
                    "run the sync again later.",
                    url=exc.url,
                    status=exc.status,
                    transient=True,
                    partial=exc.partial,
                ) from exc
            wait = max(wait, retry_after)
        return wait

    def _get_once(
        self,
        url: str,
        *,
        source: str,
        headers: dict[str, str],
        body_cap: int | None,
    ) -> tuple[Capture, str | None]:
        """One request, spaced from the previous one to the same host by the delay."""
        host = urlsplit(url).netloc.lower()
        with self._host_lock(host):
            self._wait_for_turn(host)
            try:
                return self._request(url, source=source, headers=headers, body_cap=body_cap)
            finally:
                self._last_request[host] = self._clock()

    def _host_lock(self, host: str) -> threading.Lock:
        with self._locks_guard:
            return self._host_locks.setdefault(host, threading.Lock())

    def _wait_for_turn(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is None:
            return
        remaining = self.settings.delay_seconds - (self._clock() - last)
        if remaining > 0:
            self._sleep(remaining)

    def _request(
        self,
        url: str,
        *,
        source: str,
        headers: dict[str, str],
        body_cap: int | None,
    ) -> tuple[Capture, str | None]:
        s = self.settings
        cap = body_cap if body_cap is not None else s.max_body_bytes
        fetched_at = datetime.now(UTC)
        left = max(self.deadline - self._clock(), 0.5)
        try:
            response = self.session.get(
                url,
                headers=headers,
                timeout=(min(s.connect_timeout_seconds, left), min(s.read_timeout_seconds, left)),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            raise FetchError(
                f"{source}: {url} did not answer within the timeout ({exc.__class__.__name__}).",
                url=url,
                transient=True,
            ) from exc
        except requests.RequestException as exc:
            raise FetchError(
                f"{source}: could not connect to {url} ({_reason(exc)}).",
                url=url,
                transient=True,
            ) from exc
        with response:
            body, complete, problem = self._read_body(response, cap=cap, url=url, source=source)
        capture = Capture(
            source=source,
            url=url,
            fetched_at=fetched_at,
            http_status=response.status_code,
            content_type=response.headers.get("Content-Type"),
            body=body,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            complete=complete,
        )
        if problem is not None:
            message, transient = problem
            raise FetchError(message, url=url, status=response.status_code,
                             transient=transient, partial=capture)
        return self._judge_status(capture, response, source=source)

    def _read_body(
        self, response: requests.Response, *, cap: int, url: str, source: str
    ) -> tuple[bytes, bool, tuple[str, bool] | None]:
        """Read the body under the size cap and the overall deadline.

        Returns the bytes, whether they are complete, and a (message, transient) problem.
        A body cut short keeps what arrived so that it can be stored as evidence.
        """
        declared = ascii_int(response.headers.get("Content-Length"))
        if declared is not None and declared > cap:
            return b"", False, (
                f"{source}: {url} announces {declared:,} bytes, more than the cap of "
                f"{cap:,} bytes (http.max_body_bytes); raise the cap if the page really grew.",
                False,
            )
        chunks: list[bytes] = []
        size = 0
        deadline = self._clock() + self.settings.total_timeout_seconds
        try:
            for chunk in response.iter_content(_CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    return b"".join(chunks)[:cap], False, (
                        f"{source}: {url} sent more than the cap of {cap:,} bytes "
                        "(http.max_body_bytes); the download was stopped.",
                        False,
                    )
                if self._clock() > deadline:
                    return b"".join(chunks), False, (
                        f"{source}: {url} took longer than "
                        f"{self.settings.total_timeout_seconds:.0f} s to send its body.",
                        True,
                    )
        except requests.RequestException as exc:
            if declared is not None and "IncompleteRead" in str(exc):
                return b"".join(chunks), False, (
                    f"{source}: {url} closed the connection after {size:,} of the {int(declared):,} bytes "
                    "it announced; the body is truncated.",
                    True,
                )
            return b"".join(chunks), False, (
                f"{source}: the connection to {url} broke after {size:,} bytes "
                f"({exc.__class__.__name__}); the body is incomplete.",
                True,
            )
        body = b"".join(chunks)
        wire = response.raw.tell() if hasattr(response.raw, "tell") else len(body)
        if (
            declared is not None
            and not response.headers.get("Content-Encoding")
            and max(wire, len(body)) < int(declared)
        ):
            return body, False, (
                f"{source}: {url} sent {len(body):,} of the {int(declared):,} bytes it announced; "
                "the body is truncated.",
                True,
            )
        return body, True, None

    def _judge_status(
        self, capture: Capture, response: requests.Response, *, source: str
    ) -> tuple[Capture, str | None]:
        status = capture.http_status
        url = capture.url
        if status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                raise FetchError(f"{source}: {url} redirected ({status}) with no Location.",
                                 url=url, status=status, partial=capture)
            return capture, location
        if status == 304 or 200 <= status < 300:
            return capture, None
        if status == 429 or status >= 500:
            raise FetchError(
                f"{source}: {url} answered HTTP {status}"
                f"{' (rate limited)' if status == 429 else ' (server error)'}.",
                url=url, status=status, transient=True, partial=capture,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        hint = "the URL has probably moved; check it in the config" if status in (404, 410) \
            else "the site refused the request"
        raise FetchError(f"{source}: {url} answered HTTP {status}; {hint}.",
                         url=url, status=status, partial=capture)


def _reason(exc: requests.RequestException) -> str:
    """The root of a connection error in a few words ("Connection refused"), not urllib3's
    nested repr."""
    if unreachable_kind(exc) == "dns":
        return "the host name does not resolve"
    text = str(exc)
    found: list[str] = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if found:
        return str(found[-1]).strip()
    return exc.__class__.__name__


def unreachable_kind(exc: BaseException) -> str | None:
    """"dns" when the chain of causes holds a failed name lookup, "refused" when it holds a
    refused connection, else None.

    Read from the exception types, not their text: requests wraps urllib3's MaxRetryError,
    whose `reason` is a NameResolutionError (from a socket.gaierror) or a NewConnectionError
    (from a ConnectionRefusedError); the links are `args`, `reason`, `__cause__` and
    `__context__`, walked without recursion and each once.
    """
    found: str | None = None
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _NO_NAME):
            return "dns"
        if isinstance(current, ConnectionRefusedError) or (
                isinstance(current, OSError) and current.errno == errno.ECONNREFUSED):
            found = "refused"
        links = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        stack.extend(link for link in links if isinstance(link, BaseException))
    return found


def _unreachable(message: str, exc: FetchError, *, kind: str) -> NetworkUnreachable:
    parts = urlsplit(exc.url)
    host = (parts.hostname or parts.netloc) if kind == "dns" else parts.netloc
    return NetworkUnreachable(message, url=exc.url, host=host, kind=kind, partial=exc.partial)


def ascii_int(value: str | None) -> int | None:
    """A header's whole number in ASCII digits, else None. (str.isdigit accepts "²" and
    other Unicode digits that int() then refuses.)"""
    if value is None:
        return None
    text = value.strip()
    return int(text) if _ASCII_DIGITS.fullmatch(text) else None


_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    seconds = ascii_int(value)
    if seconds is not None:
        return float(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
