"""The one exception family of ringwatch.

    RingwatchError                 anything ringwatch reports to a person (CLI exit 1)
    ├── ConfigError                a bad config file or environment variable
    │   └── SettingsError          a settings value of the wrong type or out of range (exit 2)
    ├── FetchError                 the network did not give us the page (url, status, transient)
    │   └── RobotsDisallowed       robots.txt forbids the URL (never transient)
    ├── ParseError(ValueError)     the bytes are not the page we expected (url, expected, snippet)
    ├── QualityGateError           parsed fine, but refused before loading (zero rows, big drop, ...)
    └── WarehouseError             the database could not be read or written

Every message is a full sentence that names the source and URL and says what to do next.
`FetchError.transient` tells the retry machinery (our HTTP client and Prefect's task
retries) whether trying again later could help: dlt's terminal/transient split.
"""

from __future__ import annotations


class RingwatchError(Exception):
    """Base class: something a person must be told about, in one clear line."""


class ConfigError(RingwatchError):
    """The configuration file or an environment variable is wrong."""


class SettingsError(ConfigError):
    """The settings file itself is wrong: a key of the wrong type or out of range (CLI exit 2)."""


class FetchError(RingwatchError):
    """The network did not give us a usable response.

    `partial` holds whatever bytes did arrive (a truncated body, an error page), so the
    caller can keep them as a raw capture before giving up.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        transient: bool = False,
        partial: object | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.transient = transient
        self.partial = partial
        self.retry_after = retry_after


class RobotsDisallowed(FetchError):
    """robots.txt forbids fetching the URL; we do not fetch it, and say so."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message, url=url, transient=False)


class ParseError(RingwatchError, ValueError):
    """The bytes are not in the layout the parser was written for."""

    def __init__(self, message: str, *, url: str, expected: str, snippet: str = "") -> None:
        detail = f" (starts with: {snippet!r})" if snippet else ""
        super().__init__(f"{message}{detail}")
        self.url = url
        self.expected = expected
        self.snippet = snippet


class QualityGateError(RingwatchError):
    """The parsed snapshot failed a quality gate and was not loaded."""

    def __init__(self, message: str, *, url: str, gate: str) -> None:
        super().__init__(message)
        self.url = url
        self.gate = gate


class WarehouseError(RingwatchError):
    """The DuckDB warehouse could not be opened, migrated, read or written."""


def snippet_of(data: bytes, length: int = 80) -> str:
    """Return the first bytes of a body as printable text, for error messages."""
    text = data[:length].decode("utf-8", errors="replace")
    return " ".join(text.split())
