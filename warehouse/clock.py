"""Time as the warehouse stores it: naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC now, the form every TIMESTAMP column holds."""
    return datetime.now(UTC).replace(tzinfo=None)
