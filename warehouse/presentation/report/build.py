"""Write the report: the HTML file and one PNG per chart, each replaced whole or not at all.

The report overwrites only what an earlier report wrote: an HTML file that carries the
page's generator marker, and chart PNGs that carry ringwatch's own PNG text chunk. Every
other file in the way, and the database's own paths, are refused before anything is drawn.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ringwatch.scrapers.errors import OutputRefused, WarehouseError
from ringwatch.warehouse.output_guard import (
    is_replaceable_file,
    plan_folder,
    refuse_warehouse_paths,
    write_atomically,
)
from ringwatch.warehouse.presentation.report.charts import draw_charts
from ringwatch.warehouse.presentation.report.data import read_report_data
from ringwatch.warehouse.presentation.report.page import GENERATOR_META, render_page
from ringwatch.warehouse.staleness import StalenessPolicy

# Pages written before the generator marker open with this title.
_EARLIER_TITLE = b"<title>ringwatch report:"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A tEXt chunk in every chart PNG, so a later report knows the file as its own.
_CHART_KEY, _CHART_MARK = b"Generator", b"ringwatch report"
_CHART_NAME = re.compile(r"^\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*\.png$")
_HEAD_BYTES = 64 * 1024


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
    if not out.name or out.name in (".", ".."):
        raise OutputRefused(f"--out {str(out)!r} names a folder, not the HTML file to write; give a file name "
                            "such as report.html.")
    png_dir = png_dir or default_png_dir(out)
    refuse_warehouse_paths(out, db_path, writing="the report", option="--out")
    refuse_warehouse_paths(png_dir, db_path, writing="the report's charts", option="--png-dir")
    _refuse_foreign_html(out)
    plan = plan_folder(png_dir, earlier_output=earlier_charts, writing="the report's charts", option="--png-dir",
                       sign="chart PNG of an earlier ringwatch report", holding="an earlier report's charts",
                       why_ours="it is not a chart PNG of an earlier ringwatch report")
    data = read_report_data(db_path, now=now, policy=policy)
    charts = draw_charts(data)
    names = [f"{n:02d}-{chart.slug}.png" for n, chart in enumerate(charts, start=1)]
    plan.check_targets(names)
    try:
        pngs = tuple(write_atomically(png_dir / name, mark_chart(chart.png))
                     for name, chart in zip(names, charts, strict=True))
        for name in plan.stale(names):
            (png_dir / name).unlink(missing_ok=True)
        shown = [os.path.relpath(p, out.parent.resolve()) if out.parent.resolve() in p.resolve().parents else str(p)
                 for p in pngs]
        html = render_page(data, charts, png_names=shown)
        written = write_atomically(out, html.encode("utf-8"))
    except OSError as exc:
        raise WarehouseError(f"cannot write the report to {exc.filename or out}: {exc.strerror or exc}; "
                             "choose another --out or --png-dir.") from exc
    return ReportFiles(written, pngs, sum(c.has_data for c in charts),
                       tuple(c.title for c in charts if not c.has_data), data.is_empty)


def _refuse_foreign_html(out: Path) -> None:
    """An existing --out is replaced only when it is a page an earlier report wrote."""
    if not out.exists() and not out.is_symlink():
        return
    where = os.path.abspath(out)
    if not out.is_file():
        raise OutputRefused(f"will not write the report to {where}: it is not a file. Nothing was written; "
                            "choose another --out.")
    if not is_earlier_report(out):
        raise OutputRefused(
            f"will not write the report over {where}: that file is not a ringwatch report (it has no "
            f"{GENERATOR_META}). Nothing was written; choose another --out, or move the file away."
        )


def is_earlier_report(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            head = stream.read(_HEAD_BYTES)
    except OSError:
        return False
    return GENERATOR_META.encode() in head or _EARLIER_TITLE in head


def mark_chart(png: bytes) -> bytes:
    """Insert ringwatch's tEXt chunk right after the PNG header chunk (IHDR, always first)."""
    if not png.startswith(_PNG_SIGNATURE):
        return png
    end_of_ihdr = len(_PNG_SIGNATURE) + 8 + struct.unpack(">I", png[8:12])[0] + 4
    body = b"tEXt" + _CHART_KEY + b"\0" + _CHART_MARK
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]


def _png_texts(head: bytes) -> list[tuple[bytes, bytes]]:
    """The tEXt chunks before the image data, read from the first bytes of a PNG."""
    texts, at = [], len(_PNG_SIGNATURE)
    while at + 8 <= len(head):
        length, kind = struct.unpack(">I", head[at:at + 4])[0], head[at + 4:at + 8]
        if kind in (b"IDAT", b"IEND"):
            break
        if kind == b"tEXt":
            key, _, value = head[at + 8:at + 8 + length].partition(b"\0")
            texts.append((key, value))
        at += 12 + length
    return texts


def is_ringwatch_chart(path: Path) -> bool:
    """A PNG with ringwatch's tEXt chunk, or (charts made before it) the source line ringwatch writes."""
    if not _CHART_NAME.match(path.name) or not is_replaceable_file(path):
        return False
    try:
        with path.open("rb") as stream:
            head = stream.read(_HEAD_BYTES)
    except OSError:
        return False
    if not head.startswith(_PNG_SIGNATURE):
        return False
    texts = _png_texts(head)
    return (_CHART_KEY, _CHART_MARK) in texts or any(
        key == b"Source" and b"kept by ringwatch" in value for key, value in texts)


def earlier_charts(folder: Path, present: frozenset[str]) -> frozenset[str] | None:
    """The chart PNGs an earlier report wrote in `folder`, or None when there are none."""
    ours = frozenset(n for n in present if is_ringwatch_chart(folder / n))
    return ours or None
