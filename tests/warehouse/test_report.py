"""The trend report: every chart present, the tables equal to SQL on the same database, an
empty database reported plainly, nothing fetched to view it, and the database untouched."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from bs4 import BeautifulSoup, Tag
from click.testing import CliRunner

from ringwatch.flows.cli import cli
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.presentation.report import charts
from ringwatch.warehouse.presentation.report.build import ReportFiles
from ringwatch.warehouse.presentation.report.data import growth_baseline, read_report_data
from tests.conftest import SharedReport
from tests.report_db import LATEST

SLUGS = ["agencies-over-time", "joins-and-departures", "agencies-by-state", "agencies-tile-map",
         "states-grown-most", "agencies-by-type", "requests-by-outcome", "complied-share", "video-requests-by-period",
         "top-video-requesters"]


@pytest.fixture(scope="module")
def small_db(shared_report: SharedReport) -> Path:
    return shared_report.db


@pytest.fixture(scope="module")
def small_report(shared_report: SharedReport) -> ReportFiles:
    return shared_report.files


@pytest.fixture(scope="module")
def page(small_report: ReportFiles) -> BeautifulSoup:
    return BeautifulSoup(small_report.html.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture
def sql(small_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(small_db, read_only=True)
    yield con
    con.close()


def table_rows(page: BeautifulSoup, table_id: str) -> list[list[str]]:
    table = page.find("table", id=table_id)
    assert isinstance(table, Tag), f"no table #{table_id}"
    return [[cell.get_text() for cell in row.find_all("td")] for row in table.find("tbody").find_all("tr")]


def cells(rows: list[tuple[Any, ...]]) -> list[list[str]]:
    """SQL rows as the report writes them: thousands separators, four decimals, ISO dates."""
    def one(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, int):
            return f"{v:,}"
        if isinstance(v, float):
            return f"{v:.4f}"
        if isinstance(v, date):
            return v.isoformat()
        return str(v)
    return [[one(v) for v in row] for row in rows]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_every_chart_is_in_the_html_and_written_as_png(small_report: ReportFiles, page: BeautifulSoup) -> None:
    figures = page.find_all("figure")
    assert [f["id"] for f in figures] == [f"chart-{s}" for s in SLUGS]
    assert all(f["data-has-data"] == "true" for f in figures)
    for figure in figures:
        img = figure.find("img")
        assert img["src"].startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(img["src"].split(",", 1)[1])
        assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg and len(svg) > 10_000
        assert len(img["alt"]) > 40  # says what the chart shows
    assert [p.name for p in small_report.pngs] == [f"{n:02d}-{s}.png" for n, s in enumerate(SLUGS, start=1)]
    for png in small_report.pngs:
        width, height = png_size(png.read_bytes())
        assert width >= 1000 and height >= 400
    assert small_report.charts_with_data == len(SLUGS) == 10 and not small_report.database_empty


def test_the_latest_quarter_table_matches_sql(page: BeautifulSoup, sql: duckdb.DuckDBPyConnection) -> None:
    assert table_rows(page, "latest-changes") == cells(sql.execute(
        "SELECT change, name, agency_type, city, state FROM agency_changes WHERE quarter = ? "
        "ORDER BY change, state, name", [LATEST]).fetchall())
    assert table_rows(page, "latest-summary") == cells(sql.execute(
        "SELECT quarter, agencies, compared_with, joined, \"left\" FROM agency_counts_by_quarter "
        "WHERE quarter = ?", [LATEST]).fetchall())
    assert table_rows(page, "latest-summary") == [["2024Q2", "50", "2024Q1", "13", "2"]]


def test_chart_tables_match_the_views(page: BeautifulSoup, sql: duckdb.DuckDBPyConnection) -> None:
    observed = dict(sql.execute("SELECT quarter, agencies FROM agency_counts_by_quarter").fetchall())
    rebuilt = dict(sql.execute("SELECT quarter, cumulative FROM agency_joins_by_quarter").fetchall())
    over_time = table_rows(page, "data-agencies-over-time")
    assert {r[0]: r[1] for r in over_time if r[1]} == {q: f"{n:,}" for q, n in observed.items()}
    assert {r[0]: r[2] for r in over_time if r[2]} == {q: f"{n:,}" for q, n in rebuilt.items()}
    assert ["2023Q3", "", f"{rebuilt['2023Q3']:,}"] in over_time  # the quarter not held is a gap, not a zero
    assert table_rows(page, "data-joins-and-departures") == cells(sql.execute(
        "SELECT quarter, compared_with, joined, \"left\" FROM agency_counts_by_quarter "
        "WHERE compared_with IS NOT NULL ORDER BY quarter").fetchall())
    assert table_rows(page, "data-agencies-by-state") == cells(sql.execute(
        "SELECT state, agencies FROM agency_counts_by_state WHERE quarter = ? AND state IS NOT NULL "
        "ORDER BY agencies DESC, state", [LATEST]).fetchall())
    by_type = sql.execute("SELECT quarter, agency_type, agencies FROM agency_counts_by_type").fetchall()
    for quarter, police, sheriff, fire, other in table_rows(page, "data-agencies-by-type"):
        for agency_type, shown in (("police", police), ("sheriff", sheriff), ("fire", fire), ("other", other)):
            assert shown == str(next((n for q, t, n in by_type if q == quarter and t == agency_type), 0))
    assert [r[1:8] for r in table_rows(page, "data-requests-by-outcome")] == cells(sql.execute(
        "SELECT period_start, period_end, request_type, received, full_response, partial_response, no_response "
        "FROM le_requests_by_period ORDER BY period_start, period_end, request_type").fetchall())
    assert [r[1:] for r in table_rows(page, "data-complied-share")] == cells(sql.execute(
        "SELECT period_start, period_end, request_type, complied_share FROM le_requests_by_period "
        "WHERE complied_share IS NOT NULL ORDER BY period_start, period_end, request_type").fetchall())


def test_state_growth_is_measured_against_four_quarters_back(page: BeautifulSoup,
                                                             sql: duckdb.DuckDBPyConnection) -> None:
    # 2023Q2 is four quarters before 2024Q2 and is held: it is the baseline.
    expected = sql.execute("""
        SELECT n.state, coalesce(b.agencies, 0), n.agencies, n.agencies - coalesce(b.agencies, 0) AS g
        FROM agency_counts_by_state n
        LEFT JOIN agency_counts_by_state b ON b.state = n.state AND b.quarter = '2023Q2'
        WHERE n.quarter = '2024Q2' AND n.state IS NOT NULL AND g > 0
        ORDER BY g DESC, n.state LIMIT 10""").fetchall()
    assert table_rows(page, "data-states-grown-most") == cells(expected)
    assert "2023Q2 to 2024Q2" in page.find(id="chart-states-grown-most").find("img")["alt"]


def test_growth_baseline_takes_the_nearest_quarter_held() -> None:
    assert growth_baseline(("2024Q2",)) is None
    assert growth_baseline(("2023Q1", "2023Q2", "2024Q2")) == "2023Q2"
    assert growth_baseline(("2022Q4", "2023Q1", "2023Q3", "2024Q2")) == "2023Q1"  # none exactly four back
    assert growth_baseline(("2024Q1", "2024Q2")) == "2024Q1"  # none that old: the oldest held


def test_freshness_header_names_each_source_and_origin(page: BeautifulSoup) -> None:
    freshness = table_rows(page, "freshness-table")
    assert [r[0] for r in freshness] == ["agency_map", "transparency"]
    assert "(2024Q2)" in freshness[0][1] and freshness[0][4] == "5 quarters: 2023Q1 to 2024Q2"
    origins = table_rows(page, "origins-table")
    assert [r[:2] for r in origins] == [["agency_map", "atlas"], ["agency_map", "file"], ["agency_map", "live"],
                                        ["agency_map", "wayback"], ["transparency", "live"]]
    assert origins[3][2] == "2 quarters: 2023Q1 to 2023Q2"


def test_the_html_needs_nothing_from_the_network(page: BeautifulSoup) -> None:
    assert page.find_all("script") == [] and page.find_all("link") == [] and page.find_all("iframe") == []
    sources = [tag.get("src") for tag in page.find_all(src=True)]
    assert sources and all(s.startswith("data:") for s in sources)
    assert all(a["href"].startswith("#") for a in page.find_all("a", href=True))
    assert "url(" not in page.find("style").get_text()


def test_the_report_changes_nothing_in_the_database(shared_report: SharedReport) -> None:
    before = shared_report.db_sha256_before  # taken right before the report was built from it
    small_db = shared_report.db
    assert hashlib.sha256(small_db.read_bytes()).hexdigest() == before
    assert not small_db.with_name(small_db.name + ".wal").exists()


def test_the_new_charts_draw_what_the_views_say(page: BeautifulSoup, sql: duckdb.DuckDBPyConnection) -> None:
    assert table_rows(page, "data-video-requests-by-period") == cells(sql.execute(
        "SELECT period_label, agencies_reporting, requests FROM video_requests_by_period "
        "ORDER BY period_start").fetchall())
    assert [r[0] for r in table_rows(page, "data-video-requests-by-period")] == ["Q1 2023", "Q2 2023"]
    top = table_rows(page, "data-top-video-requesters")
    independent = sql.execute(
        "SELECT s.name, s.city, s.state, f.value_number::BIGINT FROM agency_snapshot_fields f "
        "JOIN agency_snapshots s USING (quarter, agency_id) WHERE f.field_name = 'Video Requests (Q2 2023)' "
        "ORDER BY f.value_number DESC, s.name LIMIT 10").fetchall()
    assert top == [[n, c or "", s or "", f"{v:,}"] for n, c, s, v in independent]
    tiles = {r[0]: r[1] for r in table_rows(page, "data-agencies-tile-map")}
    assert len(tiles) == 51
    counts = dict(sql.execute("SELECT state, agencies FROM agency_counts_by_state WHERE quarter = ?",
                              [LATEST]).fetchall())
    assert tiles == {state: f"{counts.get(state, 0):,}" for state in tiles}
    without = {r[0] for r in sql.execute("SELECT state FROM states_without_agencies WHERE quarter = ?",
                                         [LATEST]).fetchall()}
    assert {s for s, n in tiles.items() if n == "0"} == without


def test_an_empty_database_gives_a_report_that_says_so(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    connect(db).close()
    result = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "holds no snapshot and no transparency figures yet" in result.stderr
    soup = BeautifulSoup((tmp_path / "r.html").read_text(encoding="utf-8"), "html.parser")
    assert "ringwatch sync" in soup.find(id="empty-notice").get_text()
    figures = soup.find_all("figure")
    assert [f["id"] for f in figures] == [f"chart-{s}" for s in SLUGS]
    assert all(f["data-has-data"] == "false" and "No chart:" in f.find("figcaption").get_text() for f in figures)
    assert len(list((tmp_path / "r-charts").glob("*.png"))) == len(SLUGS)


def test_a_missing_database_is_an_error_not_an_empty_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "--db", str(tmp_path / "nope.duckdb"), "--out",
                                      str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "no ringwatch database at" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_cli_writes_where_asked_and_says_what_it_wrote(small_db: Path, tmp_path: Path, charts_drawn_once: None
                                                       ) -> None:
    out, pngs = tmp_path / "out" / "trends.html", tmp_path / "charts"
    result = CliRunner().invoke(cli, ["report", "--db", str(small_db), "--out", str(out), "--png-dir", str(pngs)])
    assert result.exit_code == 0, result.output
    assert out.exists() and sorted(p.name for p in pngs.iterdir()) == [f"{n:02d}-{s}.png"
                                                                       for n, s in enumerate(SLUGS, start=1)]
    assert f"wrote {out}" in result.stdout and "10 with data" in result.stdout
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # readable by others, like any written file


def test_one_snapshot_only_says_what_is_missing(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from ringwatch.scrapers.records import Snapshot
    from ringwatch.warehouse.load import load_agency_snapshot
    from tests.report_db import agency

    db = tmp_path / "one.duckdb"
    con = connect(db)
    load_agency_snapshot(con, Snapshot("agency_map", "2020Q3", datetime(2020, 10, 7, tzinfo=UTC),
                                       tuple(agency(n) for n in range(5))), capture_id=1, origin="atlas", run_id=1)
    con.close()
    data = read_report_data(db)
    drawn = {c.slug: c for c in charts.draw_charts(data)}
    assert drawn["agencies-over-time"].has_data and drawn["agencies-by-state"].has_data
    assert not drawn["joins-and-departures"].has_data
    assert "need two agency-map snapshots; 1 held (2020Q3)" in drawn["joins-and-departures"].description
    assert "Growth needs two agency-map snapshots; 1 held" in drawn["states-grown-most"].description
    assert not drawn["requests-by-outcome"].has_data


def test_lines_break_at_quarters_not_held() -> None:
    xs, ys = charts.series_with_gaps({"2023Q1": 20, "2023Q2": 25, "2023Q4": 31})
    assert xs == [2023 * 4, 2023 * 4 + 1, 2023 * 4 + 2, 2023 * 4 + 3]
    assert ys[:2] == [20.0, 25.0] and math.isnan(ys[2]) and ys[3] == 31.0


def test_period_names() -> None:
    assert charts.period_name(date(2020, 1, 1), date(2020, 12, 31)) == "2020"
    assert charts.period_name(date(2021, 7, 1), date(2021, 12, 31)) == "2021 H2"
    assert charts.period_name(date(2022, 4, 1), date(2022, 6, 30)) == "2022 Q2"
    assert charts.period_name(date(2022, 2, 1), date(2022, 7, 31)) == "2022-02-01 to 2022-07-31"
    assert charts.period_name(date(2022, 7, 1), date(2023, 6, 30)) == "2022-07-01 to 2023-06-30"


def luma(colour: str) -> float:
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_series_part_in_greyscale() -> None:
    """Colours drawn side by side differ in lightness, and lines also in dash and marker."""
    stacked = [colour for _name, colour, _hatch in charts.OUTCOME_STYLES.values()]
    lumas = sorted(luma(c) for c in stacked)
    assert all(b - a >= 0.2 for a, b in zip(lumas, lumas[1:], strict=False))
    assert len({h for _n, _c, h in charts.OUTCOME_STYLES.values()}) == len(charts.OUTCOME_STYLES)
    assert luma(charts.PALE) - luma(charts.DARK) >= 0.5  # joins against departures
    styles = list(charts.TYPE_STYLES.values())
    assert len({dash for _c, dash, _m in styles}) == len({m for _c, _d, m in styles}) == len(styles)
    shares = charts.SHARE_STYLES
    assert len({str(d) for d, _m, _c in shares}) == len({m for _d, m, _c in shares}) == len(shares)


def test_the_readme_lists_every_chart(small_report: ReportFiles) -> None:
    # The report's reference moved from the README to docs/export-and-report.md.
    readme = (Path(__file__).resolve().parents[2] / "docs" / "export-and-report.md").read_text(encoding="utf-8")
    for png in small_report.pngs:
        assert f"| `{png.stem}` |" in readme, png.stem
    assert "](report-screenshot.png)" in readme  # docs/report-screenshot.png, relative to docs/
    assert (Path(__file__).resolve().parents[2] / "docs" / "report-screenshot.png").exists()


def test_a_database_without_the_views_says_how_to_upgrade(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = connect(db)
    con.execute("DROP VIEW le_requests_by_year")
    con.execute("DROP VIEW le_requests_by_period")
    con.close()
    result = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "made by an older ringwatch" in result.output and "le_requests_by_period" in result.output
    assert not (tmp_path / "r.html").exists()


def test_every_chart_has_a_title_axis_labels_with_units_and_a_source_line(small_db: Path) -> None:
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as <text>, so the words can be read
        drawn = charts.draw_charts(read_report_data(small_db))
    units = {"agencies-over-time": "agencies (count)", "joins-and-departures": "agencies (count)",
             "agencies-by-state": "agencies (count)", "states-grown-most": "agencies gained",
             "agencies-by-type": "agencies (count)", "requests-by-outcome": "requests (count)",
             "complied-share": "% of requests answered", "agencies-tile-map": "agencies (count)",
             "video-requests-by-period": "video requests (count)",
             "top-video-requesters": "video requests in the period (count)"}
    for chart in drawn:
        words = " ".join(BeautifulSoup(chart.svg, "xml").find_all(string=True))
        assert chart.title in words, chart.slug
        assert units[chart.slug] in words, chart.slug
        assert "Source: Ring's" in words and "origins:" in words, chart.slug
        assert ("quarter" in words or "state (USPS code)" in words or "reporting period" in words
                or chart.slug == "requests-by-outcome"), chart.slug  # the x axis is named
