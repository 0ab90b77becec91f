"""A sync killed with SIGKILL inside its load transaction leaves the earlier snapshots intact
and no partial quarter, and the next sync succeeds; two CLI writers at once each end clearly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from bench.synthetic_map import synthetic_map_kml
from tests.faults.conftest import CONFIG, EARLIER
from tests.faults.test_faults import ROOT, dump, held_quarters

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_server")]


def start_sync(db: Path, quarter: str, *, pause: float | None = None, marker: Path | None = None
               ) -> subprocess.Popen[str]:
    from prefect.settings import PREFECT_API_URL

    kml = db.with_name(f"{quarter}.kml")
    kml.write_bytes(synthetic_map_kml(12, seed=3))
    config = db.with_name("crash.toml")
    config.write_text(CONFIG, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "RINGWATCH_CONFIG": str(config), "RINGWATCH_DB": str(db)}
    if pause is not None and marker is not None:
        env |= {"RINGWATCH_TEST_PAUSE_IN_LOAD": str(pause), "RINGWATCH_TEST_PAUSE_MARKER": str(marker)}
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "sync", "--from-file", str(kml), "--quarter",
                             quarter], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(marker: Path, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sync never reached its load"
        time.sleep(0.05)


def test_sigkill_inside_the_load_keeps_every_earlier_snapshot_and_no_partial_quarter(db: Path) -> None:
    before = dump(db)
    marker = db.with_name("in-transaction")
    victim = start_sync(db, "2024Q3", pause=60, marker=marker)
    wait_for(marker, victim)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert dump(db) == before
    assert held_quarters(db) == list(EARLIER)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM agency_snapshots WHERE quarter = '2024Q3'").fetchone() == (0,)
    assert con.execute("SELECT status FROM sync_runs ORDER BY run_id DESC LIMIT 1").fetchone() == ("running",)
    con.close()
    # the next sync succeeds, and the dead run is recorded as interrupted
    after = start_sync(db, "2024Q3")
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0, err
    assert "agency_map 2024Q3: loaded 12 agencies" in out
    assert held_quarters(db) == [*EARLIER, "2024Q3"]
    con = duckdb.connect(str(db), read_only=True)
    statuses = con.execute("SELECT status, coalesce(error LIKE 'interrupted:%', false) FROM sync_runs "
                           "ORDER BY run_id").fetchall()
    con.close()
    assert statuses == [("success", False), ("success", False), ("failed", True), ("success", False)]


def test_two_cli_writers_at_once_each_end_clearly(db: Path) -> None:
    marker = db.with_name("first-in-load")
    first = start_sync(db, "2024Q3", pause=2, marker=marker)
    wait_for(marker, first)
    second = start_sync(db, "2024Q4")  # waits for the writer lock, then loads
    out_first, err_first = first.communicate(timeout=120)
    out_second, err_second = second.communicate(timeout=120)
    assert (first.returncode, second.returncode) == (0, 0), err_first + err_second
    assert "agency_map 2024Q3: loaded 12 agencies" in out_first
    assert "agency_map 2024Q4: loaded 12 agencies" in out_second
    assert held_quarters(db) == [*EARLIER, "2024Q3", "2024Q4"]
