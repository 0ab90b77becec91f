"""Stage a release in a local folder, and publish it: TARGET/<release id>/, never overwritten.

`stage_release` reads the warehouse read-only and writes into an empty folder: the data
(package.py), datapackage.json, README.md, CITATION.cff, CHANGES.md (texts.py), the trend
report with its PNGs (report/build.py), and the SQLite copy with Datasette's metadata.json
(sqlite_copy.py). The release id is the latest quarter held and the first 8 hex digits of a
SHA-256 over the data files' SHA-256s in name order: the same data gives the same id, so
publishing an unchanged warehouse again writes nothing. `publish` stages in a temporary
folder and hands the folder to store.py, which writes TARGET/<id>/ and then latest.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ringwatch.scrapers import __version__
from ringwatch.scrapers.errors import OutputRefused, WarehouseError
from ringwatch.warehouse.changes import ChangeSummary, summarize_changes
from ringwatch.warehouse.clock import utcnow
from ringwatch.warehouse.output_guard import refuse_warehouse_paths, write_atomically
from ringwatch.warehouse.presentation.publish.package import WrittenRelation, prepare, write_relations
from ringwatch.warehouse.presentation.publish.provenance import (
    ATLAS,
    ATLAS_URL,
    NOT_SPECIFIED,
    RING_MAP,
    RING_TRANSPARENCY,
    SOURCES,
    WAYBACK_URL,
    DataSource,
)
from ringwatch.warehouse.presentation.publish.relations import RELATIONS
from ringwatch.warehouse.presentation.publish.scrub import scrub_html, scrub_text
from ringwatch.warehouse.presentation.publish.texts import (
    HeldQuarter,
    ReleaseFacts,
    changes_text,
    citation_cff,
    readme,
)
from ringwatch.warehouse.presentation.report.build import build_report
from ringwatch.warehouse.read import open_read_only
from ringwatch.warehouse.staleness import StalenessPolicy

DATAPACKAGE = "datapackage.json"
_OPTION = "--out"


@dataclass(frozen=True, slots=True)
class StagedRelease:
    folder: Path
    release_id: str
    quarter: str
    files: tuple[str, ...]  # relative POSIX paths, in name order
    relations: tuple[str, ...]  # the published tables, in datapackage.json's order
    rows: int  # rows over every published table
    broken_keys: tuple[str, ...]  # keys left out of the schemas because the data breaks them


@dataclass(frozen=True, slots=True)
class PublishResult:
    release_id: str
    quarter: str
    target: str
    location: str  # TARGET/<release id>
    files: int  # files written (the `_complete` marker not counted); 0 when already published
    rows: int
    already_published: bool  # the same data was published before: nothing was written
    latest: bool  # latest.json names this release


def stage_release(db_path: Path, staging: Path, *, policy: StalenessPolicy | None = None,
                  now: datetime | None = None) -> StagedRelease:
    """Write a whole release of the warehouse into `staging`, a new or empty local folder."""
    return _finish(_stage_data(db_path, staging, now=now), policy=policy, now=now)


def publish(db_path: Path, target: str, *, policy: StalenessPolicy | None = None,
            now: datetime | None = None) -> PublishResult:
    """Stage the release in a temporary folder, then write it to TARGET/<release id>/ (store.py).

    The same data as a release already in TARGET is "already published": nothing is written, and
    the texts, the report and the SQLite copy are not even made (the id comes from the data alone).
    """
    from ringwatch.warehouse.presentation.publish.store import ReleaseExists, list_releases, upload_release

    local = _local_path(target)
    if local is not None:  # before the work of staging: the store checks again
        refuse_warehouse_paths(local, db_path, writing="the release", option=_OPTION)
    with tempfile.TemporaryDirectory(prefix="ringwatch-release-") as folder:
        data = _stage_data(db_path, Path(folder) / "release", now=now)
        facts = data.facts
        if facts.release_id in list_releases(target):
            return _already(facts, target)
        staged = _finish(data, policy=policy, now=now)
        try:
            done = upload_release(staged.folder, target, staged.release_id, db_path=db_path)
        except ReleaseExists as exc:  # published by another process meanwhile
            if not exc.complete:
                raise
            return _already(facts, target)
    return PublishResult(staged.release_id, staged.quarter, target, done.location, done.files, staged.rows,
                         already_published=False, latest=done.latest)


@dataclass(frozen=True, slots=True)
class _StagedData:
    """The first half of staging: the data files, and what the texts say of them."""

    db_path: Path
    folder: Path
    facts: ReleaseFacts
    urls: dict[str, str | None]  # source key -> the web address captured last
    summaries: tuple[ChangeSummary, ...]  # each quarter held, newest first


def _stage_data(db_path: Path, staging: Path, *, now: datetime | None) -> _StagedData:
    staging = Path(staging)
    if staging.exists() and (not staging.is_dir() or any(staging.iterdir())):
        raise OutputRefused(f"will not stage a release in {staging}: it is not a new or empty folder.")
    refuse_warehouse_paths(staging, db_path, writing="the release", option=_OPTION)
    staging.mkdir(parents=True, exist_ok=True)
    con = open_read_only(Path(db_path))
    try:
        prepare(con, known_roots=_known_roots(db_path))
        written = write_relations(con, staging, RELATIONS)
        quarter = _release_quarter(con, db_path)
        urls = {str(k): (str(u) if u else None) for k, u in con.execute(
            "SELECT source_key, url FROM pub_source_list").fetchall()}
        quarters = _held_quarters(con)
        facts = ReleaseFacts(release_id=f"{quarter}-{content_hash(written)}", quarter=quarter,
                             created=now or utcnow(), ringwatch_version=__version__,
                             schema_version=_schema_version(con), relations=tuple(written), quarters=quarters,
                             figures=_count(con, "SELECT count(*) FROM le_request_counts"),
                             transparency_periods=tuple(str(r[0]) for r in con.execute(
                                 "SELECT DISTINCT period_label, period_start FROM le_request_counts_current "
                                 "ORDER BY period_start").fetchall()))
        summaries = tuple(summarize_changes(con, q.quarter) for q in reversed(quarters))
    finally:
        con.close()
    return _StagedData(Path(db_path), staging, facts, urls, summaries)


def _finish(data: _StagedData, *, policy: StalenessPolicy | None, now: datetime | None) -> StagedRelease:
    """The second half: datapackage.json, the texts, the report and the SQLite copy."""
    from ringwatch.warehouse.presentation.publish.sqlite_copy import write_sqlite

    staging, facts, roots = data.folder, data.facts, _known_roots(data.db_path)
    _write_text(staging / DATAPACKAGE,
                json.dumps(datapackage(facts, data.urls), indent=2, ensure_ascii=False) + "\n", roots)
    _write_text(staging / "README.md", readme(facts), roots)
    _write_text(staging / "CITATION.cff", citation_cff(facts), roots)
    _write_text(staging / "CHANGES.md", changes_text(data.summaries, facts.quarters), roots)
    build_report(data.db_path, staging / "report.html", png_dir=staging / "charts", now=now, policy=policy)
    # The report's header quotes the last error, which may name a file by its path.
    page = staging / "report.html"
    write_atomically(page, scrub_html(page.read_text(encoding="utf-8"), roots).encode("utf-8"))
    write_sqlite(staging)
    files = tuple(sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()))
    return StagedRelease(staging, facts.release_id, facts.quarter, files, tuple(r.name for r in facts.relations),
                         sum(r.rows for r in facts.relations), facts.broken_keys)


def _already(facts: ReleaseFacts, target: str) -> PublishResult:
    return PublishResult(facts.release_id, facts.quarter, target, target.rstrip("/") + "/" + facts.release_id,
                         0, sum(r.rows for r in facts.relations), already_published=True, latest=False)


def content_hash(written: list[WrittenRelation]) -> str:
    """First 8 hex digits of a SHA-256 over the data files' SHA-256s, in name order."""
    files = sorted((f.path, f.sha256) for w in written for f in (w.csv, w.parquet))
    digest = hashlib.sha256("".join(f"{path} {sha}\n" for path, sha in files).encode("utf-8"))
    return digest.hexdigest()[:8]


def datapackage(facts: ReleaseFacts, urls: dict[str, str | None]) -> dict[str, Any]:
    """datapackage.json: the package, and one resource per published relation."""
    resources = [_resource(w, urls) for w in facts.relations]
    sources: list[dict[str, str]] = []
    licenses: list[dict[str, str]] = []
    for resource in resources:
        sources += [s for s in resource["sources"] if s not in sources]
        licenses += [x for x in resource["licenses"] if x["name"] not in {y["name"] for y in licenses}]
    contributors: list[dict[str, str]] = [{"title": "ringwatch", "role": "author"}]
    if facts.has_atlas:
        contributors.append({"title": ATLAS.publisher, "path": ATLAS_URL, "role": "contributor"})
    return {
        "profile": "tabular-data-package",
        "name": "ringwatch-ring-police-partnerships",
        "id": f"ringwatch-{facts.release_id}",
        "title": f"Ring's police partnerships, quarter by quarter (ringwatch release {facts.release_id})",
        "description": (
            "Ring's Active Agency Map as observed each quarter (the police and fire agencies partnered with Ring's "
            "Neighbors app), who joined and who left, counts by state and type, the map's 2020-era video-request "
            "counts, and Ring's law-enforcement transparency figures, each row with its provenance; with the run "
            "ledger that collected them. See README.md for the sources, licences, the quarter rule and the known "
            "limits."),
        "version": facts.release_id,
        "created": facts.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keywords": ["Ring", "Neighbors", "police", "surveillance", "transparency reports"],
        "licenses": licenses,
        "sources": sources,
        "contributors": contributors,
        "ringwatch": {
            "release": facts.release_id, "quarter": facts.quarter, "ringwatch_version": facts.ringwatch_version,
            "schema_version": facts.schema_version,
            "quarters_held": [{"quarter": q.quarter, "origin": q.origin, "observed_on": q.observed_on}
                              for q in facts.quarters],
        },
        "resources": resources,
    }


def _resource(w: WrittenRelation, urls: dict[str, str | None]) -> dict[str, Any]:
    found = _sources_of(w)
    sources = [_source_descriptor(s, urls) for s in found]
    if "wayback" in w.origins:
        sources.append({"title": "Internet Archive Wayback Machine (archived copies of Ring's pages)",
                        "path": WAYBACK_URL})
    if found:
        licenses = []
        for s in found:
            descriptor = s.license_descriptor()
            if descriptor not in licenses:
                licenses.append(descriptor)
    else:
        sources = [{"title": "ringwatch's own record of how the data was collected and checked"}]
        licenses = [{"name": NOT_SPECIFIED, "title": "ringwatch's own records: no licence stated"}]
    return {
        "name": w.name,
        "path": w.csv.path,
        "profile": "tabular-data-resource",
        "title": w.relation.title,
        "description": w.description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": w.csv.bytes,
        "hash": f"sha256:{w.csv.sha256}",
        "rows": w.rows,
        "parquet": {"path": w.parquet.path, "bytes": w.parquet.bytes, "hash": f"sha256:{w.parquet.sha256}"},
        "schema": w.schema(),
        "sources": sources,
        "licenses": licenses,
    }


def _sources_of(w: WrittenRelation) -> list[DataSource]:
    """The sources a relation's rows come from: by their origins, else by what the relation holds."""
    if w.name == "data_sources":
        return list(SOURCES)
    ring = {"agency_map": RING_MAP, "transparency": RING_TRANSPARENCY}
    found: list[DataSource] = []
    if w.origins - {"atlas"}:
        if w.relation.ring_source in ring:
            found.append(ring[w.relation.ring_source])
        else:  # captures: both of Ring's sources
            found += [RING_MAP, RING_TRANSPARENCY]
    elif not w.origins and w.relation.ring_source in ring:
        found.append(ring[w.relation.ring_source])
    if "atlas" in w.origins:
        found.append(ATLAS)
    return found


def _source_descriptor(source: DataSource, urls: dict[str, str | None]) -> dict[str, str]:
    descriptor = {"title": source.name}
    url = source.url or urls.get(source.key)
    if url:
        descriptor["path"] = url
    return descriptor


def _release_quarter(con: duckdb.DuckDBPyConnection, db_path: Path) -> str:
    """The latest quarter held: of the snapshots, else of the transparency loads."""
    row = con.execute("SELECT arg_max(quarter, quarter_start) FROM snapshots").fetchone()
    if row and row[0]:
        return str(row[0])
    row = con.execute("SELECT max(quarter) FROM sync_runs WHERE status = 'success' AND quarter IS NOT NULL"
                      ).fetchone()
    if row and row[0]:
        return str(row[0])
    raise WarehouseError(f"nothing to publish: {db_path} holds no snapshot and no transparency figures yet. Run "
                         "'ringwatch sync' first.")


def _held_quarters(con: duckdb.DuckDBPyConnection) -> tuple[HeldQuarter, ...]:
    rows = con.execute("""
        SELECT q.quarter, q.origin, CAST(q.observed_on AS VARCHAR), s.rows_loaded, q.source_name,
               (SELECT count(*) FROM agency_snapshots AS a WHERE a.quarter = q.quarter AND a.active_date IS NULL)
        FROM pub_quarter_provenance AS q JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = q.quarter
        ORDER BY s.quarter_start""").fetchall()
    return tuple(HeldQuarter(str(q), str(o), str(d), int(n), str(name), int(u)) for q, o, d, n, name, u in rows)


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    return _count(con, "SELECT coalesce(max(version), 0) FROM schema_migrations")


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _known_roots(db_path: Path) -> list[str]:
    """Folders whose names say whose machine this is, replaced whole before any path is shortened."""
    roots = [str(Path.home()), os.getcwd(), tempfile.gettempdir(), os.path.dirname(os.path.abspath(db_path))]
    return [r for r in roots if r and r != os.sep]


def _write_text(path: Path, text: str, roots: list[str]) -> None:
    write_atomically(path, scrub_text(text, roots).encode("utf-8"))


def _local_path(target: str) -> Path | None:
    """A target on this machine as a path: a plain path or a file URL; None for any other URL."""
    if "://" not in target:
        return Path(target)
    if target.lower().startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return Path(unquote(urlsplit(target).path))
    return None
