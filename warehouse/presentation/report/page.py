"""The report as one HTML file that needs nothing else: styles inline, charts as SVG data
URIs, no script, no font or image fetched from anywhere, so it opens offline and can be
mailed or archived as it is."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from typing import Any

from ringwatch.scrapers import __version__
from ringwatch.warehouse.presentation.report.charts import ATLAS_ORIGIN, EFF_ATLAS, Chart, Table
from ringwatch.warehouse.presentation.report.data import ReportData
from ringwatch.warehouse.read import SourceStatus

# In every page's head: how a later `ringwatch report` knows a file at --out as its own.
GENERATOR_META = '<meta name="generator" content="ringwatch report">'

_STYLE = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; margin: 0 auto;
       max-width: 1000px; padding: 1.5rem; line-height: 1.45; background: #ffffff; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #cccccc; padding-bottom: .2rem; }
.meta { color: #444444; font-size: .9rem; }
.notice { border: 2px solid #1a1a1a; padding: .6rem 1rem; margin: 1rem 0; background: #f4f4f4; }
.stale { font-weight: bold; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid #dddddd; padding: .2rem .6rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5rem 0 2rem; } figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .85rem; color: #333333; margin-top: .3rem; }
details { font-size: .85rem; } summary { cursor: pointer; color: #1d2d50; }
.scroll { max-height: 28rem; overflow: auto; border: 1px solid #eeeeee; }
nav ol { columns: 2; font-size: .9rem; }
"""


def render_page(data: ReportData, charts: Sequence[Chart], *, png_names: Sequence[str] = ()) -> str:
    """The whole report; `png_names` (one per chart, optional) are named under each chart."""
    latest = data.latest_quarter
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        GENERATOR_META,
        f"<title>ringwatch report: Ring and the police{' to ' + latest if latest else ''}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<header><h1>Ring and the police: the Neighbors network and legal demands over time</h1>",
        f'<p class="meta">Made {data.made_at:%Y-%m-%d %H:%M} UTC by ringwatch {escape(__version__)} from '
        f"<code>{escape(str(data.db_path))}</code>, read-only. Every number below comes from the "
        "database's documented views; ringwatch's docs/tables-and-views.md says how each is defined.</p></header>",
    ]
    if data.is_empty:
        parts.append('<p class="notice" id="empty-notice">This database holds no agency-map snapshot and no '
                     "transparency figures yet, so every chart below is empty. Run <code>ringwatch sync</code> "
                     "(or <code>ringwatch backfill</code> / <code>ringwatch import-atlas</code> for the past), "
                     "then make the report again.</p>")
    parts += _freshness(data)
    parts += _latest_changes(data)
    parts.append('<section id="charts"><h2>Charts</h2><nav><ol>')
    parts += [f'<li><a href="#chart-{c.slug}">{escape(c.title)}</a></li>' for c in charts]
    parts.append("</ol></nav>")
    for number, chart in enumerate(charts):
        parts += _figure(chart, png_names[number] if number < len(png_names) else None)
    parts.append("</section>")
    parts.append('<footer class="meta"><p>Charts drawn with matplotlib. "Observed" counts are what a snapshot '
                 "of Ring's map showed; the reconstruction counts agencies of the latest snapshot by their "
                 "Active Date, so agencies that left are missing from it (a lower bound). Quarters with no "
                 "snapshot are gaps, not interpolated. Transparency figures are the latest each report gave "
                 "(restated figures replace earlier ones).</p>")
    parts += _credits(data)
    parts.append("</footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _credits(data: ReportData) -> list[str]:
    """One line crediting EFF's Atlas when a quarter held came from an Atlas export (the address
    as text: the page links to nothing outside itself)."""
    atlas = [q for q, origin in data.quarter_origins if origin == ATLAS_ORIGIN]
    if not atlas:
        return []
    quarters = ", ".join(atlas) if len(atlas) <= 4 else f"{len(atlas)} quarters, {atlas[0]} to {atlas[-1]}"
    return [f'<p id="credits">{escape(quarters)}: from the {escape(EFF_ATLAS)}, atlasofsurveillance.org.</p>']


def _freshness(data: ReportData) -> list[str]:
    rows = [_status_row(s) for s in data.statuses]
    out = ['<section id="freshness"><h2>Freshness</h2>',
           _table(Table(("source", "last live sync", "last other load", "last attempt", "held", "stale"),
                        tuple(rows)), table_id="freshness-table")]
    if data.origins:
        out.append("<p>Origins used (live = fetched from Ring, wayback = the Internet Archive, atlas = an EFF "
                   "Atlas of Surveillance export, file = a saved page):</p>")
        out.append(_table(Table(("source", "origin", "what it supplied"),
                                tuple((o.source, o.origin, o.detail) for o in data.origins)), table_id="origins-table"))
    out.append("</section>")
    return out


def _status_row(s: SourceStatus) -> tuple[str, ...]:
    live = f"{s.last_success_at:%Y-%m-%d %H:%M} UTC ({s.last_success_quarter})" if s.last_success_at else "never"
    attempt = (f"{s.last_attempt_at:%Y-%m-%d %H:%M} UTC, {s.last_attempt_status}"
               + (f": {s.last_attempt_error}" if s.last_attempt_error else "")) if s.last_attempt_at else "never"
    if s.holdings is not None:
        held = s.holdings
    elif s.quarters:
        held = (f"{len(s.quarters)} quarters: {s.quarters[0]} to {s.quarters[-1]}" if len(s.quarters) > 1
                else f"1 quarter: {s.quarters[0]}")
    else:
        held = "nothing"
    return (s.source, live, s.last_other_load or "", attempt, held, "; ".join(s.stale) or "no")


def _latest_changes(data: ReportData) -> list[str]:
    summary = data.changes
    if summary.quarter is None:
        return ['<section id="latest"><h2>Latest quarter</h2><p>No agency-map snapshot is held yet.</p></section>']
    out = [f'<section id="latest"><h2>Latest quarter held: {escape(summary.quarter)}</h2>']
    figures = [("quarter", summary.quarter), ("agencies", summary.agencies),
               ("compared_with", summary.compared_with), ("joined", summary.joined), ("left", summary.left)]
    out.append(_table(Table(tuple(k for k, _ in figures), (tuple(v for _, v in figures),)), table_id="latest-summary"))
    if summary.compared_with is None:
        out.append("<p>This is the first quarter held: there is nothing to compare it with, so no joins or "
                   "departures are listed.</p></section>")
        return out
    if summary.states_added:
        out.append(f"<p>States new to the map: {escape(', '.join(summary.states_added))}.</p>")
    rows = tuple((c.change, c.name, c.agency_type, c.city or "", c.state or "") for c in summary.changes)
    out.append(f"<p>{summary.joined or 0:,} joined and {summary.left or 0:,} left since "
               f"{escape(summary.compared_with)}:</p>")
    out.append('<div class="scroll">' + _table(Table(("change", "agency", "type", "city", "state"), rows),
                                               table_id="latest-changes") + "</div>")
    out.append("</section>")
    return out


def _figure(chart: Chart, png_name: str | None) -> list[str]:
    uri = "data:image/svg+xml;base64," + base64.b64encode(chart.svg).decode("ascii")
    png = f" PNG: <code>{escape(png_name)}</code>." if png_name else ""
    return [
        f'<figure id="chart-{chart.slug}" data-has-data="{str(chart.has_data).lower()}">',
        f'<img src="{uri}" alt="{escape(chart.description)}" width="900">',
        f"<figcaption>{escape(chart.description)}{png}</figcaption>",
        f"<details><summary>The numbers in this chart ({len(chart.table.rows):,} rows)</summary>",
        _table(chart.table, table_id=f"data-{chart.slug}"),
        "</details></figure>",
    ]


def _table(table: Table, *, table_id: str) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value: Any) -> str:
    """Numbers right-aligned and exact (a share to four places, as the view rounds it);
    an unknown value is an empty cell, never a zero."""
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{value}</td>"
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    if isinstance(value, float):
        return f'<td class="n">{value:.4f}</td>'
    if isinstance(value, (date, datetime)):
        return f"<td>{value.isoformat()}</td>"
    return f"<td>{escape(str(value))}</td>"
