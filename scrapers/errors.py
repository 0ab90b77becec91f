"""The one exception family of ringwatch.

    RingwatchError                 anything ringwatch reports to a person (CLI exit 1)
    ├── ConfigError                a bad argument or service setup (unknown source, Prefect API down)
    │   └── SettingsError          anything wrong in the settings or the files they name (exit 2)
    ├── FetchError                 the network did not give us the page (url, status, transient)
    │   ├── RobotsDisallowed       robots.txt forbids the URL (never transient)
    │   └── NetworkUnreachable     the host name did not resolve, or every connection was refused
    ├── ParseError(ValueError)     the bytes are not the page we expected (url, expected, snippet)
    ├── QualityGateError           parsed fine, but refused before loading (zero rows, big drop, ...)
    ├── WarehouseError             the database could not be read or written
    └── OutputRefused              an --out path would overwrite the database or a stranger's files

Every message is a full sentence that names the source and URL and says what to do next.
`FetchError.transient` tells the retry machinery (our HTTP client and Prefect's task
retries) whether trying again later could help: dlt's terminal/transient split.
"""

from __future__ import annotations


class RingwatchError(Exception):
    """Base class: something a person must be told about, in one clear line."""


class ConfigError(RingwatchError):
    """What a command was given or depends on is wrong, outside the settings (an unknown
    source, a Prefect API that does not answer)."""


class SettingsError(ConfigError):
    """The settings are wrong: the file, a section, key or value, an environment variable
    that overrides one, or the aliases file it names. One class, so the CLI exits 2 for all
    of them, before any command does anything."""


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


class NetworkUnreachable(FetchError):
    """The host could not be reached at all: its name did not resolve, or it refused every try.

    A subclass, so that everything that handles a FetchError still does, while the CLI can tell
    a machine without a network apart (by type, not message text) and point once to the
    offline loads. `kind` is "dns" or "refused"; `host` is what could not be reached.
    """

    def __init__(self, message: str, *, url: str, host: str, kind: str, partial: object | None = None) -> None:
        super().__init__(message, url=url, transient=True, partial=partial)
        self.host = host
        self.kind = kind

    @property
    def what(self) -> str:
        """A few words for a summary line: "api.ring.com did not resolve"."""
        if self.kind == "dns":
            return f"{self.host} did not resolve"
        return f"{self.host} refused every connection"


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


class DatabaseBusy(WarehouseError):
    """Another process holds DuckDB's own lock on the file: worth waiting for, unlike every
    other failure to open it (a file that is not a database, a folder, no permission)."""


class OutputRefused(RingwatchError):
    """`export` or `report` was pointed where writing would lose something ringwatch did not write."""


def snippet_of(data: bytes, length: int = 80) -> str:
    """Return the first bytes of a body as printable text, for error messages."""
    text = data[:length].decode("utf-8", errors="replace")
    return " ".join(text.split())


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so every job stops the same way."""


def reason_of(exc: BaseException) -> str:
    """The one line an attempt stopped by `exc` records as its error (sync_runs.error)."""
    if isinstance(exc, KeyboardInterrupt):
        by = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C (SIGINT)"
        return f"interrupted: stopped by {by}; nothing it was loading was kept"
    if isinstance(exc, RingwatchError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"
