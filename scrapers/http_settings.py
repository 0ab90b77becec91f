"""What the polite HTTP client is told (HttpSettings) and which URLs it may fetch, without the
client: the settings and every command that only reads them (query, status, export) need not
import requests and the rest of the network stack."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ringwatch.scrapers import __version__
from ringwatch.scrapers.errors import FetchError

ALLOWED_SCHEMES = ("http", "https")
USER_AGENT_TOKEN = "ringwatch"


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Politeness and limits; defaults follow the scrapy template (about 1 s per host)."""

    contact: str = "https://github.com/ringwatch/ringwatch"
    delay_seconds: float = 2.0
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0
    total_timeout_seconds: float = 120.0
    max_retries: int = 4
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 120.0
    max_retry_after_seconds: float = 600.0
    max_body_bytes: int = 50_000_000
    # What a KMZ may inflate to (streamed into the parser, never held whole); None: max_body_bytes.
    max_inflated_bytes: int | None = None
    max_redirects: int = 5
    obey_robots: bool = True
    # How long one command may wait on the network in all, retries included, before it gives up
    # with an error (interactive commands; scheduled runs take [flow] patience_seconds).
    patience_seconds: float = 120.0

    @property
    def inflate_limit(self) -> int:
        return self.max_inflated_bytes if self.max_inflated_bytes is not None else self.max_body_bytes

    @property
    def user_agent(self) -> str:
        return f"{USER_AGENT_TOKEN}/{__version__} (+{self.contact})"


def check_scheme(url: str, *, context: str) -> None:
    """Refuse anything but http(s): config and redirects must not reach file:// or ftp://."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise FetchError(
            f"{context}: refusing to fetch {url!r}: only http and https URLs are allowed "
            f"(got {scheme or 'no scheme'!r}); fix the URL in the config or environment.",
            url=url,
        )
