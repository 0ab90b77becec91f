"""One writer at a time: an advisory lock file beside the database.

`ringwatch.duckdb` is guarded by `ringwatch.duckdb.lock`, locked with flock(2), so the lock
goes away with the process that held it (a killed sync never leaves a stale lock). The file
holds the holder's process id, for the message the next writer or reader prints.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO

from ringwatch.scrapers.errors import WarehouseError


def lock_path_for(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


def holder_of(db_path: str | Path) -> str:
    """The process id written by the current holder, or 'unknown'."""
    try:
        return lock_path_for(db_path).read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


class WriterLock:
    """Held for as long as a read-write connection is open."""

    def __init__(self, db_path: str | Path, *, timeout_seconds: float, poll_seconds: float = 0.2) -> None:
        self.db_path = Path(db_path)
        self.timeout_seconds = timeout_seconds
        self.poll_seconds = poll_seconds
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        path = lock_path_for(self.db_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise WarehouseError(
                        f"the database {self.db_path} is being written by another ringwatch process "
                        f"(pid {holder_of(self.db_path)}); waited {self.timeout_seconds:.0f} s "
                        "([warehouse] lock_timeout_seconds). Try again when it finishes."
                    ) from None
                time.sleep(self.poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.flush()
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
