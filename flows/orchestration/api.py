"""Whether a Prefect API is configured, and whether it answers, without importing Prefect.

The CLI runs a command through Prefect only when an API is configured, so that importing
Prefect (seconds) and starting its temporary server (more) are paid only by those who want
their runs in the Prefect UI. This asks the configured API, never a site: it is not scraping.
"""

from __future__ import annotations

import os
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

from ringwatch.scrapers.errors import ConfigError


def configured_api() -> str | None:
    """PREFECT_API_URL, else the active Prefect profile's PREFECT_API_URL, else None."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    try:
        data = tomllib.loads((home / "profiles.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    value = data.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
    return str(value) if value else None


def check_answers(url: str, *, timeout_seconds: float = 5.0) -> None:
    """One line naming the API when it does not answer its health check."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout_seconds) as response:
            if response.status >= 400:
                raise ConfigError(f"the Prefect API at {url} answers its health check with {response.status}.")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"the Prefect API at {url} (PREFECT_API_URL or the active Prefect profile) does not answer "
            f"({reason}); start it ('prefect server start'), or unset PREFECT_API_URL to run without "
            "Prefect.") from None
