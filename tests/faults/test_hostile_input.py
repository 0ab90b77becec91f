"""Hostile and strange input, round two: each case here failed (hung, crashed, or swallowed
memory) before it was fixed. The "Failure modes" table in docs/failure-modes.md lists them."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synthetic_map import synthetic_map_kml
from ringwatch.flows.cli import cli
from ringwatch.flows.core.settings import load_settings
from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.atlas import parse_atlas_csv
from ringwatch.scrapers.errors import ParseError, SettingsError
from ringwatch.scrapers.http import HttpSettings, PoliteClient, ascii_int, parse_retry_after
from ringwatch.scrapers.robots import parse_robots, pattern_matches
from ringwatch.warehouse.changes import AgencyChange, ChangeSummary
from ringwatch.warehouse.presentation.render import changes_markdown
from tests.conftest import FIXTURES, within

ROOT = Path(__file__).resolve().parents[2]


# -- robots.txt ---------------------------------------------------------------------------------


def test_a_robots_txt_full_of_wildcards_is_decided_at_once() -> None:
    # 400 KiB of rules of 40 wildcards each, and a long path that almost matches every one.
    hostile = "User-agent: *\n" + "".join(f"Disallow: /{'*a' * 40}{n}*b$\n" for n in range(2500))
    assert len(hostile) < 500 * 1024
    url = "https://example.org/" + "a" * 20_000 + "c"
    with within(10):
        policy = parse_robots(hostile, "ringwatch")
        assert policy.allows(url)
        assert not policy.allows("https://example.org/" + "a" * 50 + "7xb")


def reference(pattern: str, path: str) -> bool:
    """The regular-expression reading of a pattern (fine on small input), to check against."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(p) for p in body.split("*")) + ("$" if anchored else "")
    return re.match(regex, path, re.S) is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="/ab*", max_size=8).map(lambda p: "/" + p) | st.text(alphabet="/ab*", max_size=7).map(
    lambda p: "/" + p + "$"), st.text(alphabet="/ab", max_size=12).map(lambda p: "/" + p))
def test_the_linear_matcher_agrees_with_the_regular_expression(pattern: str, path: str) -> None:
    assert pattern_matches(pattern, path) == reference(pattern, path)


# -- KMZ ----------------------------------------------------------------------------------------


def kmz(member: bytes, name: str = "doc.kml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, member)
    return buffer.getvalue()


def test_a_kmz_inflating_past_the_setting_is_refused_before_it_is_read() -> None:
    big = synthetic_map_kml(20).replace(b"<Document>", b"<Document><description>" + b"x" * 3_000_000
                                        + b"</description>", 1)
    data = kmz(big)
    assert len(data) < 60_000
    with pytest.raises(ParseError, match=r"inflates to 3,0\d\d,\d\d\d bytes, more than the 1,000,000 we accept"):
        parse_agency_map(data, source_url="small.kmz", max_inflated_bytes=1_000_000)
    assert len(parse_agency_map(data, source_url="small.kmz", max_inflated_bytes=4_000_000)) == 20


def test_a_kmz_whose_header_understates_its_size_is_never_inflated_whole() -> None:
    data = bytearray(kmz(synthetic_map_kml(200)))
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (1000).to_bytes(4, "little")  # "1,000 bytes", in both headers
    data[22:26] = (1000).to_bytes(4, "little")
    with pytest.raises(ParseError, match="damaged|inflates to more than|not well-formed"):
        parse_agency_map(bytes(data), source_url="lying.kmz", max_inflated_bytes=10_000_000)


# The peak is VmHWM, this process's own high-water mark: getrusage's ru_maxrss survives
# execve on Linux, so a child of a large pytest process would start at its parent's peak.
PARSE_IN_A_FRESH_PROCESS = """
import re, sys
from pathlib import Path
from ringwatch.scrapers.agency_map import parse_agency_map
agencies = parse_agency_map(Path(sys.argv[1]).read_bytes(), source_url="big.kmz", max_inflated_bytes=400_000_000)
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1])
print(len(agencies), peak_kib // 1024)
"""


def test_a_large_kmz_is_streamed_into_the_parser_in_little_memory(tmp_path: Path) -> None:
    """200 MB of KML (a small download: it compresses to under a megabyte) parses in a
    process that never holds it: its peak memory stays well under 256 MB."""
    path = tmp_path / "big.kmz"
    head, tail = synthetic_map_kml(30).split(b"<Document>", 1)
    filler = b"<Style><description>" + b"y" * 4_000_000 + b"</description></Style>\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("doc.kml", "w") as member:
        member.write(head + b"<Document>")
        for _ in range(50):
            member.write(filler)
        member.write(tail)
    assert path.stat().st_size < 2_000_000
    out = subprocess.run([sys.executable, "-c", PARSE_IN_A_FRESH_PROCESS, str(path)], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120).stdout.split()
    agencies, peak_mib = int(out[0]), int(out[1])
    assert agencies == 30
    assert peak_mib < 256, peak_mib


REFUSE_IN_A_FRESH_PROCESS = """
import re, sys
from pathlib import Path
from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.errors import ParseError
try:
    parse_agency_map(Path(sys.argv[1]).read_bytes(), source_url="junk.kmz", max_inflated_bytes=400_000_000)
    outcome = "read"
except ParseError as exc:
    outcome = str(exc).split(";")[0]
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1])
print(outcome)
print(peak_kib // 1024)
"""


def test_a_kmz_of_millions_of_unknown_elements_is_refused_in_little_memory(tmp_path: Path) -> None:
    """Empty elements cost libxml2 far more than their bytes: five million of them (40 MB of KML)
    would take a gigabyte as a tree. Only the elements the reader knows are removed as it goes,
    so a long run of others is refused at MAX_KML_TAGS_UNREPORTED, long before that."""
    path = tmp_path / "junk.kmz"
    head, tail = synthetic_map_kml(30).split(b"<Document>", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("doc.kml", "w") as member:
        member.write(head + b"<Document>")
        for _ in range(50):
            member.write(b"<a/>" * 100_000 + b"\n")
        member.write(tail)
    out = subprocess.run([sys.executable, "-c", REFUSE_IN_A_FRESH_PROCESS, str(path)], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120).stdout.splitlines()
    outcome, peak_mib = out[0], int(out[1])
    assert outcome == "agency_map: junk.kmz runs for more than 200,000 tags without a Placemark, Folder, " \
                      "NetworkLink, Style, StyleMap or Schema ending", outcome
    assert peak_mib < 160, peak_mib


# -- Atlas CSV ------------------------------------------------------------------------------------


def test_an_atlas_export_with_undecodable_bytes_is_refused_naming_the_line() -> None:
    data = (FIXTURES / "identity/Atlas of Surveillance-20200807.csv").read_bytes()
    broken = data.replace(b"Lakeside Police Department", b"Lakeside \x81\x8d Police Department")
    with pytest.raises(ParseError, match=r"line 11, column \d+: byte 0x81 is neither UTF-8 nor Windows-1252"):
        parse_atlas_csv(broken, source_url="atlas.csv")
    windows = data.replace(b"Lakeside Police", "Lakeside Polic\u00e9".encode("cp1252"))
    assert any(a.name == "Lakeside Polic\u00e9 Department" for a in parse_atlas_csv(windows, source_url="w.csv"))


# -- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "text", "message"), [
    ("http", 'delay_seconds = "2"', r"\[http\] delay_seconds must be a number, not '2'"),
    ("gates", "min_fraction_of_previous = 5", r"\[gates\] min_fraction_of_previous = 5 is out of range \(0 to 1\)"),
    ("http", "max_retries = 2.5", r"\[http\] max_retries must be a whole number"),
    ("http", "max_body_bytes = 0", r"\[http\] max_body_bytes = 0 is out of range"),
    ("wayback", "window_days = true", r"\[wayback\] window_days must be a whole number, not True"),
    ("gates", 'required_fields = "name"', r"\[gates\] required_fields must be a list of strings"),
    ("warehouse", 'lock_timeout_seconds = "soon"', r"\[warehouse\] lock_timeout_seconds must be a number"),
    ("schedule", 'timezone = "Europe/Londn"',
     r"\[schedule\] timezone = 'Europe/Londn' is not a timezone \(did you mean Europe/London\?\)"),
    ("schedule", 'cron = "0 6 1 1,4,7,10"', r"\[schedule\] cron = '0 6 1 1,4,7,10': it has 4 field\(s\), not 5"),
    ("warehous", 'path = "x.duckdb"', r"unknown section \[warehous\] \(did you mean \[warehouse\]\?\)"),
    ("http", "delay_secs = 1", r"unknown key\(s\) delay_secs in \[http\] \(did you mean delay_seconds\?\)"),
])
def test_settings_of_the_wrong_type_or_range_name_the_key_and_the_file(
        tmp_path: Path, table: str, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"[{table}]\n{text}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=f"{re.escape(str(path))}: {message}"):
        load_settings(path)
    result = CliRunner().invoke(cli, ["status", "--config", str(path), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}:") and "Traceback" not in result.stderr


# -- markdown and digits ------------------------------------------------------------------------------


def test_a_pipe_in_an_agency_name_cannot_break_the_markdown_table() -> None:
    summary = ChangeSummary(quarter="2025Q1", compared_with="2024Q4", agencies=2, joined=1, left=0,
                            changes=(AgencyChange("joined", "Police | Fire District\nof Lakes", "Lake|ville", "MN",
                                                  "police"),))
    row = next(line for line in changes_markdown(summary).splitlines() if line.startswith("| Police"))
    assert row == r"| Police \| Fire District of Lakes | Lake\|ville | MN | police |"
    assert len(re.split(r"(?<!\\)\|", row)) == 6  # four cells, nothing spilled into a fifth


@pytest.mark.parametrize("value", ["²", "١٢", "12²", " 3 ", "-1", "1e3", ""])
def test_header_numbers_are_ascii_digits_only(value: str) -> None:
    expected = 3 if value == " 3 " else None
    assert ascii_int(value) == expected
    assert parse_retry_after(value) == (3.0 if value == " 3 " else None)


@responses.activate
def test_a_unicode_digit_content_length_does_not_break_the_fetch() -> None:
    responses.add(responses.GET, "https://example.org/robots.txt", status=404)
    responses.add(responses.GET, "https://example.org/page", body=b"hello", headers={"Content-Length": "\u00b2"},
                  auto_calculate_content_length=False)
    client = PoliteClient(HttpSettings(delay_seconds=0, contact="t@example.org"), sleep=lambda s: None)
    capture = client.fetch("https://example.org/page", source="test")
    assert capture.body == b"hello" and capture.complete
