"""Write the report: the HTML file and one PNG per chart, each replaced whole or not at all."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ringwatch.scrapers.errors import WarehouseError
from ringwatch.warehouse.report.charts import draw_charts
from ringwatch.warehouse.report.data import read_report_data
from ringwatch.warehouse.report.page import render_page
from ringwatch.warehouse.staleness import StalenessPolicy


@dataclass(frozen=True, slots=True)
class ReportFiles:
    html: Path
    pngs: tuple[Path, ...]
    charts_with_data: int
    empty_charts: tuple[str, ...]  # titles of the charts drawn without data
    database_empty: bool


def default_png_dir(out: Path) -> Path:
    """report.html -> report-charts/ beside it."""
    return out.with_name(out.stem + "-charts")


def build_report(db_path: Path, out: Path, *, png_dir: Path | None = None, now: datetime | None = None,
                 policy: StalenessPolicy | None = None) -> ReportFiles:
    """Read the database (read-only), draw every chart and write the HTML and the PNGs."""
    data = read_report_data(db_path, now=now, policy=policy)
    charts = draw_charts(data)
    png_dir = png_dir or default_png_dir(out)
    names = [f"{n:02d}-{chart.slug}.png" for n, chart in enumerate(charts, start=1)]
    try:
        png_dir.mkdir(parents=True, exist_ok=True)
        pngs = tuple(_write_atomically(png_dir / name, chart.png) for name, chart in zip(names, charts, strict=True))
        shown = [os.path.relpath(p, out.parent.resolve()) if out.parent.resolve() in p.resolve().parents else str(p)
                 for p in pngs]
        html = render_page(data, charts, png_names=shown)
        written = _write_atomically(out, html.encode("utf-8"))
    except OSError as exc:
        raise WarehouseError(f"cannot write the report to {exc.filename or out}: {exc.strerror or exc}; "
                             "choose another --out or --png-dir.") from exc
    return ReportFiles(written, pngs, sum(c.has_data for c in charts),
                       tuple(c.title for c in charts if not c.has_data), data.is_empty)


def _write_atomically(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            os.fchmod(stream.fileno(), 0o666 & ~_umask())  # mkstemp's 0600 would hide it from others
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
