"""Messages about what the user gave: an Atlas CSV's rows by their file lines, and a sync's
what-changed summary about what that sync changed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ringwatch.flows.cli import cli
from ringwatch.scrapers.atlas import parse_atlas_csv
from ringwatch.scrapers.errors import ParseError, QualityGateError
from ringwatch.warehouse.quality import GatePolicy, validate_agency_snapshot
from tests.conftest import FIXTURES

HEADER = (FIXTURES / "identity/Atlas of Surveillance-20200807.csv").read_text(encoding="utf-8").splitlines()[0]
RING = "Ring/Neighbors Partnership,Ring,,,,"


def row(aos: str, city: str, state: str, agency: str, *, summary: str = "", tech: str = RING,
        date: str = "1/2/20") -> str:
    quoted = '"' + summary.replace('"', '""') + '"' if summary else ""
    return f"{aos},{city},,{state},{agency},Police,{quoted},Municipal,{tech},{date},,,,,,,,,,"


# Line 1 the header; a summary over three lines (2-4); a blank line (6); a row of another
# technology (7); the duplicate Boise rows on lines 8 and 10 (and the data row index of line
# 10 is 7: counting rows would say #8, and counting Ring rows #5).
LINES = [
    HEADER,
    row("AOS1", "Lakeland", "FL", "Lakeland Police Department", summary="Signed with Ring\nin 2019,\nsaid the city."),
    row("AOS2", "Raleigh", "NC", "Raleigh Police Department"),
    "",
    row("AOS9", "Boise", "ID", "Boise Police Department", tech="Body-worn Cameras,Axon,,,,"),
    row("AOS3", "Boise", "ID", "Boise Police Department"),
    row("AOS4", "Cary", "NC", "Cary Police Department"),
    row("AOS5", "Boise", "ID", "Boise Police Department", date=""),
]


def atlas_file(tmp_path: Path, lines: list[str] = LINES) -> Path:
    path = tmp_path / "Atlas of Surveillance-20220105.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def validate(path: Path, agencies: list) -> object:
    return validate_agency_snapshot(agencies, source="agency_map", url=path.resolve().as_uri(), quarter="2021Q4",
                                    observed_at=datetime(2022, 1, 5, tzinfo=UTC), previous_count=None,
                                    previous_quarter=None, policy=GatePolicy())


def test_atlas_rows_carry_the_file_line_they_start_on(tmp_path: Path) -> None:
    path = atlas_file(tmp_path)
    assert path.read_text(encoding="utf-8").splitlines()[7].startswith("AOS3,Boise")  # line 8
    agencies = parse_atlas_csv(path.read_bytes(), source_url=path.as_uri())
    assert [(a.name.split()[0], a.line) for a in agencies] == [
        ("Lakeland", 2), ("Raleigh", 5), ("Boise", 8), ("Cary", 9), ("Boise", 10)]


def test_an_atlas_duplicate_names_the_rows_by_their_file_lines(tmp_path: Path) -> None:
    path = atlas_file(tmp_path)
    snapshot = validate(path, parse_atlas_csv(path.read_bytes(), source_url=path.as_uri()))
    (warning,) = snapshot.warnings  # type: ignore[attr-defined]
    assert warning.detail == (
        f"2 rows share the id {warning.subject} ('Boise Police Department'): the rows at lines 8 and 10 of "
        f"{path.resolve()}; kept line 8, dropped line 10.")
    assert "placemark" not in warning.detail and "#" not in warning.detail


def test_import_atlas_prints_the_lines(tmp_path: Path) -> None:
    path = atlas_file(tmp_path)
    result = CliRunner().invoke(cli, ["import-atlas", str(path), "--db", str(tmp_path / "r.duckdb")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"the rows at lines 8 and 10 of {path.resolve()}; kept line 8, dropped line 10." in result.output


def test_a_row_without_a_state_is_named_by_its_line(tmp_path: Path) -> None:
    path = atlas_file(tmp_path, [*LINES[:5], row("AOS6", "Nowhere", "", "Nowhere Police Department")])
    agencies = parse_atlas_csv(path.read_bytes(), source_url=path.as_uri())
    with pytest.raises(QualityGateError, match=r"1 of 3 rows have no state \(e\.g\. line 8 'Nowhere Police"):
        validate(path, agencies)


def test_a_bad_date_names_the_line_after_a_multi_line_field(tmp_path: Path) -> None:
    path = atlas_file(tmp_path, [*LINES[:4], row("AOS7", "Cary", "NC", "Cary Police Department", date="13/45/20")])
    with pytest.raises(ParseError, match=r"line 7 \('Cary Police Department'\)"):
        parse_atlas_csv(path.read_bytes(), source_url=path.as_uri())


def test_atlas_columns_are_found_whatever_their_case_and_spacing(tmp_path: Path) -> None:
    """A copy saved by another tool may shout its header or pad it: the same rows come back."""
    shouting = ",".join(f" {column.upper()}  " for column in HEADER.split(","))
    written = atlas_file(tmp_path, LINES)
    path = tmp_path / "Atlas of Surveillance-20220106.csv"
    path.write_text("\n".join([shouting, *LINES[1:]]) + "\n", encoding="utf-8")
    assert shouting != HEADER
    same = parse_atlas_csv(written.read_bytes(), source_url="u")
    assert parse_atlas_csv(path.read_bytes(), source_url="u") == same and len(same) == 5
    assert any(name == "AOSNUMBER" for name, _ in same[0].data_fields)  # kept columns found too


def test_two_columns_that_read_as_one_are_refused(tmp_path: Path) -> None:
    path = atlas_file(tmp_path, [HEADER + ",agency", *(line + ",Other" for line in LINES[1:])])
    with pytest.raises(ParseError, match=r"more than one column that reads as Agency \(Agency, agency\)"):
        parse_atlas_csv(path.read_bytes(), source_url="u")


def test_map_placemarks_keep_their_placemark_numbers() -> None:
    from ringwatch.warehouse.quality import merge_duplicates
    from tests.warehouse.test_load import agency

    _, (warning,) = merge_duplicates([agency("dup", position=0), agency("dup", position=4)], url="https://x/kml")
    assert "2 placemarks share the id" in warning.detail and "kept #1, dropped #5." in warning.detail


def sync(db: Path, path: Path | str, observed: str) -> Result:
    result = CliRunner().invoke(cli, ["sync", "--db", str(db), "--from-file", str(path), "--observed-at", observed],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_a_transparency_load_summarises_the_periods_it_loaded(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    map_load = sync(db, FIXTURES / "agency_map/active_agency_map_2024-01-15.kmz", "2024-01-15")
    assert "# What changed in 2023Q4" in map_load.output
    page = tmp_path / "report.html"
    text = (FIXTURES / "transparency/report_2020_table_rows.html").read_text(encoding="utf-8")
    page.write_text(text, encoding="utf-8")

    first = sync(db, page, "2021-01-20").output
    assert "# What changed in the transparency reports" in first
    assert "- New transparency periods: 2020\n" in first
    assert "- Restated transparency periods: none\n" in first
    assert "New transparency periods: none" not in first and "2023Q4" not in first

    page.write_text(text.replace("<td>504</td><td>98</td>", "<td>503</td><td>99</td>"), encoding="utf-8")
    restated = sync(db, page, "2021-07-05").output
    assert "- New transparency periods: none\n" in restated
    assert "- Restated transparency periods: 2020\n" in restated

    again = sync(db, page, "2021-08-01").output  # the same figures: this run changed nothing
    assert "- New transparency periods: none\n- Restated transparency periods: none\n" in again
