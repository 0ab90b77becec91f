"""Shared fixtures: an isolated Prefect home, one Prefect test server per session, fixtures."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Before anything imports prefect: a private PREFECT_HOME, no outside API, quiet logs.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="ringwatch-prefect-home-")
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
for _name in ("RINGWATCH_DB", "RINGWATCH_CONFIG", "RINGWATCH_AGENCY_MAP_URL"):
    os.environ.pop(_name, None)

import duckdb  # noqa: E402
import pytest  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "research" / "data"

MAP_URL = "https://www.google.com/maps/d/kml?mid=1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB&nl=1&forcekml=1"
TARGET_URL = "https://www.google.com/maps/d/kml?mid=1eYVDPh5itXq5acDT9b0BVeQwmESBa4cB&forcekml=1"
ROBOTS_URL = "https://www.google.com/robots.txt"

# Politeness and retries shrunk so failure tests run in milliseconds.
FAST_CONFIG = """
[http]
contact = "tests@example.org"
delay_seconds = 0.0
connect_timeout_seconds = 2.0
read_timeout_seconds = 2.0
total_timeout_seconds = 5.0
max_retries = 2
backoff_base_seconds = 0.0
backoff_max_seconds = 0.0
max_retry_after_seconds = 5.0
max_body_bytes = 2_000_000

[flow]
fetch_retries = 0
fetch_retry_delay_seconds = 0

[gates]
min_rows = 1
min_fraction_of_previous = 0.5
required_fields = ["name", "state"]

[sources.agency_map]
url = "{MAP_URL}"
""".replace("{MAP_URL}", MAP_URL)


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail, rather than hang the suite, if the block takes longer (SIGALRM: main thread only)."""
    def late(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, late)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def read_fixture(name: str) -> bytes:
    """Bytes of tests/fixtures/<name> (scrapy's get_testdata)."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One Prefect test server for the whole session (it takes ~20 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def fast_config(tmp_path: Path) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(FAST_CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory warehouse with every migration and view applied (sqlite-utils fresh_db)."""
    from ringwatch.warehouse.db import connect

    connection = connect(":memory:")
    yield connection
    connection.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`-n 2`, as the README's test command runs), every test that needs
    the Prefect test server runs on one worker, so only one server starts (about 20 s)."""
    for item in items:
        if item.get_closest_marker("prefect"):
            item.add_marker(pytest.mark.xdist_group("prefect"))
