"""One writer across hosts: with a Prefect API, every write holds the one slot of a global
concurrency limit as well as the local file lock. Two writers on two different warehouse files
(which no file lock would order) still never write at once, and the one that waits says so."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from ringwatch.flows.core.attempt import open_warehouse, writer_slot
from ringwatch.flows.core.settings import load_settings
from ringwatch.flows.orchestration.writer_slot import WRITER_LIMIT, held_writer_slot

pytestmark = pytest.mark.prefect


class Said(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_two_writers_never_write_at_once_and_the_one_that_waits_says_so(
        prefect_server: None, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    said = Said()
    logger = logging.getLogger("prefect.ringwatch.writer_slot")  # outside a flow run; in one, the run log
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(said)
    windows: dict[str, tuple[float, float]] = {}
    errors: list[BaseException] = []
    first_is_writing = threading.Event()

    def write(name: str) -> None:
        try:
            settings = load_settings(db_path=tmp_path / f"{name}.duckdb")  # two files: no shared file lock
            with open_warehouse(settings) as wh:
                started = time.monotonic()
                first_is_writing.set()
                wh.con.execute("CREATE TABLE IF NOT EXISTS held (moment DOUBLE)")
                time.sleep(1.5)
                windows[name] = (started, time.monotonic())
        except BaseException as exc:  # noqa: BLE001  # reported below
            errors.append(exc)

    try:
        with writer_slot(held_writer_slot):
            threads = [threading.Thread(target=write, args=(name,)) for name in ("first", "second")]
            threads[0].start()
            assert first_is_writing.wait(timeout=60)
            threads[1].start()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        logger.removeHandler(said)
        logger.setLevel(level)
    assert errors == []
    (a_start, a_end), (b_start, b_end) = sorted(windows.values())
    assert a_end <= b_start, f"the writes overlapped: {windows}"
    assert any("waiting for the warehouse writer slot" in line and WRITER_LIMIT in line for line in said.lines), \
        said.lines
    assert sum(line.startswith("got the warehouse writer slot after") for line in said.lines) == 2, said.lines
    assert sum(line.startswith("released the warehouse writer slot after holding it") for line in said.lines) == 2
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
    assert limit.limit == 1 and limit.active_slots == 0


def test_without_the_slot_installed_only_the_file_lock_orders_writers(tmp_path: Path) -> None:
    """In-process commands (no Prefect) hold nothing but the lock: two files write at once."""
    windows: dict[str, tuple[float, float]] = {}

    def write(name: str) -> None:
        with open_warehouse(load_settings(db_path=tmp_path / f"{name}.duckdb")):
            started = time.monotonic()
            time.sleep(0.8)
            windows[name] = (started, time.monotonic())

    threads = [threading.Thread(target=write, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    (a_start, a_end), (b_start, _b_end) = sorted(windows.values())
    assert b_start < a_end, "without a Prefect API the writes were serialised by something else"
