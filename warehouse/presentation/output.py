"""Render query results and status for the terminal: table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ringwatch.warehouse.read import SourceStatus, StatementResult


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return buffer.getvalue()
    if fmt == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        return json.dumps(records, default=_json_default, ensure_ascii=False, indent=2) + "\n"
    return _table(columns, rows)


def render_results(results: Sequence[StatementResult], fmt: str) -> str:
    """A query's answers. One statement: exactly as `render`. Several: every result in order,
    table and CSV each under a line `-- statement k of n: <its first line>`, JSON as one list
    of {"statement", "sql", "columns", "rows"} objects (rows as records), so that no answer is
    dropped and none can be mistaken for another."""
    if len(results) == 1:
        return render(results[0].columns, results[0].rows, fmt)
    if fmt == "json":
        answers = [{"statement": k, "sql": r.sql.strip(), "columns": list(r.columns),
                    "rows": [dict(zip(r.columns, row, strict=True)) for row in r.rows]}
                   for k, r in enumerate(results, 1)]
        return json.dumps(answers, default=_json_default, ensure_ascii=False, indent=2) + "\n"
    return "\n".join(f"-- statement {k} of {len(results)}: {r.first_line}\n{render(r.columns, r.rows, fmt)}"
                     for k, r in enumerate(results, 1))


def _plain(value: Any) -> Any:
    return "" if value is None else value


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not columns:
        return "(no result)\n"
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows)
               for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render_status(db_path: Path, statuses: Sequence[SourceStatus]) -> str:
    lines = [f"database: {db_path}"]
    for s in statuses:
        lines.append(f"\n{s.source}")
        for reason in s.stale:
            lines.append(f"  STALE:          {reason}")
        if s.last_attempt_at is None:
            lines.append("  never synced; run 'ringwatch sync'")
            continue
        success = (f"{s.last_success_at:%Y-%m-%d %H:%M} UTC ({s.last_success_quarter})"
                   if s.last_success_at else "never")
        lines.append(f"  last live sync: {success}")
        if s.last_other_load:
            lines.append(f"  last other load: {s.last_other_load}")
        lines.append(f"  last attempt:   {s.last_attempt_at:%Y-%m-%d %H:%M} UTC, "
                     f"{s.last_attempt_status}")
        if s.last_attempt_error:
            lines.append(f"  its error:      {s.last_attempt_error}")
        if s.holdings is not None:
            lines.append(f"  holds:          {s.holdings}")
            continue
        held = ", ".join(s.quarters) if s.quarters else "none"
        lines.append(f"  quarters held:  {len(s.quarters)} ({held})")
        if s.latest_rows is not None:
            lines.append(f"  latest snapshot: {s.latest_rows:,} rows")
    return "\n".join(lines)
