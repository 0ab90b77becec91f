"""One writer across hosts: a Prefect global concurrency limit of one slot, held around every write.

The warehouse's writer lock (warehouse/lock.py) is a file lock: it sees only the processes of
its own host. Flow runs on other workers take this slot as well, before the lock, so two runs
never write at once wherever they run. The slot is leased: Prefect renews the lease while the
run holds it, and a worker killed mid-write stops renewing, so the slot comes free when the
lease runs out instead of never. A run that has to wait says so in its log, naming the limit.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

WRITER_LIMIT = "ringwatch-warehouse-writer"
LEASE_SECONDS = 60.0  # renewed while held; how long a dead holder keeps the slot


def ensure_writer_limit() -> int:
    """Make sure the one-slot limit exists on the Prefect server (or set it back to one slot),
    and return how many of its slots are taken now: concurrency() on a missing limit would not
    limit anything."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        # ObjectAlreadyExists: another run created it between the read and the write.
        with contextlib.suppress(ObjectAlreadyExists):
            client.upsert_global_concurrency_limit_by_name(WRITER_LIMIT, 1)
        return int(client.read_global_concurrency_limit_by_name(WRITER_LIMIT).active_slots)


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_logger, get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("ringwatch.writer_slot")


@contextmanager
def held_writer_slot() -> Iterator[None]:
    """Hold the writer slot for the duration; wait for it as long as it takes (a run holding it
    writes one quarter at a time, and a dead holder's lease lapses)."""
    from prefect.concurrency.sync import concurrency

    taken = ensure_writer_limit()
    logger = _logger()
    asked = time.monotonic()
    if taken:
        logger.info(f"waiting for the warehouse writer slot: another run is writing (Prefect global "
                    f"concurrency limit {WRITER_LIMIT!r}, one slot)")
    with concurrency(WRITER_LIMIT, occupy=1, lease_duration=LEASE_SECONDS, strict=True):
        got = time.monotonic()
        # Both lines always: their timestamps are the run's write window in the Prefect UI's log,
        # which is how an operator (and the integration test) sees that writes never overlap.
        logger.info(f"got the warehouse writer slot after {got - asked:.1f} s")
        try:
            yield
        finally:
            logger.info(f"released the warehouse writer slot after holding it {time.monotonic() - got:.1f} s")
