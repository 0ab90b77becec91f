"""Every number on a report page is accounted for, in the warehouse too: the ledger of each
parsed capture is stored, `report_pages_read` shows which pages were read completely, and
sync, reparse and the what-changed summary say so when one was not."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from ringwatch.flows.cli import cli
from tests.conftest import FIXTURES

REPORT = FIXTURES / "transparency/report_2020_table_rows.html"
# A number whose sentence names no request type, outcome or label: nobody can tell what it counts.
UNPLACEABLE = b"<p>Of these, 37 came in the last week of the year.</p></article>"


def ringwatch(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def unread_page(tmp_path: Path) -> Path:
    path = tmp_path / "report_with_an_unplaceable_number.html"
    path.write_bytes(REPORT.read_bytes().replace(b"</article>", UNPLACEABLE, 1))
    return path


def pages_read(db: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT numbers_seen, placed, explained, unplaced, read_completely "
                           "FROM report_pages_read").fetchall()
    finally:
        con.close()


def test_a_page_read_completely_says_so_and_prints_no_note(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    result = ringwatch("sync", "--db", str(db), "--from-file", str(REPORT), "--observed-at", "2021-01-20")
    assert result.exit_code == 0, result.output
    assert "not read completely" not in result.output
    [(seen, placed, explained, unplaced, complete)] = pages_read(db)
    assert (unplaced, complete) == (0, True)
    assert seen == placed + explained and placed >= 21  # the 21 figures of the table, at least


def test_a_number_nobody_can_place_is_stored_printed_and_summarised(tmp_path: Path, unread_page: Path) -> None:
    db = tmp_path / "w.duckdb"
    result = ringwatch("sync", "--db", str(db), "--from-file", str(unread_page), "--observed-at", "2021-01-20")
    assert result.exit_code == 0, result.output
    assert "was not read completely: 1 of " in result.output
    [(seen, placed, explained, unplaced, complete)] = pages_read(db)
    assert (unplaced, complete) == (1, False) and seen == placed + explained + 1
    # The what-changed summary of this sync lists the page and quotes the number.
    assert "Report pages not read completely: **1**" in result.output
    summary = result.output[result.output.index("# What changed"):]
    assert "37" in summary.split("Numbers that could not be placed")[1]
    # The warning row quotes it too.
    con = duckdb.connect(str(db), read_only=True)
    kinds = con.execute("SELECT kind, subject FROM quality_warnings WHERE kind = 'unplaced_number'").fetchall()
    con.close()
    assert kinds == [("unplaced_number", "37")]

    # `ringwatch changes` (no run given) still lists the page.
    changes = ringwatch("changes", "--db", str(db))
    assert "Report pages not read completely: **1**" in changes.output
    # A reparse reads it the same way and says so again; the ledger row is replaced, not added.
    again = ringwatch("reparse", "--db", str(db), "--source", "transparency")
    assert again.exit_code == 0, again.output
    assert "was not read completely: 1 of " in again.output
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM report_ledgers").fetchone() == (1,)
    con.close()


def test_an_unchanged_page_still_records_how_it_was_read(tmp_path: Path) -> None:
    """The ledger belongs to the capture: a second capture with the same figures adds no
    observation but has its own ledger row."""
    db = tmp_path / "w.duckdb"
    page = tmp_path / "report.html"
    for body, moment in ((REPORT.read_bytes(), "2021-01-20"),
                         (REPORT.read_bytes() + b"\n<!-- fetched again -->\n", "2021-04-20")):
        page.write_bytes(body)
        assert ringwatch("sync", "--db", str(db), "--from-file", str(page), "--observed-at", moment).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM report_ledgers").fetchone() == (2,)
    assert con.execute("SELECT count(DISTINCT capture_id) FROM le_request_counts").fetchone() == (1,)
    con.close()
