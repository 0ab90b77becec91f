"""Ctrl-C and SIGTERM reach the main thread, not DuckDB's workers (Linux: read from /proc).

A DuckDB worker thread that can take SIGINT may receive it in the main thread's place; a main
thread blocked on the network is then not woken, and the command stops only when the slow
response ends (tests/faults/test_cli_process.py saw 20 s once on a loaded machine)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ringwatch.warehouse.db import connect

TASKS = Path("/proc/self/task")


def threads() -> set[str]:
    return {p.name for p in TASKS.iterdir()}


def blocked(tid: str) -> int:
    for line in (TASKS / tid / "status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            return int(line.split()[1], 16)
    raise AssertionError(f"no SigBlk for thread {tid}")


@pytest.mark.skipif(not TASKS.exists() or not hasattr(signal, "pthread_sigmask"), reason="needs Linux /proc")
def test_duckdb_worker_threads_never_take_ctrl_c_or_sigterm(tmp_path: Path) -> None:
    before = threads()
    con = connect(tmp_path / "w.duckdb")
    try:
        con.execute("SELECT count(*) FROM range(1000000)").fetchall()  # let the workers run
        started = threads() - before
        assert started, "DuckDB started no thread: nothing to check"
        for tid in started:
            mask = blocked(tid)
            assert mask & (1 << (signal.SIGINT - 1)) and mask & (1 << (signal.SIGTERM - 1)), tid
        main = str(os.getpid()) if str(os.getpid()) in threads() else None
        if main is not None and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            assert not blocked(main) & (1 << (signal.SIGINT - 1)), "the main thread must still take Ctrl-C"
    finally:
        con.close()
