"""A database as ringwatch wrote it before migration 3 (agency identity), for healing tests.

Before migration 3, agency_snapshots held each placemark under its own id: the profile uuid
when there was one, else `h-` and a hash of the name, city and state as case-folded,
punctuation-free text. This writes that, through the real migrations 1 and 2 and the real
capture store, so that the captures can be reparsed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pytest

from ringwatch.scrapers.agency_map import parse_agency_map
from ringwatch.scrapers.atlas import parse_atlas_csv
from ringwatch.scrapers.files import read_capture_file
from ringwatch.scrapers.normalize import uuid_from_profile
from ringwatch.warehouse import db
from ringwatch.warehouse.captures import BlobStore, blob_dir_for, store_capture
from ringwatch.warehouse.sql import SqlFile

Source = tuple[Path, str, datetime, str]  # file, quarter, observed, origin
# The views of that version (before migration 3), as their files read before migration 8 (today's
# read snapshots' date columns, which that schema lacks): kept in tests/fixtures/old_views/.
OLD_VIEWS = {"agency_changes.sql", "agency_counts_by_quarter.sql", "agency_counts_by_state.sql",
             "agency_counts_by_type.sql", "agency_joins_by_quarter.sql", "agency_metrics.sql",
             "le_request_counts_current.sql", "le_requests_by_period.sql", "le_requests_by_year.sql"}
OLD_VIEW_DIR = Path(__file__).parent / "fixtures" / "old_views"


def _old_name_key(value: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", value.casefold()).split())


def old_agency_id(profile_url: str | None, name: str, city: str | None, state: str | None) -> str:
    uuid = uuid_from_profile(profile_url)
    if uuid:
        return uuid
    key = "|".join((_old_name_key(name), _old_name_key(city or ""), (state or "").upper()))
    return "h-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def make_old_database(path: Path, sources: Iterable[Source], monkeypatch: pytest.MonkeyPatch) -> None:
    original = db.sql_files

    def before_identity(folder: str) -> list[SqlFile]:
        files = original(folder)
        if folder == "migrations":
            return [f for f in files if int(f.name.split("_", 1)[0]) < 3]
        if folder == "views":  # the views of that version
            return [SqlFile(name, (OLD_VIEW_DIR / name).read_text(encoding="utf-8")) for name in sorted(OLD_VIEWS)]
        return files

    with monkeypatch.context() as patch:
        patch.setattr(db, "sql_files", before_identity)
        con = db.connect(path)
    store = BlobStore(blob_dir_for(path))
    for file, quarter, observed, origin in sources:
        when = observed.replace(tzinfo=None)
        run = con.execute("INSERT INTO sync_runs (source, mode, quarter, started_at, status) "
                          "VALUES ('agency_map', ?, ?, ?, 'running') RETURNING run_id",
                          [origin, quarter, when]).fetchone()
        assert run is not None
        run_id = int(run[0])
        capture = read_capture_file(file, source="agency_map", observed_at=observed, origin=origin)
        capture_id = store_capture(con, store, capture, run_id=run_id)
        parser = parse_atlas_csv if file.suffix == ".csv" else parse_agency_map
        rows: dict[str, tuple[object, ...]] = {}
        fields: list[tuple[object, ...]] = []
        for a in parser(capture.body, source_url=capture.url):
            agency_id = old_agency_id(a.profile_url, a.name, a.city, a.state)
            if agency_id in rows:
                continue
            rows[agency_id] = (quarter, agency_id, a.name, a.agency_type, a.type_basis, a.layer, a.address, a.city,
                               a.state, a.active_date, a.latitude, a.longitude, a.profile_url, capture_id,
                               observed.replace(tzinfo=None))
            fields += [(quarter, agency_id, k, v, None) for k, v in a.data_fields]
        con.executemany("INSERT INTO agency_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        list(rows.values()))
        if fields:
            con.executemany("INSERT OR IGNORE INTO agency_snapshot_fields VALUES (?, ?, ?, ?, ?)", fields)
        con.execute("UPDATE sync_runs SET status = 'success', finished_at = ?, rows_loaded = ?, capture_id = ? "
                    "WHERE run_id = ?", [when, len(rows), capture_id, run_id])
        con.execute("INSERT INTO snapshots VALUES ('agency_map', ?, ?, ?, ?, ?, ?, ?)",
                    [quarter, when, origin, capture_id, len(rows), run_id, when])
    con.execute("""
        INSERT INTO agencies
        SELECT agency_id, arg_max(name, quarter), arg_max(agency_type, quarter), arg_max(city, quarter),
               arg_max(state, quarter), arg_max(active_date, quarter) FILTER (WHERE active_date IS NOT NULL),
               arg_max(profile_url, quarter) FILTER (WHERE profile_url IS NOT NULL), min(quarter), max(quarter)
        FROM agency_snapshots GROUP BY agency_id""")
    con.close()
