"""Record what each placemark Data field counts and for which period (metric_fields)."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from ringwatch.warehouse.sql import insert_batch

_UPSERT = """
INSERT OR REPLACE INTO metric_fields
SELECT field_name::VARCHAR, counts_requests::BOOLEAN, period_label::VARCHAR, period_start::DATE,
       period_end::DATE, relative_days::INTEGER, relative_months::INTEGER
FROM batch
"""


def record_metric_fields(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    unique = sorted(set(names))
    if not unique:  # most maps: nothing to read, nor the period vocabulary to load
        return
    from ringwatch.scrapers.metric_periods import counts_requests, period_of_field

    periods = [period_of_field(n) for n in unique]
    insert_batch(con, _UPSERT, {
        "field_name": unique,
        "counts_requests": [counts_requests(n) for n in unique],
        "period_label": [p.label for p in periods],
        "period_start": [p.start for p in periods],
        "period_end": [p.end for p in periods],
        "relative_days": [p.days for p in periods],
        "relative_months": [p.months for p in periods],
    })


def fill_metric_fields(con: duckdb.DuckDBPyConnection) -> None:
    """Read every field name already held (a database made before migration 5)."""
    record_metric_fields(con, [r[0] for r in con.execute(
        "SELECT DISTINCT field_name FROM agency_observation_fields").fetchall()])
