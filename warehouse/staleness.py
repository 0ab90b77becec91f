"""When a source has gone stale: no live sync for too long, or the same content for too long.

Ring says the map is updated quarterly; whether it still is, nobody outside knows. A source
whose last live sync is older than a quarter plus a grace period, or whose content (sha256)
has not changed for N quarters, is flagged so a monitor can page someone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

QUARTER_DAYS = 92


@dataclass(frozen=True, slots=True)
class StalenessPolicy:
    grace_days: int = 14
    unchanged_quarters: int = 2


_LIVE_CONTENT = """
SELECT r.quarter, c.sha256
FROM sync_runs AS r JOIN captures AS c ON c.capture_id = r.capture_id
WHERE r.source = ? AND r.mode = 'live' AND r.status IN ('success', 'unchanged') AND r.quarter IS NOT NULL
ORDER BY r.run_id DESC
"""


def stale_reasons(con: duckdb.DuckDBPyConnection, source: str, *, last_live_sync: datetime | None,
                  now: datetime, policy: StalenessPolicy) -> list[str]:
    """Why the source looks stale; empty when it does not."""
    reasons = []
    limit = timedelta(days=QUARTER_DAYS + policy.grace_days)
    if last_live_sync is None:
        reasons.append("no live sync has succeeded yet")
    elif now - last_live_sync > limit:
        reasons.append(f"the last live sync is {(now - last_live_sync).days} days old, more than a quarter "
                       f"and {policy.grace_days} days")
    if source == "agency_map":
        unchanged = quarters_unchanged(con.execute(_LIVE_CONTENT, [source]).fetchall())
        if unchanged >= policy.unchanged_quarters:
            reasons.append(f"its content (sha256) has not changed for {unchanged} quarters: "
                           "the map may no longer be updated")
    return reasons


def quarters_unchanged(rows: list[tuple[str, str]]) -> int:
    """How many quarters back from the latest the content stayed the same (rows newest first)."""
    if not rows:
        return 0
    latest_sha = rows[0][1]
    quarters: list[str] = []
    for quarter, sha in rows:
        if sha != latest_sha:
            break
        if quarter not in quarters:
            quarters.append(quarter)
    return len(quarters) - 1
