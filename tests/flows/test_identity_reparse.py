"""An old database (ids from before migration 3), reparsed through the real CLI and flow."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ringwatch.flows.cli import cli
from ringwatch.warehouse.db import connect
from tests.conftest import FAST_CONFIG
from tests.old_database import make_old_database
from tests.warehouse.test_identity_eras import ATLAS_2020, IDENTITY, MAP_2020, MAP_2021, load_source, results


def test_reparse_of_an_old_database_ends_with_the_ids_of_a_fresh_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = [MAP_2020, ATLAS_2020, MAP_2021]
    db = tmp_path / "old.duckdb"
    make_old_database(db, [(IDENTITY / s[0], s[1], s[2], s[3]) for s in sources], monkeypatch)
    config = tmp_path / "settings.toml"
    config.write_text(FAST_CONFIG, encoding="utf-8")

    result = CliRunner().invoke(cli, ["reparse", "--db", str(db), "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "agency_map 2021Q4: reloaded 12 rows" in result.output

    fresh = connect(":memory:")
    for source in sources:
        load_source(fresh, source, aliases=())
    reparsed = duckdb.connect(str(db), read_only=True)
    try:
        assert results(reparsed) == results(fresh)
        assert reparsed.execute("SELECT agencies, joined, \"left\" FROM agency_counts_by_quarter "
                                "WHERE quarter = '2021Q4'").fetchone() == (12, 3, 2)
    finally:
        reparsed.close()
        fresh.close()
