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

from bench.synthetic_map import synthetic_map_kml
from tests.faults.conftest import CONFIG, EARLIER
from tests.faults.test_faults import ROOT, dump, held_quarters

# The sync job in a process of its own, with a load that pauses inside its transaction (the
# hook is injected here, by the test; production code reads no test switch).
PAUSING_SYNC = """
import sys, time
from pathlib import Path
from ringwatch.flows.core.sync import sync_agency_map
from ringwatch.flows.core.settings import load_settings

kml, quarter, pause, marker = sys.argv[1], sys.argv[2], float(sys.argv[3]), Path(sys.argv[4])

def pause_then_commit():
    marker.write_text("in the load's transaction")
    time.sleep(pause)

def step(name, fn, *args, **kwargs):
    if name == "load-agency-map":
        kwargs["before_commit"] = pause_then_commit
    return fn(*args, **kwargs)

result = sync_agency_map(load_settings(), from_file=kml, quarter=quarter, step=step)
print(result.line())
"""


def start_sync(db: Path, quarter: str, *, pause: float | None = None, marker: Path | None = None
               ) -> subprocess.Popen[str]:
    kml = db.with_name(f"{quarter}.kml")
    kml.write_bytes(synthetic_map_kml(12, seed=3))
    config = db.with_name("crash.toml")
    config.write_text(CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PYTHONPATH": str(ROOT), "RINGWATCH_CONFIG": str(config), "RINGWATCH_DB": str(db)}
    if pause is not None and marker is not None:
        command = [sys.executable, "-c", PAUSING_SYNC, str(kml), quarter, str(pause), str(marker)]
    else:  # the real command line
        command = [sys.executable, "-m", "ringwatch.flows.cli", "sync", "--from-file", str(kml), "--quarter", quarter]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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
