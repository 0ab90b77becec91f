"""The real `ringwatch` command in a process of its own, for what only a process shows: a dead
network given up on within the patience, Ctrl-C and SIGTERM, a reader while a fetch waits.

Each runs with no Prefect API configured, so the command runs in-process (no temporary
Prefect server) as a user's shell would run it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.synthetic_map import synthetic_map_kml
from tests.fake_site import FakeSite, running, slow
from tests.faults.conftest import CONFIG, EARLIER
from tests.faults.test_faults import KML, ROOT, TARGET_PATH, WRAPPER_PATH, held_quarters, last_run, wrapper_for

# Patient enough to still be waiting on the slow page when the signal comes.
SLOW_CONFIG = CONFIG.replace("read_timeout_seconds = 1.0", "read_timeout_seconds = 30.0").replace(
    "total_timeout_seconds = 4.0", "total_timeout_seconds = 30.0")


@pytest.fixture
def slow_site() -> Iterator[FakeSite]:
    fake = FakeSite()
    with running(fake) as started:
        started.serve("/robots.txt", b"User-agent: *\nAllow: /\n")
        started.serve(WRAPPER_PATH, wrapper_for(started), content_type=KML)
        started.routes[TARGET_PATH] = slow(20, synthetic_map_kml(12, seed=3))
        yield started


def start(db: Path, config_text: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    config = db.with_name("process.toml")
    config.write_text(config_text, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    environment |= {"PYTHONPATH": str(ROOT), "RINGWATCH_CONFIG": str(config), "RINGWATCH_DB": str(db), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "ringwatch.flows.cli", *args], cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=as_from_a_terminal)


def as_from_a_terminal() -> None:
    """In the child, before it runs: Ctrl-C and SIGTERM as a shell gives them (default and
    unblocked), whatever an earlier test left in this xdist worker (a clean-clone CI run twice saw
    the command started here ignore Ctrl-C, while it answered at once when run on its own)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def wait_for_request(site: FakeSite, path: str, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while site.calls[path] == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the command never asked for the page"
        time.sleep(0.05)


def test_an_unreachable_host_ends_both_sources_with_one_error_line_each_within_the_patience(db: Path) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port here: connection refused
    config = (CONFIG.replace("backoff_base_seconds = 0.0", "backoff_base_seconds = 1.0")
              .replace("backoff_max_seconds = 0.0", "backoff_max_seconds = 2.0")
              .replace("max_retries = 2", "max_retries = 6")
              + f'\n[sources.transparency]\nreport_urls = ["{dead}/report"]\nindex_urls = []\n')
    config = config.replace("[http]\n", "[http]\npatience_seconds = 4.0\n", 1)
    began = time.monotonic()
    process = start(db, config, "sync", "--quarter", "2024Q3", env={"RINGWATCH_AGENCY_MAP_URL": f"{dead}/map.kml"})
    out, err = process.communicate(timeout=60)
    took = time.monotonic() - began
    assert process.returncode == 1, err
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert [e.split(":")[1].strip() for e in errors] == ["agency_map", "transparency"], err
    assert all("Connection refused" in e and "patience_seconds" in e for e in errors), errors
    assert any(line.startswith("retrying: agency_map:") and "(try 2 of 7)" in line for line in err.splitlines())
    assert "Traceback" not in err
    assert took < 4.0 + 6.0, took  # the patience, plus Python's start and the database work
    assert held_quarters(db) == list(EARLIER)


@pytest.mark.parametrize(("sig", "code", "by"), [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_during_a_slow_fetch_ends_the_command_in_one_line(
        slow_site: FakeSite, db: Path, sig: signal.Signals, code: int, by: str) -> None:
    process = start(db, SLOW_CONFIG, "sync", "--source", "agency_map", "--quarter", "2024Q3",
                    env={"RINGWATCH_AGENCY_MAP_URL": slow_site.url(WRAPPER_PATH)})
    wait_for_request(slow_site, TARGET_PATH, process)
    sent = time.monotonic()
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - sent < 5
    assert process.returncode == code, err
    assert err.strip().splitlines() == [
        f"Interrupted by {by}: stopped; an attempt under way is recorded as failed (interrupted) and nothing "
        "partial was written."]
    status, error = last_run(db)
    assert status == "failed" and error is not None and error.startswith("interrupted: stopped by")
    assert held_quarters(db) == list(EARLIER)


def test_a_reader_is_answered_while_a_sync_waits_on_the_network(slow_site: FakeSite, db: Path) -> None:
    writer = start(db, SLOW_CONFIG, "sync", "--source", "agency_map", "--quarter", "2024Q3",
                   env={"RINGWATCH_AGENCY_MAP_URL": slow_site.url(WRAPPER_PATH)})
    try:
        wait_for_request(slow_site, TARGET_PATH, writer)
        reader = start(db, SLOW_CONFIG, "query", "SELECT count(*) AS quarters FROM snapshots")
        out, err = reader.communicate(timeout=30)
        assert reader.returncode == 0, err
        assert "2" in out.splitlines()[2]
        status = start(db, SLOW_CONFIG, "status")
        out, err = status.communicate(timeout=30)
        assert status.returncode == 0, err
        assert "last attempt" in out and "running" in out
    finally:
        writer.send_signal(signal.SIGINT)
        writer.communicate(timeout=30)
