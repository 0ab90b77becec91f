"""What the report's charts say they cannot know, and whom they credit: agencies on the map
without an Active Date are a labelled band at the latest quarter, never joins of a quarter;
each chart's source line names where the quarters it draws came from (EFF's Atlas for Atlas
imports, Ring's map for live, wayback and file quarters, both when mixed), and the
transparency charts name Ring's reports."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import matplotlib
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from PIL import Image

from ringwatch.flows.cli import cli
from ringwatch.scrapers.quarter import Quarter
from ringwatch.scrapers.records import Agency, Snapshot
from ringwatch.scrapers.sources import Source
from ringwatch.warehouse.db import connect
from ringwatch.warehouse.load import load_agency_snapshot
from ringwatch.warehouse.presentation.report import charts
from ringwatch.warehouse.presentation.report.charts import Chart
from ringwatch.warehouse.presentation.report.data import ReportData, read_report_data
from ringwatch.warehouse.presentation.report.page import render_page
from tests.conftest import SharedReport
from tests.report_db import agency

REAL_ATLAS = Path(__file__).resolve().parents[3] / "shared" / "research" / "data" / "aos_ring_neighbors_20201007.csv"
RING = "Ring's Active Agency Map"
EFF = "EFF Atlas of Surveillance (CC BY 4.0)"
REPORTS = "Ring's law-enforcement transparency reports"
MAP_CHARTS: list[Callable[[ReportData], Chart]] = [
    charts.agencies_over_time, charts.joins_and_departures, charts.agencies_by_state, charts.state_tile_map,
    charts.states_grown_most, charts.agencies_by_type]
UNDATED = {5, 9, 17, 23}  # agencies of the latest quarter below that give no Active Date


def observed(quarter: str) -> datetime:
    q = Quarter.parse(quarter)
    return datetime(q.year, 3 * q.number, 20, tzinfo=UTC)


def make_db(path: Path, quarters: Iterable[tuple[str, str, list[Agency]]]) -> Path:
    con = connect(path)
    try:
        for run, (quarter, origin, agencies) in enumerate(quarters, start=1):
            snapshot = Snapshot(Source.AGENCY_MAP, Quarter.parse(quarter), observed(quarter), tuple(agencies))
            load_agency_snapshot(con, snapshot, capture_id=run, origin=origin, run_id=run)
    finally:
        con.close()
    return path


def members(count: int, *, undated: Iterable[int] = ()) -> list[Agency]:
    gone = set(undated)
    return [replace(agency(n), active_date=None) if n in gone else agency(n) for n in range(count)]


def words(chart: Chart) -> str:
    return " ".join(BeautifulSoup(chart.svg, "xml").find_all(string=True))


def source_of(chart: Chart) -> str:
    """The source line as written into the PNG's tEXt chunk (the whole line, unwrapped)."""
    texts = Image.open(io.BytesIO(chart.png)).text  # type: ignore[attr-defined]
    return str(texts["Source"])


def draw(builder: Callable[[ReportData], Chart], data: ReportData) -> Chart:
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as <text>, so the words can be read
        return builder(data)


@pytest.fixture(scope="module")
def undated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("undated")
    return make_db(folder / "undated.duckdb", [("2023Q4", "wayback", members(24)),
                                               ("2024Q2", "live", members(30, undated=UNDATED))])


def test_undated_agencies_are_a_labelled_band_not_joins(undated_db: Path) -> None:
    data = read_report_data(undated_db)
    con = duckdb.connect(str(undated_db), read_only=True)
    try:
        on_map, without = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE active_date IS NULL) FROM agency_snapshots "
            "WHERE quarter = '2024Q2'").fetchone() or (0, 0)
    finally:
        con.close()
    assert without == len(UNDATED) and on_map == 30
    assert data.join_dates is not None
    assert (data.join_dates.quarter, data.join_dates.dated, data.join_dates.undated) == (
        "2024Q2", on_map - without, without)
    # The reconstruction counts the dated agencies only, each in the quarter of its own date.
    dated = [a.active_date for a in members(30, undated=UNDATED) if a.active_date is not None]
    by_quarter: dict[str, int] = {}
    for d in dated:
        label = f"{d.year}Q{(d.month - 1) // 3 + 1}"
        by_quarter[label] = by_quarter.get(label, 0) + 1
    assert {r.quarter: r.joined for r in data.reconstructed if r.joined} == by_quarter
    assert data.reconstructed[-1].cumulative == len(dated) == on_map - without

    chart = draw(charts.agencies_over_time, data)
    text = words(chart)
    assert f"{without} agencies" in text and "give no join date" in text
    assert f"{without} agencies on the map in 2024Q2 give no Active Date" in text  # the note under the plot
    assert f"{without} agencies in 2024Q2 give no join date" in chart.description
    assert chart.table.columns[-1] == "on_the_map_without_active_date"
    band = {row[0]: row[-1] for row in chart.table.rows if row[-1] is not None}
    assert band == {"2024Q2": without}


def test_no_band_when_every_agency_gives_a_date(tmp_path: Path) -> None:
    data = read_report_data(make_db(tmp_path / "dated.duckdb", [("2024Q2", "live", members(12))]))
    assert data.join_dates is not None and data.join_dates.undated == 0
    chart = draw(charts.agencies_over_time, data)
    assert "no join date" not in words(chart) and "no join date" not in chart.description
    assert chart.table.columns == ("quarter", "observed_agencies", "reconstructed_from_active_dates")


@pytest.mark.parametrize(("origins", "credits", "not_credited"), [
    (("atlas", "atlas"), [EFF], [RING]),
    (("wayback", "live"), [RING], [EFF]),
    (("file", "file"), [RING], [EFF]),
    (("atlas", "live"), [RING, EFF], []),
])
def test_source_lines_credit_the_origins_of_the_quarters_drawn(tmp_path: Path, origins: tuple[str, str],
                                                                credits: list[str], not_credited: list[str]) -> None:
    db = make_db(tmp_path / "mix.duckdb", [("2023Q2", origins[0], members(20)),
                                           ("2024Q2", origins[1], members(26))])
    data = read_report_data(db)
    for builder in (charts.agencies_over_time, charts.joins_and_departures, charts.agencies_by_type):
        source = source_of(draw(builder, data))
        assert all(c in source for c in credits) and not any(c in source for c in not_credited), source
        assert f"origins: {', '.join(sorted(set(origins)))}." in source
    if "atlas" in origins and len(set(origins)) == 2:  # mixed: each credit names its quarters
        source = source_of(draw(charts.agencies_over_time, data))
        assert f"{RING} for 2024Q2" in source and f"{EFF} for 2023Q2" in source
    # Charts of the latest quarter credit only where that quarter came from.
    latest_credit = EFF if origins[1] == "atlas" else RING
    for builder in (charts.agencies_by_state, charts.state_tile_map):
        source = source_of(draw(builder, data))
        assert latest_credit in source and (RING if latest_credit == EFF else EFF) not in source, source
    # The transparency charts name Ring's reports, whatever the map's origins.
    for builder in (charts.requests_by_outcome, charts.complied_share):
        assert source_of(draw(builder, data)).startswith(f"Source: {REPORTS}")
    html = render_page(data, [])
    assert ("atlasofsurveillance.org" in html) == ("atlas" in origins)


def test_the_shared_reports_charts_credit_what_they_draw(shared_report: SharedReport) -> None:
    """tests/report_db.py: 2023Q4 came from the Atlas, the other quarters from Ring's map;
    the latest (2024Q2) is live and the video counts are in the two wayback quarters. Read from
    the chart files the report wrote (NN-<slug>.png), as a reader of the report gets them."""
    sources = {png.stem.split("-", 1)[1]: str(Image.open(png).text["Source"])  # type: ignore[attr-defined]
               for png in shared_report.files.pngs}
    assert len(sources) == 10, sorted(sources)
    for slug in ("agencies-over-time", "joins-and-departures", "agencies-by-type"):
        assert f"{EFF} for 2023Q4" in sources[slug] and f"{RING} for 2023Q1, 2023Q2, 2024Q1, 2024Q2" in sources[slug]
    for slug in ("agencies-by-state", "agencies-tile-map", "states-grown-most", "video-requests-by-period",
                 "top-video-requesters"):
        assert RING in sources[slug] and EFF not in sources[slug], slug
    assert "origins: wayback." in sources["video-requests-by-period"]
    assert "origins: live, wayback." in sources["states-grown-most"]  # 2023Q2 (wayback) to 2024Q2 (live)
    for slug in ("requests-by-outcome", "complied-share"):
        assert sources[slug].startswith(f"Source: {REPORTS}") and "origins: live." in sources[slug]
    page = BeautifulSoup(shared_report.files.html.read_text(encoding="utf-8"), "html.parser")
    credits = page.find(id="credits")
    assert credits is not None and credits.get_text().startswith(f"2023Q4: from the {EFF}")


@pytest.mark.skipif(not REAL_ATLAS.exists(), reason=f"the real Atlas export is not at {REAL_ATLAS}")
def test_the_real_atlas_export(tmp_path: Path) -> None:
    db = tmp_path / "atlas.duckdb"
    result = CliRunner().invoke(cli, ["import-atlas", str(REAL_ATLAS), "--db", str(db)])
    assert result.exit_code == 0, result.output
    data = read_report_data(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        on_map, without = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE active_date IS NULL) FROM agency_snapshots").fetchone() or (0, 0)
        last_date = con.execute("SELECT max(active_date) FROM agency_snapshots").fetchone()
    finally:
        con.close()
    # The figures: the reconstruction ends at 1,328, the map held 1,498, 170 give no date.
    assert [(c.quarter, c.agencies) for c in data.observed] == [("2020Q3", 1498)] and on_map == 1498
    assert data.reconstructed[-1].cumulative == 1328 == on_map - without
    assert sum(r.joined for r in data.reconstructed) == 1328
    assert data.join_dates is not None and data.join_dates.undated == without == 170
    assert last_date is not None and isinstance(last_date[0], date)
    assert data.reconstructed[-1].quarter == f"{last_date[0].year}Q{(last_date[0].month - 1) // 3 + 1}"

    chart = draw(charts.agencies_over_time, data)
    text = words(chart)
    assert "170 agencies" in text and "give no join date" in text and "1,328" in text and "1,498" in text
    assert {row[0]: row[-1] for row in chart.table.rows if row[-1] is not None} == {"2020Q3": 170}
    source = source_of(chart)
    assert source.startswith(f"Source: {EFF}") and RING not in source and "origins: atlas." in source
    for builder in MAP_CHARTS[1:]:
        assert RING not in source_of(draw(builder, data)), builder.__name__
