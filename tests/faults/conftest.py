"""The database every fault test starts from: two quarters already held."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.synthetic_map import synthetic_map_kml
from tests.conftest import FAST_CONFIG, copy_database

# The quarters already held, and the shortened timeouts and limits the faults run under.
EARLIER = ("2024Q1", "2024Q2")
CONFIG = FAST_CONFIG.replace("read_timeout_seconds = 2.0", "read_timeout_seconds = 1.0").replace(
    "max_body_bytes = 2_000_000", "max_body_bytes = 200_000").replace(
    "total_timeout_seconds = 5.0", "total_timeout_seconds = 4.0")


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding two quarters of 10 agencies, loaded through the real sync job, once
    per session (per xdist worker)."""
    from ringwatch.flows.core.settings import load_settings
    from ringwatch.flows.core.sync import sync_agency_map

    tmp_path = tmp_path_factory.mktemp("faults-seed")
    path = tmp_path / "ringwatch.duckdb"
    config = tmp_path / "seed.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = load_settings(config, db_path=path)
    for n, quarter in enumerate(EARLIER):
        kml = tmp_path / f"seed{n}.kml"
        kml.write_bytes(synthetic_map_kml(10, seed=3))  # the same agencies as the site's 12, less 2
        sync_agency_map(settings, from_file=str(kml), quarter=quarter)
    return path


@pytest.fixture
def db(seeded: Path, tmp_path: Path) -> Path:
    """A copy of the seeded database (and its captures), for this test alone."""
    return copy_database(seeded, tmp_path / "ringwatch.duckdb")


