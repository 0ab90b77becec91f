"""One writer at a time, across real processes; readers are told plainly while a write runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ringwatch.scrapers.errors import WarehouseError
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.lock import WriterLock

ROOT = Path(__file__).resolve().parents[2]

# A writer that takes the lock, says so, holds it (for `hold` seconds, or until a line comes on its
# stdin when `hold` is UNTIL_TOLD) while it loads a quarter, then lets go.
UNTIL_TOLD = "until-told"
WRITER = """
import sys, time
from datetime import datetime, timezone
from ringwatch.warehouse.db import Warehouse
from ringwatch.warehouse.load import load_agency_snapshot
from ringwatch.scrapers.records import Snapshot
from ringwatch.scrapers.agency_map import parse_agency_map
from bench.synthetic_map import synthetic_map_kml
db, quarter, hold = sys.argv[1], sys.argv[2], sys.argv[3]
agencies = parse_agency_map(synthetic_map_kml(30), source_url="test")
with Warehouse.open(db, lock_timeout_seconds=float(sys.argv[4])) as wh:
    print("locked", flush=True)
    if hold == "until-told":
        sys.stdin.readline()
    else:
        time.sleep(float(hold))
    snap = Snapshot("agency_map", quarter, datetime(2024, 1, 1, tzinfo=timezone.utc), tuple(agencies))
    load_agency_snapshot(wh.con, snap, capture_id=1, origin="file", run_id=1)
print("done", flush=True)
"""


def start_writer(db: Path, quarter: str, hold: float | str, timeout: float = 30.0) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(db), quarter, str(hold), str(timeout)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for_lock(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"


def test_a_second_writer_waits_and_nothing_is_corrupted(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    first = start_writer(db, "2024Q1", hold=1.5)
    wait_for_lock(first)
    second = start_writer(db, "2024Q2", hold=0.0)
    out_first, err_first = first.communicate(timeout=60)
    out_second, err_second = second.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (0, 0), err_first + err_second
    assert out_second.split() == ["locked", "done"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT quarter, count(*) FROM agency_snapshots GROUP BY ALL ORDER BY 1").fetchall() == [
        ("2024Q1", 30), ("2024Q2", 30)]
    con.close()


def test_a_writer_gives_up_after_the_timeout_naming_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    holder = start_writer(db, "2024Q1", hold=UNTIL_TOLD)
    wait_for_lock(holder)
    message = rf"being written by another ringwatch process \(pid {holder.pid}\); waited"
    with pytest.raises(WarehouseError, match=message):
        Warehouse.open(db, lock_timeout_seconds=0.3)
    holder.communicate(input="let go\n", timeout=60)
    assert holder.returncode == 0
    Warehouse.open(db, lock_timeout_seconds=0.3).close()  # free again once the holder is done


def test_a_reader_during_a_write_is_told_plainly(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    Warehouse.open(db).close()
    holder = start_writer(db, "2024Q1", hold=UNTIL_TOLD)
    wait_for_lock(holder)
    result = subprocess.run([sys.executable, "-m", "ringwatch.flows.cli", "query", "SELECT count(*) FROM agencies",
                             "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    holder.communicate(input="let go\n", timeout=60)
    assert result.returncode == 1
    assert f"being written by another ringwatch process (pid {holder.pid})" in result.stderr


def test_the_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    holder = start_writer(db, "2024Q1", hold=30.0)
    wait_for_lock(holder)
    holder.kill()
    holder.wait(timeout=30)
    started = time.monotonic()
    lock = WriterLock(db, timeout_seconds=5)
    lock.acquire()
    lock.release()
    assert time.monotonic() - started < 5
