"""`export` and `report` write only where they wrote before: never over the database, its log,
lock or captures folder, and never over a file ringwatch did not write."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result
from matplotlib.figure import Figure

from ringwatch.flows.cli import cli
from ringwatch.scrapers.errors import OutputRefused
from ringwatch.warehouse.output_guard import refuse_warehouse_paths
from ringwatch.warehouse.presentation.report import build
from ringwatch.warehouse.presentation.report.build import is_ringwatch_chart, mark_chart
from ringwatch.warehouse.presentation.report.charts import draw_charts
from tests.conftest import FIXTURES

MAP = FIXTURES / "agency_map" / "active_agency_map_2024-01-15.kml"
GENERATOR_META = '<meta name="generator" content="ringwatch report">'


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as a user has it after one sync: the database, its lock file and captures folder."""
    folder = tmp_path_factory.mktemp("synced")
    result = invoke("sync", "--from-file", str(MAP), "--observed-at", "2024-01-15",
                    "--db", str(folder / "ringwatch.duckdb"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["ringwatch.captures", "ringwatch.duckdb",
                                                        "ringwatch.duckdb.lock"]
    assert any(p.is_file() for p in (folder / "ringwatch.captures").rglob("*"))
    return folder


@pytest.fixture
def home(synced: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the synced folder, made the working directory."""
    folder = tmp_path / "work"
    shutil.copytree(synced, folder)
    monkeypatch.chdir(folder)
    return folder


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its sha256, and every folder: what a refusal must leave as it was."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def refused(result: Result, *words: str) -> str:
    """The one `Error:` line of a refused command; it exits 1 and names what it was given."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def agencies_in(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM agency_snapshots").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


# --- export ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("out", [".", "ringwatch.captures", "ringwatch.captures/export", "link-to-here", ".."])
def test_export_into_the_database_or_its_captures_is_refused_and_nothing_changes(home: Path, out: str) -> None:
    (home / "link-to-here").symlink_to(home, target_is_directory=True)
    before = tree(home.parent)
    line = refused(invoke("export", "--out", out, "--db", "ringwatch.duckdb"), "will not write the export",
                   "choose another --out")
    assert "the database" in line and "Nothing was written" in line
    assert tree(home.parent) == before
    assert (home / "ringwatch.duckdb.lock").exists() and (home / "ringwatch.captures").is_dir()
    assert agencies_in(home / "ringwatch.duckdb") == 8


def test_the_refusal_names_the_folder_and_what_of_the_database_is_in_it(home: Path) -> None:
    line = refused(invoke("export", "--out", ".", "--db", "ringwatch.duckdb"))
    assert f"to {home}:" in line
    assert f"the database {home / 'ringwatch.duckdb'}" in line
    assert f"captures folder {home / 'ringwatch.captures'}" in line
    assert f"lock file {home / 'ringwatch.duckdb.lock'}" in line
    assert ".wal" not in line  # not there, so not named


def test_export_into_a_folder_holding_a_stray_file_is_refused_and_the_file_is_intact(home: Path) -> None:
    (home / "notes").mkdir()
    (home / "notes" / "story.txt").write_text("draft one\n", encoding="utf-8")
    (home / "notes" / "old").mkdir()
    before = tree(home)
    refused(invoke("export", "--out", "notes", "--db", "ringwatch.duckdb"),
                   str(home / "notes"), "story.txt", "old/", "manifest.json", "choose another --out")
    assert tree(home) == before


def test_export_twice_replaces_its_own_files_and_leaves_the_users_alone(home: Path) -> None:
    first = invoke("export", "--out", "public", "--db", "ringwatch.duckdb")
    assert first.exit_code == 0, first.output
    manifest = json.loads((home / "public" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generator"] == "ringwatch export"
    (home / "public" / "NOTES.md").write_text("published on our site\n", encoding="utf-8")
    (home / "public" / "agencies.parquet").write_bytes(b"stale")  # listed by the manifest: replaced

    second = invoke("export", "--out", "public", "--db", "ringwatch.duckdb")
    assert second.exit_code == 0, second.output
    assert (home / "public" / "NOTES.md").read_text(encoding="utf-8") == "published on our site\n"
    manifest = json.loads((home / "public" / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        data = (home / "public" / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
    assert sorted(p.name for p in (home / "public").iterdir()) == sorted(
        [e["file"] for e in manifest["files"]] + ["manifest.json", "NOTES.md"])  # no hidden partial files left

    as_csv = invoke("export", "--out", "public", "--format", "csv", "--db", "ringwatch.duckdb")
    assert as_csv.exit_code == 0, as_csv.output
    assert "removed" in as_csv.output and "agencies.parquet" in as_csv.output
    assert not list((home / "public").glob("*.parquet")) and (home / "public" / "agencies.csv").exists()
    assert (home / "public" / "NOTES.md").exists()
    assert agencies_in(home / "ringwatch.duckdb") == 8


def test_a_file_the_earlier_export_did_not_write_is_never_overwritten(home: Path) -> None:
    assert invoke("export", "--out", "public", "--db", "ringwatch.duckdb").exit_code == 0
    (home / "public" / "agencies.csv").write_text("mine\n", encoding="utf-8")
    before = tree(home)
    refused(invoke("export", "--out", "public", "--format", "csv", "--db", "ringwatch.duckdb"),
            "agencies.csv", "in the way", "does not list it")
    assert tree(home) == before


def test_a_manifest_written_before_the_generator_key_still_counts(home: Path) -> None:
    assert invoke("export", "--out", "public", "--db", "ringwatch.duckdb").exit_code == 0
    path = home / "public" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["generator"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = invoke("export", "--out", "public", "--db", "ringwatch.duckdb")
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text(encoding="utf-8"))["generator"] == "ringwatch export"


def test_someone_elses_manifest_json_is_not_an_earlier_export(home: Path) -> None:
    (home / "site").mkdir()
    (home / "site" / "manifest.json").write_text('{"name": "my app", "files": [{"file": "index.html"}]}',
                                                  encoding="utf-8")
    (home / "site" / "index.html").write_text("<h1>mine</h1>", encoding="utf-8")
    before = tree(home)
    refused(invoke("export", "--out", "site", "--db", "ringwatch.duckdb"), "index.html", "manifest.json")
    assert tree(home) == before


def test_a_manifest_cannot_send_the_export_outside_its_folder(home: Path) -> None:
    assert invoke("export", "--out", "public", "--db", "ringwatch.duckdb").exit_code == 0
    (home / "victim.txt").write_text("keep me\n", encoding="utf-8")
    path = home / "public" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"] += [{"file": "../victim.txt"}, {"file": str(home / "victim.txt")},
                          {"file": "../ringwatch.duckdb"}]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = invoke("export", "--out", "public", "--format", "csv", "--db", "ringwatch.duckdb")
    assert result.exit_code == 0, result.output
    assert (home / "victim.txt").read_text(encoding="utf-8") == "keep me\n"
    assert agencies_in(home / "ringwatch.duckdb") == 8


# --- report ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("out", ["ringwatch.duckdb", "ringwatch.duckdb.lock", "ringwatch.duckdb.wal",
                                 "ringwatch.captures/report.html"])
def test_report_over_the_database_its_log_lock_or_captures_is_refused(home: Path, out: str) -> None:
    before = tree(home)
    refused(invoke("report", "--out", out, "--db", "ringwatch.duckdb"), "will not write the report",
            "the database", "choose another --out")
    assert tree(home) == before
    assert agencies_in(home / "ringwatch.duckdb") == 8


def test_report_over_an_unrelated_html_file_is_refused(home: Path) -> None:
    (home / "index.html").write_text("<!doctype html><title>My site</title><p>hello</p>", encoding="utf-8")
    before = tree(home)
    refused(invoke("report", "--out", "index.html", "--db", "ringwatch.duckdb"), str(home / "index.html"),
            "not a ringwatch report", GENERATOR_META)
    assert tree(home) == before


@pytest.mark.parametrize("png_dir", ["ringwatch.captures", "ringwatch.captures/charts", "."])
def test_png_dir_at_the_captures_folder_or_the_database_folder_is_refused(home: Path, png_dir: str) -> None:
    before = tree(home)
    refused(invoke("report", "--out", "report.html", "--png-dir", png_dir, "--db", "ringwatch.duckdb"),
            "will not write the report's charts", "choose another --png-dir")
    assert tree(home) == before


def test_png_dir_holding_other_files_is_refused(home: Path) -> None:
    (home / "pictures").mkdir()
    (home / "pictures" / "01-holiday.png").write_bytes(b"\x89PNG\r\n\x1a\nnot ours")
    before = tree(home)
    refused(invoke("report", "--png-dir", "pictures", "--db", "ringwatch.duckdb"), str(home / "pictures"),
            "01-holiday.png", "choose another --png-dir")
    assert tree(home) == before


def test_report_twice_to_the_same_place_replaces_only_its_own_files(home: Path, monkeypatch: pytest.MonkeyPatch
                                                                     ) -> None:
    drawn: list[Any] = []  # drawing takes seconds; what is tested here is only where the files go

    def draw_once(data: Any) -> Any:
        drawn[:] = drawn or [draw_charts(data)]
        return drawn[0]

    monkeypatch.setattr(build, "draw_charts", draw_once)
    # A page from before the generator marker counts as an earlier report.
    (home / "report.html").write_text('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
                                      "<title>ringwatch report: Ring and the police</title>", encoding="utf-8")
    first = invoke("report", "--out", "report.html", "--db", "ringwatch.duckdb")
    assert first.exit_code == 0, first.output
    assert GENERATOR_META in (home / "report.html").read_text(encoding="utf-8")
    charts = sorted(p.name for p in (home / "report-charts").iterdir())
    assert len(charts) == 10 and all(is_ringwatch_chart(home / "report-charts" / n) for n in charts)
    (home / "report-charts" / "captions.txt").write_text("my captions\n", encoding="utf-8")
    (home / "report-charts" / "99-retired-chart.png").write_bytes((home / "report-charts" / charts[0]).read_bytes())
    (home / "report-charts" / "00-my-own.png").write_bytes(b"\x89PNG\r\n\x1a\nmine")
    (home / "report.html").write_text((home / "report.html").read_text(encoding="utf-8") + "<!-- edited -->",
                                      encoding="utf-8")

    second = invoke("report", "--out", "report.html", "--db", "ringwatch.duckdb")
    assert second.exit_code == 0, second.output
    assert "<!-- edited -->" not in (home / "report.html").read_text(encoding="utf-8")
    assert (home / "report-charts" / "captions.txt").read_text(encoding="utf-8") == "my captions\n"
    assert (home / "report-charts" / "00-my-own.png").read_bytes() == b"\x89PNG\r\n\x1a\nmine"
    assert not (home / "report-charts" / "99-retired-chart.png").exists()  # a chart of ours no longer drawn
    assert sorted(p.name for p in (home / "report-charts").iterdir()) == sorted(
        [*charts, "captions.txt", "00-my-own.png"])
    assert not [p for p in home.iterdir() if "ringwatch-partial" in p.name]
    assert agencies_in(home / "ringwatch.duckdb") == 8


def test_outputs_no_file_can_have_are_plain_answers(home: Path) -> None:
    before = tree(home)
    for args in (["export", "--out", "a\x00b"], ["report", "--out", "r\x00.html"], ["report", "--png-dir", "\x00"]):
        result = invoke(*args, "--db", "ringwatch.duckdb")
        assert result.exit_code == 2 and "NUL byte" in result.output, result.output
    refused(invoke("report", "--out", "", "--db", "ringwatch.duckdb"), "names a folder", "report.html")
    assert tree(home) == before


# --- the pieces -----------------------------------------------------------------------------------

def test_a_chart_is_known_by_ringwatchs_text_chunk_or_its_earlier_source_line(tmp_path: Path) -> None:
    def png(source: str) -> bytes:
        buffer = io.BytesIO()
        Figure(figsize=(1, 1)).savefig(buffer, format="png", metadata={"Source": source})
        return buffer.getvalue()

    (tmp_path / "01-a.png").write_bytes(mark_chart(png("a chart")))
    (tmp_path / "02-b.png").write_bytes(png("Source: Ring's Active Agency Map ..., kept by ringwatch; origins: x"))
    (tmp_path / "03-c.png").write_bytes(png("a chart"))
    (tmp_path / "holiday.png").write_bytes(mark_chart(png("a chart")))  # not a chart's name
    assert [is_ringwatch_chart(tmp_path / n) for n in ("01-a.png", "02-b.png", "03-c.png", "holiday.png")] == [
        True, True, False, False]
    from PIL import Image  # the marked PNG is still a valid PNG (every chunk's CRC is checked)

    with Image.open(tmp_path / "01-a.png") as image:
        image.load()
        assert image.info["Generator"] == "ringwatch report"


def test_a_symlinked_database_is_protected_at_both_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "data" / "real.duckdb"
    real.parent.mkdir()
    real.write_bytes(b"")
    link = tmp_path / "here" / "ringwatch.duckdb"
    link.parent.mkdir()
    link.symlink_to(real)
    for target in (real, link, real.parent, link.parent, link.with_name("ringwatch.captures") / "x"):
        with pytest.raises(OutputRefused):
            refuse_warehouse_paths(target, link, writing="the export", option="--out")
    refuse_warehouse_paths(tmp_path / "elsewhere", link, writing="the export", option="--out")
    monkeypatch.chdir(tmp_path)  # a relative path is compared as the absolute one it means
    with pytest.raises(OutputRefused):
        refuse_warehouse_paths(Path("here"), Path("here/ringwatch.duckdb"), writing="the export", option="--out")
