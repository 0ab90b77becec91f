"""The report's charts, drawn with matplotlib from `ReportData`, each as SVG (for the HTML)
and PNG (for slides and articles), with the table of the numbers it draws.

matplotlib renders offline with its own fonts, needs no browser, and writes both formats
from one figure. Colours step in lightness so that the charts read in greyscale, and bars
carry hatches and lines their own dash and marker, so no series depends on hue alone.
Quarters with no snapshot are left as gaps (shaded), never interpolated.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ringwatch.scrapers.sources import Origin
from ringwatch.warehouse.presentation.report.data import PeriodRequests, ReportData, RequestRange
from ringwatch.warehouse.quarters import Quarter

# Four lightness steps (greyscale 0.17, 0.37, 0.64, 0.85 by ITU-R 601 luma): dark to light.
DARK = "#1d2d50"
RED = "#c0392b"
ORANGE = "#e69f00"
PALE = "#bfe3f0"
GAP = "#e9e9e9"
EDGE = "#222222"

# Agency types: colour, dash and marker each differ, so lines part in greyscale and in print.
TYPE_STYLES: dict[str, tuple[str, str, str]] = {
    "police": (DARK, "-", "o"),
    "sheriff": (RED, "--", "s"),
    "fire": (ORANGE, ":", "^"),
    "other": ("#6f6f6f", "-.", "D"),
}
# Outcomes stack dark (full) to light (none); "received" alone is a hollow hatched bar.
OUTCOME_STYLES: dict[str, tuple[str, str, str]] = {
    "full_response": ("answered in full", DARK, ""),
    "partial_response": ("answered in part", ORANGE, ".."),
    "no_response": ("not answered with data", PALE, "//"),
}
REQUEST_TYPE_ORDER = ("all", "search_warrants", "subpoenas", "court_orders", "emergency_requests",
                      "preservation_requests", "national_security_requests", "non_us_requests")
REQUEST_TYPE_NAMES = {
    "all": "All legal demands", "search_warrants": "Search warrants", "subpoenas": "Subpoenas",
    "court_orders": "Court orders", "emergency_requests": "Emergency requests",
    "preservation_requests": "Preservation requests", "national_security_requests": "National security",
    "non_us_requests": "Non-U.S. requests",
}
SHARE_STYLES = (("-", "o", DARK), ("--", "s", RED), (":", "^", ORANGE), ("-.", "D", "#6f6f6f"),
                ((0, (5, 1)), "v", DARK), ((0, (1, 3)), "P", RED), ((0, (3, 1, 1, 1)), "X", ORANGE),
                ((0, (6, 2, 1, 2)), "*", "#6f6f6f"))

_RC: dict[str, Any] = {
    "svg.hashsalt": "ringwatch",  # stable ids, so the same data gives the same SVG
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same look on every machine
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#d0d0d0",
    "grid.linewidth": 0.6,
    "hatch.color": EDGE,
    "hatch.linewidth": 0.6,
}
SOURCE_LINE_INCHES = 0.35
PNG_DPI = 150
# The credits of the source lines: quarters loaded from an EFF Atlas of Surveillance export are
# EFF's data (CC BY 4.0, as EFF states it on atlasofsurveillance.org); the others are what
# Ring's own map and reports published.
RING_MAP = "Ring's Active Agency Map"
EFF_ATLAS = "EFF Atlas of Surveillance (CC BY 4.0)"
RING_REPORTS = "Ring's law-enforcement transparency reports"
ATLAS_ORIGIN = str(Origin.ATLAS)


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class Chart:
    slug: str  # file name and HTML id
    title: str
    description: str  # the alt text: what the chart shows, in words
    svg: bytes
    png: bytes
    table: Table  # the numbers drawn, for the HTML and for checking against SQL
    has_data: bool


def draw_charts(data: ReportData) -> list[Chart]:
    """Every chart of the report, in reading order; a chart without data still comes, with
    a message in its frame saying what is missing."""
    builders: list[Callable[[ReportData], Chart]] = [
        agencies_over_time, joins_and_departures, agencies_by_state, state_tile_map, states_grown_most,
        agencies_by_type, requests_by_outcome, complied_share, video_requests_per_period, top_video_requesters]
    with matplotlib.rc_context(_RC):  # type: ignore[arg-type]  # keys checked by matplotlib at run time
        return [build(data) for build in builders]


# --- the charts ------------------------------------------------------------------------------

def agencies_over_time(data: ReportData) -> Chart:
    slug, title = "agencies-over-time", "Agencies in Ring's Neighbors program, by quarter"
    observed = {c.quarter: c.agencies for c in data.observed}
    rebuilt = {r.quarter: r.cumulative for r in data.reconstructed}
    dates = data.join_dates
    undated = dates.undated if dates is not None and dates.quarter in observed else 0
    columns: tuple[str, ...] = ("quarter", "observed_agencies", "reconstructed_from_active_dates")
    rows: list[tuple[Any, ...]] = [(q, observed.get(q), rebuilt.get(q)) for q in _quarter_span(observed, rebuilt)]
    if dates is not None and undated:  # a column only when some agency gives no date
        columns += ("on_the_map_without_active_date",)
        rows = [(*r, undated if r[0] == dates.quarter else None) for r in rows]
    table = Table(columns, tuple(rows))
    fig, ax = _figure(9, 4.8)
    if not observed and not rebuilt:
        return _empty(fig, ax, slug, title, "No agency-map snapshot is held yet: run 'ringwatch sync'.", table,
                      _map_source(data))
    span = _quarter_span(observed, rebuilt)
    lo, hi = _index(span[0]), _index(span[-1])
    if rebuilt:
        xs = [_index(q) for q in rebuilt]
        ax.plot(xs, list(rebuilt.values()), color=RED, linestyle="--", linewidth=1.6,
                label=f"reconstructed from Active Dates in {data.latest_quarter} (lower bound)")
        if undated:  # where the reconstruction ends, so the band's gap reads as a difference
            end = list(rebuilt)[-1]
            ax.annotate(f"{rebuilt[end]:,}", (_index(end), rebuilt[end]), textcoords="offset points",
                        xytext=(5, -4), ha="left", va="top", fontsize=8, color=RED, fontweight="bold")
    if dates is not None and undated:
        _undated_band(ax, dates.quarter, dates.dated, undated)
    if observed:
        _shade_gaps(ax, list(observed))
        xs, ys = series_with_gaps(observed)
        ax.plot(xs, ys, color=DARK, linewidth=2.2, marker="o", markersize=5, label="observed snapshot")
        last = list(observed)[-1]
        ax.annotate(f"{observed[last]:,}", (_index(last), observed[last]), textcoords="offset points",
                    xytext=(0, 7), ha="center", fontsize=8, fontweight="bold")
    _quarter_axis(ax, lo, hi)
    ax.set_ylabel("agencies (count)")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(_thousands)
    ax.set_title(title, loc="left")
    _legend_beside(ax, _legend_with_gap(ax, observed))
    latest = f", latest {data.latest_quarter} with {observed[data.latest_quarter]:,}" \
        if data.latest_quarter in observed else ""
    note = ""
    description = (f"Line chart of agencies on the map: {len(observed)} observed quarter(s){latest}"
                   + (f"; reconstruction from Active Dates from {span[0]}" if rebuilt else ""))
    if dates is not None and undated:
        note = (f"{_agencies(undated)} on the map in {dates.quarter} give no Active Date (join date): drawn as "
                f"the hatched band, not counted as joins in any quarter.")
        description += (f"; {_agencies(undated)} in {dates.quarter} give no join date, shown as a band from "
                        f"{dates.dated:,} to {dates.dated + undated:,}, not as joins")
    return _finish(fig, slug, title, description + ".", table, _map_source(data), note=note)


def _agencies(n: int) -> str:
    return f"{n:,} agenc{'y' if n == 1 else 'ies'}"


def _undated_band(ax: Axes, quarter: str, dated: int, undated: int) -> None:
    """The agencies of the latest snapshot that give no Active Date, as a hatched band on top of
    the dated ones at that quarter: they are on the map, but joined on no known date, so they
    are not drawn as joins of any quarter."""
    x = _index(quarter)
    ax.add_patch(Rectangle((x - 0.32, dated), 0.64, undated, facecolor=PALE, edgecolor=EDGE, linewidth=0.8,
                           hatch="\\\\", zorder=1.5,
                           label=f"{_agencies(undated)} on the map give no join date (in no quarter)"))
    ax.annotate(f"{_agencies(undated)}\ngive no join date", (x - 0.32, dated + undated / 2),
                textcoords="offset points", xytext=(-5, 0), ha="right", va="center", fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.85})


def joins_and_departures(data: ReportData) -> Chart:
    slug, title = "joins-and-departures", "Agencies that joined and left, per quarter held"
    compared = [c for c in data.observed if c.compared_with is not None]
    table = Table(("quarter", "compared_with", "joined", "left"),
                  tuple((c.quarter, c.compared_with, c.joined, c.left) for c in compared))
    fig, ax = _figure(9, 4.8)
    if not compared:
        held = len(data.quarters_held)
        return _empty(fig, ax, slug, title, "Joins and departures need two agency-map snapshots; "
                      f"{held} held{' (' + data.quarters_held[0] + ')' if held == 1 else ''}.", table,
                      _map_source(data))
    xs = [_index(c.quarter) for c in compared]
    _shade_gaps(ax, data.quarters_held)
    joined = ax.bar(xs, [c.joined or 0 for c in compared], width=0.8, color=DARK, edgecolor=EDGE, linewidth=0.6,
                    label="joined")
    left = ax.bar(xs, [-(c.left or 0) for c in compared], width=0.8, color=PALE, edgecolor=EDGE, linewidth=0.6,
                  hatch="//", label="left (drawn below zero)")
    if len(compared) <= 24:  # past that the labels crowd; the table under the chart has them
        ax.bar_label(joined, labels=[f"{c.joined or 0:,}" for c in compared], padding=2, fontsize=8)
        ax.bar_label(left, labels=[f"{c.left or 0:,}" for c in compared], padding=2, fontsize=8)
    ax.axhline(0, color=EDGE, linewidth=0.8)
    ax.margins(y=0.12)
    _quarter_axis(ax, min(xs), max(xs))
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{abs(v):,.0f}")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("agencies (count): left below zero, joined above")
    ax.set_title(title, loc="left")
    _legend_beside(ax, _legend_with_gap(ax, dict.fromkeys(data.quarters_held, 0)))
    skipped = [c for c in compared if _index(c.quarter) - _index(c.compared_with or c.quarter) > 1]
    note = ""
    if skipped:
        listed = ", ".join(f"{c.quarter} vs {c.compared_with}" for c in skipped[:3])
        note = f"Compared across quarters not held: {listed}{' …' if len(skipped) > 3 else ''}."
    total_joined = sum(c.joined or 0 for c in compared)
    total_left = sum(c.left or 0 for c in compared)
    description = (f"Bar chart of joins (up) and departures (down) in {len(compared)} quarter(s): "
                   f"{total_joined:,} joined and {total_left:,} left in all.")
    return _finish(fig, slug, title, description, table, _map_source(data), note=note)


def agencies_by_state(data: ReportData) -> Chart:
    quarter = data.latest_quarter
    slug, title = "agencies-by-state", f"Agencies by state, {quarter or 'latest quarter'}"
    table = Table(("state", "agencies"), tuple((s.state, s.agencies) for s in data.by_state))
    states = list(data.by_state)
    fig, ax = _figure(9, max(3.2, 0.2 * len(states) + 1.6))
    source = _map_source(data, [quarter] if quarter else [])
    if not states:
        message = ("No agency-map snapshot is held yet: run 'ringwatch sync'." if quarter is None
                   else f"No agency in {quarter} names a state.")
        return _empty(fig, ax, slug, title, message, table, source)
    ys = range(len(states))
    bars = ax.barh(list(ys), [s.agencies for s in states], height=0.7, color=DARK)
    ax.bar_label(bars, labels=[f"{s.agencies:,}" for s in states], padding=2, fontsize=8)
    ax.set_yticks(list(ys), [s.state for s in states], fontsize=8)
    ax.set_ylim(len(states) - 0.5, -0.5)  # most at the top
    ax.set_xlabel("agencies (count)")
    ax.set_ylabel("state (USPS code)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(_thousands)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_title(title, loc="left")
    note = (f"{data.without_state:,} agencies whose address names no state are not shown."
            if data.without_state else "")
    top = ", ".join(f"{s.state} {s.agencies:,}" for s in states[:3])
    description = f"Sorted bar chart of agencies in {len(states)} states in {quarter}; most: {top}."
    return _finish(fig, slug, title, description, table, source, note=note)


def state_tile_map(data: ReportData) -> Chart:
    """The 50 states and DC as squares on a grid, shaded by agencies; a state with none is
    hatched and says 0."""
    quarter = data.latest_quarter
    slug, title = "agencies-tile-map", f"Agencies per state, {quarter or 'latest quarter'} (tile map)"
    tiles = list(data.tiles)
    table = Table(("state", "agencies"), tuple((t.state, t.agencies) for t in sorted(tiles, key=lambda t: t.state)))
    fig, ax = _figure(9, 6.2)
    source = _map_source(data, [quarter] if quarter else [])
    if quarter is None or not tiles:
        return _empty(fig, ax, slug, title, "No agency-map snapshot is held yet: run 'ringwatch sync'.", table,
                      source)
    top = max(t.agencies for t in tiles) or 1
    cmap = matplotlib.colormaps["Blues"]
    for t in tiles:
        shade = cmap(0.15 + 0.85 * t.agencies / top) if t.agencies else "white"
        ax.add_patch(Rectangle((t.col, -t.row), 0.92, 0.92, facecolor=shade, edgecolor=EDGE, linewidth=0.8,
                               hatch="////" if not t.agencies else None))
        ink = "white" if t.agencies and t.agencies / top > 0.55 else "black"
        ax.text(t.col + 0.46, -t.row + 0.6, t.state, ha="center", va="center", fontsize=9, weight="bold", color=ink)
        ax.text(t.col + 0.46, -t.row + 0.28, f"{t.agencies:,}", ha="center", va="center", fontsize=7.5, color=ink)
    ax.set_xlim(-0.2, max(t.col for t in tiles) + 1.1)
    ax.set_ylim(-max(t.row for t in tiles) - 0.2, 1.1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.grid(False)
    ax.set_xlabel("each square: a state (USPS code) and its agencies (count)")
    ax.set_title(title, loc="left")
    none = [t.state for t in tiles if not t.agencies]
    listed = ", ".join(none) if len(none) <= 12 else f"{len(none)} states; the table lists them"
    note = (f"Hatched, 0: no agency on the map ({listed}). Darker squares: more agencies (most: {top:,})."
            if none else f"Every state and DC has an agency. Darker squares: more agencies (most: {top:,}).")
    description = (f"Tile map of the 50 states and DC in {quarter}, one square each, shaded by agencies; "
                   f"{len(none)} with none" + (f": {', '.join(none)}." if none else "."))
    return _finish(fig, slug, title, description, table, source, note=note)


def video_requests_per_period(data: ReportData) -> Chart:
    slug, title = "video-requests-by-period", "Video requests per period (the map's per-agency counts)"
    periods = list(data.video_periods)
    table = Table(("period", "agencies reporting", "requests"),
                  tuple((p.label, p.agencies_reporting, p.requests) for p in periods))
    fig, ax = _figure(9, 4.2)
    source = _map_source(data, data.video_quarters)
    if not periods:
        return _empty(fig, ax, slug, title, "No snapshot held carries per-agency video-request counts (the map "
                      "had them until mid-2021: backfill 2019-2021 or import an archived map).", table,
                      source)
    xs = range(len(periods))
    bars = ax.bar(list(xs), [p.requests for p in periods], width=0.7, color=DARK)
    ax.bar_label(bars, labels=[f"{p.requests:,}" for p in periods], padding=2, fontsize=8)
    ax.set_xticks(list(xs), [p.label for p in periods], fontsize=8, rotation=30 if len(periods) > 6 else 0)
    ax.set_xlabel("period the counts cover")
    ax.set_ylabel("video requests (count)")
    ax.yaxis.set_major_formatter(_thousands)
    ax.grid(axis="x", visible=False)
    ax.set_title(title, loc="left")
    note = "Each agency's count for a period is taken once, from the latest snapshot that carried it."
    description = "Bar chart of video requests per period: " + "; ".join(
        f"{p.label} {p.requests:,} from {p.agencies_reporting:,} agencies" for p in periods) + "."
    return _finish(fig, slug, title, description, table, source, note=note)


def top_video_requesters(data: ReportData) -> Chart:
    rows = list(data.top_requesters)
    period = rows[0].period_label if rows else None
    slug = "top-video-requesters"
    title = f"The {len(rows) or 10} agencies with the most video requests, {period or 'latest period'}"
    table = Table(("agency", "city", "state", "requests"),
                  tuple((r.name, r.city or "", r.state or "", r.requests) for r in rows))
    fig, ax = _figure(9, max(3.2, 0.32 * len(rows) + 1.6))
    source = _map_source(data, {r.quarter for r in rows if r.quarter})
    if not rows:
        return _empty(fig, ax, slug, title, "No snapshot held carries per-agency video-request counts.", table,
                      source)
    ys = range(len(rows))
    bars = ax.barh(list(ys), [r.requests for r in rows], height=0.7, color=DARK)
    ax.bar_label(bars, labels=[f"{r.requests:,}" for r in rows], padding=2, fontsize=8)
    ax.set_yticks(list(ys), [f"{r.name} ({r.state or '?'})" for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("video requests in the period (count)")
    ax.set_ylabel("agency")
    ax.xaxis.set_major_formatter(_thousands)
    ax.grid(axis="y", visible=False)
    ax.set_title(title, loc="left")
    description = f"Bar chart of the agencies with the most video requests in {period}: " + "; ".join(
        f"{r.name} {r.requests:,}" for r in rows[:3]) + "."
    return _finish(fig, slug, title, description, table, source)


def states_grown_most(data: ReportData) -> Chart:
    baseline, latest = data.growth_baseline, data.latest_quarter
    window = f"{baseline} to {latest}" if baseline else "over the last four quarters"
    slug, title = "states-grown-most", f"The ten states that gained the most agencies, {window}"
    table = Table(("state", "agencies_before", "agencies_after", "growth"),
                  tuple((g.state, g.agencies_before, g.agencies_after, g.growth) for g in data.growth))
    growth = list(data.growth)
    fig, ax = _figure(9, max(3.2, 0.32 * len(growth) + 1.8))
    source = _map_source(data, [q for q in (baseline, latest) if q])
    if not growth:
        message = (f"Growth needs two agency-map snapshots; {len(data.quarters_held)} held." if baseline is None
                   else f"No state gained agencies between {baseline} and {latest}.")
        return _empty(fig, ax, slug, title, message, table, source)
    ys = range(len(growth))
    bars = ax.barh(list(ys), [g.growth for g in growth], height=0.65, color=DARK)
    ax.bar_label(bars, labels=[f"+{g.growth:,} ({g.agencies_before:,} → {g.agencies_after:,})" for g in growth],
                 padding=3, fontsize=8)
    ax.set_yticks(list(ys), [g.state for g in growth])
    ax.set_ylim(len(growth) - 0.5, -0.5)
    ax.set_xlabel(f"agencies gained, net of departures (count), {baseline} to {latest}")
    ax.set_ylabel("state (USPS code)")
    ax.set_xlim(0, max(g.growth for g in growth) * 1.35)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_title(title, loc="left")
    note = ""
    if baseline is not None and latest is not None and _index(latest) - _index(baseline) != 4:
        note = (f"No snapshot is held for four quarters before {latest}; "
                f"the nearest quarter held, {baseline}, is the baseline.")
    description = ("Bar chart of the states that gained most agencies from "
                   f"{baseline} to {latest}: " + ", ".join(f"{g.state} +{g.growth:,}" for g in growth) + ".")
    return _finish(fig, slug, title, description, table, source, note=note)


def agencies_by_type(data: ReportData) -> Chart:
    slug, title = "agencies-by-type", "Agencies by type, by quarter held"
    counts = {(t.quarter, t.agency_type): t.agencies for t in data.by_type}
    held = list(data.quarters_held)
    # A held snapshot with no agency of a type holds zero of them: that zero is observed.
    table = Table(("quarter", *TYPE_STYLES), tuple((q, *(counts.get((q, t), 0) for t in TYPE_STYLES)) for q in held))
    fig, ax = _figure(9, 4.8)
    if not held:
        return _empty(fig, ax, slug, title, "No agency-map snapshot is held yet: run 'ringwatch sync'.", table,
                      _map_source(data))
    _shade_gaps(ax, held)
    for agency_type, (colour, dash, marker) in TYPE_STYLES.items():
        xs, ys = series_with_gaps({q: counts.get((q, agency_type), 0) for q in held})
        ax.plot(xs, ys, color=colour, linestyle=dash, marker=marker, markersize=5, linewidth=1.8,
                label=agency_type)
    _quarter_axis(ax, _index(held[0]), _index(held[-1]))
    ax.set_ylabel("agencies (count)")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(_thousands)
    ax.set_title(title, loc="left")
    _legend_beside(ax, _legend_with_gap(ax, dict.fromkeys(held, 0)))
    latest = held[-1]
    description = (f"Line chart of agencies by type over {len(held)} quarter(s) held; in {latest}: "
                   + ", ".join(f"{t} {counts.get((latest, t), 0):,}" for t in TYPE_STYLES) + ".")
    return _finish(fig, slug, title, description, table, _map_source(data))


def requests_by_outcome(data: ReportData) -> Chart:
    slug, title = "requests-by-outcome", "Law-enforcement requests to Ring by type and outcome, per period"
    ranges = _ranges_by_key(data.ranges)
    table = Table(("period", "period_start", "period_end", "request_type", "received", "full_response",
                   "partial_response", "no_response", "given_as_range"),
                  tuple((period_name(r.period_start, r.period_end), r.period_start, r.period_end, r.request_type,
                         r.received, r.full_response, r.partial_response, r.no_response,
                         "; ".join(f"{o} {lo:,}-{hi:,}" for o, lo, hi in
                                   ranges.get((r.period_start, r.period_end, r.request_type), [])) or None)
                        for r in data.requests))
    types = _request_types(data)
    if not types:
        fig, ax = _figure(9, 4.2)
        return _empty(fig, ax, slug, title, "No transparency figures are held yet: "
                      "run 'ringwatch sync --source transparency'.", table, _report_source(data))
    periods = _periods(data)
    columns = 1 if len(types) == 1 else 2
    rows = math.ceil(len(types) / columns)
    fig = _new_figure(9 if columns == 2 else 7, 2.7 * rows + 1.9)
    # A first, axis-less row holds the legend, so it never meets the title or the source line.
    grid = fig.add_gridspec(rows + 1, columns, height_ratios=[0.18, *([1.0] * rows)])
    key = fig.add_subplot(grid[0, :])
    key.axis("off")
    panels = [fig.add_subplot(grid[1 + n // columns, n % columns]) for n in range(len(types))]
    by_key = {(r.period_start, r.period_end, r.request_type): r for r in data.requests}
    for ax, request_type in zip(panels, types, strict=True):
        _outcome_panel(ax, [(by_key.get((s, e, request_type)), ranges.get((s, e, request_type), []))
                            for s, e in periods], periods)
        ax.set_title(REQUEST_TYPE_NAMES.get(request_type, request_type.replace("_", " ")), loc="left", fontsize=10)
        ax.set_ylabel("requests (count)")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12)
    key.legend(handles=[Patch(facecolor=c, edgecolor=EDGE, hatch=h, label=n) for n, c, h in OUTCOME_STYLES.values()]
               + [Patch(facecolor="white", edgecolor=EDGE, hatch="xx", label="received, outcome not given"),
                  Patch(facecolor="white", edgecolor=EDGE, hatch="||", label="received, given only as a range")],
               loc="center left", ncols=3, frameon=False, fontsize=8)
    mismatched = [r for r in data.requests if r.received is not None and any(v is not None for v in _outcomes(r))
                  and sum(v or 0 for v in _outcomes(r)) != r.received]
    note = ("A black tick marks the number received where the outcomes given do not add up to it."
            if mismatched else "")
    description = (f"Stacked bar charts, one per request type ({', '.join(types)}), over {len(periods)} period(s): "
                   "requests answered in full, in part, or not at all; the number above each bar is the number "
                   "received.")
    return _finish(fig, slug, title, description, table, _report_source(data), note=note)


def complied_share(data: ReportData) -> Chart:
    slug, title = "complied-share", "Share of requests Ring complied with (in full or in part), per period"
    with_share = [r for r in data.requests if r.complied_share is not None]
    table = Table(("period", "period_start", "period_end", "request_type", "complied_share"),
                  tuple((period_name(r.period_start, r.period_end), r.period_start, r.period_end, r.request_type,
                         r.complied_share) for r in with_share))
    fig, ax = _figure(9, 4.6)
    if not with_share:
        message = ("No transparency figures are held yet: run 'ringwatch sync --source transparency'."
                   if not data.requests else "No period gives all three outcomes, so no share can be computed.")
        return _empty(fig, ax, slug, title, message, table, _report_source(data))
    periods = _periods(data)
    position = {p: i for i, p in enumerate(periods)}
    types = _request_types(data, with_share=True)
    for number, (request_type, (dash, marker, colour)) in enumerate(zip(types, SHARE_STYLES, strict=False)):
        dodge = (number - (len(types) - 1) / 2) * 0.06  # side by side, so equal shares do not hide each other
        points = sorted((position[(r.period_start, r.period_end)], r.complied_share or 0.0)
                        for r in with_share if r.request_type == request_type)
        xs = [x + dodge for x, _ in points]
        ys = [y * 100 for _, y in points]
        ax.plot(xs, ys, linestyle=dash, marker=marker, color=colour, linewidth=1.4, markersize=6,
                markeredgecolor=EDGE, markeredgewidth=0.5, label=REQUEST_TYPE_NAMES.get(request_type, request_type))
        if request_type == "all":
            for x, y in zip(xs, ys, strict=True):
                ax.annotate(f"{y:.0f}%", (x, y), textcoords="offset points", xytext=(-8, 0), ha="right",
                            va="center", fontsize=8, fontweight="bold")
    _period_ticks(ax, periods, crowded_at=8)
    ax.set_xlabel("reporting period")
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.set_ylabel("complied with (% of requests answered)")
    ax.set_title(title, loc="left")
    _legend_beside(ax, ax.get_legend_handles_labels()[0])
    description = ("Line chart of the share of requests answered in full or in part: "
                   + "; ".join(f"{period_name(r.period_start, r.period_end)} {r.request_type} "
                               f"{(r.complied_share or 0) * 100:.0f}%" for r in with_share[:6]) + ".")
    return _finish(fig, slug, title, description, table, _report_source(data),
                   note="Share = (full + partial) / (full + partial + none), where the report gives all three.")


# --- helpers ---------------------------------------------------------------------------------

def period_name(start: date, end: date) -> str:
    """A short name for a reporting period: 2021, 2021 H1, 2021 Q3, else the two dates."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    whole_months = start.day == 1 and (end + timedelta(days=1)).day == 1
    if whole_months and start.year == end.year:
        if months == 12:
            return str(start.year)
        if months == 6 and start.month in (1, 7):
            return f"{start.year} H{1 if start.month == 1 else 2}"
        if months == 3 and start.month in (1, 4, 7, 10):
            return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"


def _outcomes(r: PeriodRequests) -> tuple[int | None, int | None, int | None]:
    return r.full_response, r.partial_response, r.no_response


def _outcome_panel(ax: Axes, cells: Sequence[tuple[PeriodRequests | None, list[tuple[str, int, int]]]],
                   periods: Sequence[tuple[date, date]]) -> None:
    """One request type: per period a stack of outcomes, a hollow bar when only the number
    received is known, or a floating bar from low to high for a range; the number received
    (or the range) is written above. A period with none of these stays empty: unknown is
    not zero."""
    xs = range(len(periods))
    top = 0.0
    for x, (row, row_ranges) in zip(xs, cells, strict=True):
        label, height = None, 0.0
        known = [(k, v) for k, v in zip(OUTCOME_STYLES, _outcomes(row), strict=True) if v is not None] if row else []
        if row is not None and known:
            bottom = 0
            for key, value in known:
                _name, colour, hatch = OUTCOME_STYLES[key]
                ax.bar(x, value, bottom=bottom, width=0.7, color=colour, edgecolor=EDGE, linewidth=0.6, hatch=hatch)
                bottom += value
            height = float(max(bottom, row.received or 0))
            if row.received is not None and row.received != bottom:
                ax.plot([x - 0.4, x + 0.4], [row.received, row.received], color=EDGE, linewidth=2)
            label = f"{row.received:,}" if row.received is not None else f"{bottom:,} (sum)"
        elif row is not None and row.received is not None:
            ax.bar(x, row.received, width=0.7, color="white", edgecolor=EDGE, linewidth=0.8, hatch="xx")
            height, label = float(row.received), f"{row.received:,}"
        else:
            received = [(lo, hi) for outcome, lo, hi in row_ranges if outcome == "received"]
            if received:
                lo, hi = received[0]
                ax.bar(x, hi - lo, bottom=lo, width=0.7, color="white", edgecolor=EDGE, linewidth=0.8, hatch="||")
                height, label = float(hi), f"{lo:,}-{hi:,}"
        if label is not None:
            ax.annotate(label, (x, height), textcoords="offset points", xytext=(0, 2), ha="center", va="bottom",
                        fontsize=8)
        top = max(top, height)
    _period_ticks(ax, periods, crowded_at=4)
    ax.set_ylim(0, max(top * 1.15, 1))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.yaxis.set_major_formatter(_thousands)


def _period_ticks(ax: Axes, periods: Sequence[tuple[date, date]], *, crowded_at: int) -> None:
    """One tick per period; slanted when there are many or their names are long."""
    names = [period_name(s, e) for s, e in periods]
    slanted = len(names) > crowded_at or any(len(n) > 8 for n in names) and len(names) > 1
    ax.set_xticks(range(len(names)), names, fontsize=8, rotation=30 if slanted else 0,
                  ha="right" if slanted else "center")
    ax.set_xlim(-0.5, len(names) - 0.5)


def _ranges_by_key(ranges: Sequence[RequestRange]) -> dict[tuple[date, date, str], list[tuple[str, int, int]]]:
    found: dict[tuple[date, date, str], list[tuple[str, int, int]]] = {}
    for r in ranges:
        found.setdefault((r.period_start, r.period_end, r.request_type), []).append((r.outcome, r.low, r.high))
    return found


def _request_types(data: ReportData, *, with_share: bool = False) -> list[str]:
    if with_share:
        present = {r.request_type for r in data.requests if r.complied_share is not None}
    else:
        present = {r.request_type for r in data.requests
                   if r.received is not None or any(v is not None for v in _outcomes(r))}
        present |= {r.request_type for r in data.ranges if r.outcome == "received"}
    known = [t for t in REQUEST_TYPE_ORDER if t in present]
    return known + sorted(present - set(known))


def _periods(data: ReportData) -> list[tuple[date, date]]:
    return sorted({(r.period_start, r.period_end) for r in data.requests}
                  | {(r.period_start, r.period_end) for r in data.ranges})


def _thousands(value: float, _position: float = 0) -> str:
    return f"{value:,.0f}"


def _index(label: str) -> int:
    q = Quarter.parse(label)
    return q.year * 4 + q.number - 1


def _label(index: int) -> str:
    return f"{index // 4}Q{index % 4 + 1}"


def _quarter_span(*series: dict[str, Any]) -> list[str]:
    indexes = [_index(q) for s in series for q in s]
    if not indexes:
        return []
    return [_label(i) for i in range(min(indexes), max(indexes) + 1)]


def series_with_gaps(values: dict[str, int]) -> tuple[list[int], list[float]]:
    """Every quarter from the first to the last held, NaN where none is held, so the line
    breaks at a gap instead of drawing across it."""
    span = _quarter_span(values)
    return [_index(q) for q in span], [float(values[q]) if q in values else math.nan for q in span]


def _shade_gaps(ax: Axes, held: Sequence[str]) -> None:
    present = {_index(q) for q in held}
    for i in range(min(present), max(present) + 1):
        if i not in present:
            ax.axvspan(i - 0.5, i + 0.5, color=GAP, zorder=0, linewidth=0)


def _legend_with_gap(ax: Axes, held: dict[str, int]) -> list[Any]:
    handles = list(ax.get_legend_handles_labels()[0])
    span = _quarter_span(held)
    if len(span) > len(held):
        handles.append(Patch(facecolor=GAP, label="no snapshot held (gap, not interpolated)"))
    return handles


def _legend_beside(ax: Axes, handles: list[Any]) -> None:
    """The legend to the right of the plot, labels wrapped, so it never hides a line or a bar."""
    for handle in handles:
        handle.set_label(textwrap.fill(str(handle.get_label()), 24))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8.5,
              labelspacing=0.9)


def _quarter_axis(ax: Axes, lo: int, hi: int) -> None:
    if hi - lo <= 12:
        ticks = list(range(lo, hi + 1))
        ax.set_xticks(ticks, [_label(i) for i in ticks], rotation=45 if len(ticks) > 6 else 0, ha="right"
                      if len(ticks) > 6 else "center", fontsize=8)
        ax.set_xlabel("quarter")
    else:
        years = [i for i in range(lo, hi + 1) if i % 4 == 0]
        ax.set_xticks(years, [str(i // 4) for i in years])
        ax.set_xticks(range(lo, hi + 1), minor=True)
        ax.set_xlabel("quarter (labels at each year's Q1)")
    ax.set_xlim(lo - 0.7, hi + 0.7)


def map_credit(quarter_origins: Iterable[tuple[str, str]]) -> str:
    """Who to credit for agency-map quarters, from where each came: EFF's Atlas for quarters
    loaded from an Atlas export, Ring's map for the rest (live, wayback, file), both when mixed,
    each naming its quarters then."""
    held = list(quarter_origins)
    atlas = [q for q, origin in held if origin == ATLAS_ORIGIN]
    ring = [q for q, origin in held if origin != ATLAS_ORIGIN]
    if atlas and ring:
        return f"{RING_MAP} for {_quarter_list(ring)}; {EFF_ATLAS} for {_quarter_list(atlas)}"
    if atlas:
        return f"{EFF_ATLAS}, its Ring/Neighbors partnership records"
    return f"{RING_MAP} (Neighbors public-safety agencies)"


def _quarter_list(quarters: Sequence[str]) -> str:
    if len(quarters) <= 4:
        return ", ".join(quarters)
    return f"{len(quarters)} quarters, {quarters[0]} to {quarters[-1]}"


def _map_source(data: ReportData, quarters: Iterable[str] | None = None) -> str:
    """The source line of a chart drawn from the agency-map quarters `quarters` (None: every
    quarter held), crediting where those quarters came from."""
    wanted = None if quarters is None else set(quarters)
    held = [(q, origin) for q, origin in data.quarter_origins if wanted is None or q in wanted]
    origins = sorted({origin for _q, origin in held})
    return (f"Source: {map_credit(held)}, quarterly snapshots kept by ringwatch; "
            f"origins: {', '.join(origins) or 'none'}. Made {data.made_at:%Y-%m-%d}.")


def _report_source(data: ReportData) -> str:
    origins = sorted({o.origin for o in data.origins if o.source == "transparency"})
    return (f"Source: {RING_REPORTS}, current figures (U.S.) kept by ringwatch; "
            f"origins: {', '.join(origins) or 'none'}. Made {data.made_at:%Y-%m-%d}.")


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    # Keep a strip at the bottom for the source line (and a note), outside the axes.
    bottom = 2 * SOURCE_LINE_INCHES / height
    fig.set_layout_engine("constrained", rect=(0, bottom, 1, 1 - bottom))  # left, bottom, width, height
    return fig


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = _new_figure(width, height)
    return fig, fig.add_subplot()


def _chars_across(fig: Figure, fontsize: float) -> int:
    """How many characters of a `fontsize` line fit across the figure, less a margin: DejaVu Sans
    averages just under 0.6 em a character in English text, digits and punctuation included."""
    return max(40, int(fig.get_figwidth() * 72 / (0.6 * fontsize)) - 4)


def _empty(fig: Figure, ax: Axes, slug: str, title: str, message: str, table: Table, source: str) -> Chart:
    ax.set_title(title, loc="left")
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=11, wrap=True,
            bbox={"facecolor": "white", "edgecolor": "#999999", "boxstyle": "round,pad=0.6"})
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[["left", "bottom"]].set_visible(False)
    return _finish(fig, slug, title, f"No chart: {message}", table, source, has_data=False)


def _finish(fig: Figure, slug: str, title: str, description: str, table: Table, source: str, *,
            note: str = "", has_data: bool = True) -> Chart:
    height = fig.get_figheight()
    if note:
        fig.text(0.01, 1.45 * SOURCE_LINE_INCHES / height, note, fontsize=8, color="#333333", ha="left", va="bottom")
    # Wrapped here, not by matplotlib (wrap=True), which measures the line word by word at every draw.
    fig.text(0.01, 0.4 * SOURCE_LINE_INCHES / height, textwrap.fill(source, _chars_across(fig, 7.5)), fontsize=7.5,
             color="#444444", ha="left", va="bottom")
    svg, png = io.BytesIO(), io.BytesIO()
    fig.savefig(svg, format="svg", metadata={"Date": None, "Title": title, "Description": description})
    # The layout is in fractions of the figure, the same at any dpi: the PNG reuses the SVG's
    # rather than solving it again (a third of the drawing time went to solving it twice).
    fig.set_layout_engine("none")
    fig.savefig(png, format="png", dpi=PNG_DPI, metadata={"Title": title, "Source": source})
    return Chart(slug, title, description, svg.getvalue(), png.getvalue(), table, has_data)
