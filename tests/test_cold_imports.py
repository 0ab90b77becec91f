"""What each command imports, cold: a command that only reads the warehouse (query, status) must
not pay for the network stack, the page parsers, numpy, matplotlib or Prefect (issue 24: a cold
CLI within 3x of bare imports). Checked in a fresh interpreter, as a user's shell starts one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import read_fixture

HEAVY = ("requests", "bs4", "lxml", "numpy", "matplotlib", "prefect", "pyarrow", "pandas",
         "ringwatch.scrapers.http", "ringwatch.scrapers.agency_map", "ringwatch.scrapers.transparency")

PROBE = """
import json, sys
sys.argv = ["ringwatch", *sys.argv[1:]]
from ringwatch.flows.cli import cli
try:
    cli()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported(*args: str, env_db: Path) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args, "--db", str(env_db)], capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(env_db.parent)})
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return int(report["code"] or 0), set(report["modules"])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ringwatch.flows.core.settings import load_settings
    from ringwatch.flows.core.sync import sync_agency_map

    db = tmp_path_factory.mktemp("cold") / "rw.duckdb"
    kml = db.parent / "map.kml"
    kml.write_bytes(read_fixture("agency_map/active_agency_map_2024-01-15.kml"))
    assert not sync_agency_map(load_settings(db_path=db), from_file=str(kml)).failed
    return db


@pytest.mark.parametrize("command", [("query", "SELECT count(*) FROM agencies"), ("status",)])
def test_a_command_that_only_reads_imports_no_network_parser_or_chart_stack(warehouse: Path,
                                                                            command: tuple[str, ...]) -> None:
    code, modules = imported(*command, env_db=warehouse)
    assert code == 0
    heavy = sorted(m for m in modules if m in HEAVY or m.split(".")[0] in HEAVY)
    assert heavy == [], heavy


def test_the_probe_sees_what_a_sync_imports(warehouse: Path) -> None:
    """The same probe on a sync from a file does find the parser stack: it can see an import. A map
    of a few thousand rows is loaded without numpy (warehouse/sql.py, NUMPY_FROM_ROWS), and a
    file is read without the HTTP client."""
    kml = warehouse.parent / "map.kml"
    code, modules = imported("sync", "--source", "agency_map", "--from-file", str(kml), env_db=warehouse)
    assert code == 0
    assert {"lxml", "ringwatch.scrapers.agency_map"} <= modules
    held_back = {"numpy", "requests", "ringwatch.scrapers.http"}
    assert not held_back & modules, held_back & modules
