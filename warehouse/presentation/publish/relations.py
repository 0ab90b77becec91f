"""What a release publishes: each relation, how it is read, and its keys.

A reader needs the agencies, their quarterly snapshots and changes, the counts, the
transparency figures, the map's video-request counts, and the ledger of how every row got
there (snapshots, captures, sync_runs, quality_warnings, removed_loads, report_ledgers).
Rows of agencies and figures carry their provenance (provenance.PROVENANCE_COLUMNS). Not
published: schema_migrations and schema_views (the database's own bookkeeping),
agency_observations and agency_observation_fields (agency_snapshots and
agency_snapshot_fields show them under resolved ids), agency_aliases (the reviewer's notes
on the machine that ran it), agency_identity_review (a work queue), agency_metrics (the
numeric half of agency_snapshot_fields), metric_fields and us_states (reading aids).

Every statement is a constant: the only text put into SQL elsewhere is a relation or column
name read from DuckDB's catalog (package.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Relation:
    name: str
    sql: str
    title: str
    base: str | None  # the warehouse relation whose COMMENTs describe the columns it passes on
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    ring_source: str | None = "agency_map"  # agency_map | transparency | None (ringwatch's own ledger)
    provenance_of: str = ""  # which observation the provenance columns describe
    columns: dict[str, str] = field(default_factory=dict)  # descriptions of columns the base does not have


def fk(fields: str, resource: str, reference: str | None = None) -> ForeignKey:
    names = tuple(fields.split(", "))
    return ForeignKey(names, resource, tuple(reference.split(", ")) if reference else names)


_PROV = "p.origin, p.source_name, p.license, p.source_url, p.capture_sha256, p.observed_on"
_QPROV = "q.origin, q.source_name, q.license, q.source_url, q.capture_sha256, q.observed_on"


def per_quarter(view: str, order: str, title: str, primary_key: tuple[str, ...]) -> Relation:
    """A view with a row per quarter held (and more), published with its quarter's snapshot as
    provenance: the shape most published views share."""
    return Relation(view, f"""
        SELECT v.*, {_QPROV}
        FROM {view} AS v JOIN pub_quarter_provenance AS q ON q.quarter = v.quarter
        ORDER BY {", ".join(f"v.{c}" for c in order.split(", "))}""",
                    title, view, primary_key, provenance_of="the quarter's snapshot")

_URL = "The page's web address (http or https); empty when the page was loaded from a saved file."
_FILE_NAME = "For a saved file or an Atlas export: the file's name (never its folder); else empty."
_RUN_URL = "The web address the run read; empty when it read a file (file_name names it)."

RELATIONS: tuple[Relation, ...] = (
    Relation(
        "agencies", f"""
        SELECT a.*, {_PROV}
        FROM agencies AS a
        JOIN agency_snapshots AS s ON s.agency_id = a.agency_id AND s.quarter = a.last_seen_quarter
        JOIN pub_capture_provenance AS p ON p.capture_id = s.capture_id
        ORDER BY a.agency_id""",
        "Agencies", "agencies", ("agency_id",), provenance_of="the latest snapshot holding the agency"),
    Relation(
        "agency_snapshots", f"""
        SELECT a.*, {_PROV}
        FROM agency_snapshots AS a
        JOIN pub_capture_provenance AS p ON p.capture_id = a.capture_id
        ORDER BY a.quarter, a.agency_id""",
        "The map, quarter by quarter", "agency_snapshots", ("quarter", "agency_id"),
        (fk("agency_id", "agencies"), fk("capture_id", "captures")), provenance_of="the row's own capture"),
    Relation(
        "agency_snapshot_fields", f"""
        SELECT f.*, {_PROV}
        FROM agency_snapshot_fields AS f
        JOIN agency_snapshots AS a ON a.quarter = f.quarter AND a.agency_id = f.agency_id
        JOIN pub_capture_provenance AS p ON p.capture_id = a.capture_id
        ORDER BY f.quarter, f.agency_id, f.field_name""",
        "Other fields of each agency row", "agency_snapshot_fields", ("quarter", "agency_id", "field_name"),
        (fk("quarter, agency_id", "agency_snapshots"),), provenance_of="the agency row's capture"),
    Relation(
        "agency_changes", f"""
        SELECT c.*, {_QPROV}
        FROM agency_changes AS c
        JOIN pub_quarter_provenance AS q
          ON q.quarter = CASE WHEN c.change = 'joined' THEN c.quarter ELSE c.compared_with END
        ORDER BY c.quarter, c.change, c.state, c.name, c.agency_id""",
        "Joins and departures", "agency_changes", ("quarter", "change", "agency_id"),
        (fk("agency_id", "agencies"),),
        provenance_of="the snapshot the row's details come from (the later one for a join, the earlier for a "
                      "departure)"),
    per_quarter("agency_counts_by_quarter", "quarter", "Agencies per quarter", ("quarter",)),
    # state is NULL where none was named: no primary key
    per_quarter("agency_counts_by_state", "quarter, state", "Agencies per state and quarter", ()),
    per_quarter("agency_counts_by_type", "quarter, agency_type", "Agencies per type and quarter",
                ("quarter", "agency_type")),
    Relation(
        "agency_joins_by_quarter", f"""
        SELECT j.*, q.quarter AS reconstructed_from, {_QPROV}
        FROM agency_joins_by_quarter AS j
        CROSS JOIN (SELECT * FROM pub_quarter_provenance ORDER BY quarter DESC LIMIT 1) AS q
        ORDER BY j.quarter""",
        "Growth reconstructed from Active Dates", "agency_joins_by_quarter", ("quarter",),
        provenance_of="the latest snapshot, whose Active Dates are counted",
        columns={"reconstructed_from": "The snapshot (YYYYQn) whose Active Dates are counted: the latest held. Its "
                                       "agencies without an Active Date are in no quarter here."}),
    Relation(
        "agency_name_history", f"""
        SELECT h.*, {_QPROV}
        FROM agency_name_history AS h JOIN pub_quarter_provenance AS q ON q.quarter = h.last_quarter
        ORDER BY h.agency_id, h.first_quarter, h.name""",
        "Names each agency was listed under", "agency_name_history", ("agency_id", "name"),
        (fk("agency_id", "agencies"),), provenance_of="the last snapshot listing the name"),
    Relation(
        "agency_video_requests", f"""
        SELECT v.*, {_PROV}
        FROM agency_video_requests AS v
        JOIN agency_snapshots AS a ON a.quarter = v.quarter AND a.agency_id = v.agency_id
        JOIN pub_capture_provenance AS p ON p.capture_id = a.capture_id
        ORDER BY v.quarter, v.period_start, v.agency_id, v.metric""",
        "Video requests per agency (the map's 2020-era counts)", "agency_video_requests",
        ("quarter", "agency_id", "metric"), (fk("quarter, agency_id", "agency_snapshots"),),
        provenance_of="the agency row that carried the count"),
    Relation(
        "video_requests_by_period",
        "SELECT * FROM video_requests_by_period ORDER BY period_start, period_end",
        "Video requests per period", "video_requests_by_period", ("period_start", "period_end")),
    # state is NULL where none was named: no primary key
    per_quarter("video_requests_by_state", "quarter, period_label, state", "Video requests per state", ()),
    per_quarter("states_without_agencies", "quarter, state", "States without a partner agency",
                ("quarter", "state")),
    Relation(
        "snapshots", """
        SELECT s.*, p.source_name, p.license, p.source_url, p.capture_sha256
        FROM snapshots AS s JOIN pub_capture_provenance AS p ON p.capture_id = s.capture_id
        ORDER BY s.source, s.quarter""",
        "Quarters held", "snapshots", ("source", "quarter"),
        (fk("capture_id", "captures"), fk("run_id", "sync_runs")), provenance_of="the snapshot's capture"),
    Relation(
        "captures", """
        SELECT c.capture_id, c.source, pub_web_url(c.url) AS url, pub_file_name(c.url) AS file_name, c.fetched_at,
               c.http_status, c.content_type, c.sha256, c.size_bytes, c.origin, c.etag, c.last_modified, c.complete,
               c.parent_capture_id, c.run_id, p.source_name, p.license
        FROM captures AS c JOIN pub_capture_provenance AS p ON p.capture_id = c.capture_id
        ORDER BY c.capture_id""",
        "Every capture", "captures", ("capture_id",),
        (fk("parent_capture_id", "captures", "capture_id"), fk("run_id", "sync_runs")), ring_source=None,
        provenance_of="the capture itself",
        columns={"url": "The web address fetched (after redirects); empty for a saved file or an Atlas export.",
                 "file_name": _FILE_NAME}),
    Relation(
        "sync_runs", """
        SELECT run_id, flow_run_id, source, mode, quarter, started_at, finished_at, status, rows_loaded, error,
               pub_web_url(url) AS url, pub_file_name(url) AS file_name, capture_id
        FROM sync_runs ORDER BY run_id""",
        "The run ledger", "sync_runs", ("run_id",), (fk("capture_id", "captures"),), ring_source=None,
        columns={"url": _RUN_URL, "file_name": _FILE_NAME,
                 "error": "The one-line error a failed run ended with (file paths shortened to the file's name)."}),
    Relation(
        "quality_warnings", "SELECT * FROM quality_warnings ORDER BY run_id, recorded_at, kind, subject, detail",
        "Data-quality findings", "quality_warnings", (), (fk("run_id", "sync_runs"),), ring_source=None),
    Relation(
        "removed_loads", "SELECT * FROM removed_loads ORDER BY run_id",
        "Loads removed", "removed_loads", ("run_id",), (fk("run_id", "sync_runs"),), ring_source=None),
    Relation(
        "transparency_reports", """
        SELECT r.report_id, pub_web_url(r.url) AS url, pub_file_name(r.url) AS file_name, r.title, r.published_on,
               r.capture_id, p.origin, p.source_name, p.license, p.source_url, p.capture_sha256, p.observed_on
        FROM transparency_reports AS r JOIN pub_capture_provenance AS p ON p.capture_id = r.capture_id
        ORDER BY r.report_id""",
        "Transparency report pages", "transparency_reports", ("report_id",), (fk("capture_id", "captures"),),
        ring_source="transparency", provenance_of="the page's latest parsed capture",
        columns={"url": _URL, "file_name": _FILE_NAME}),
    Relation(
        "le_request_counts", f"""
        SELECT f.*, {_PROV}
        FROM le_request_counts AS f JOIN pub_capture_provenance AS p ON p.capture_id = f.capture_id
        ORDER BY f.period_start, f.period_end, f.country, f.request_type, f.outcome, f.observed_at, f.capture_id,
                 f.label""",
        "Every transparency figure as observed", "le_request_counts",
        ("capture_id", "period_start", "period_end", "country", "request_type", "outcome"),
        (fk("report_id", "transparency_reports"), fk("capture_id", "captures")), ring_source="transparency",
        provenance_of="the figure's capture"),
    Relation(
        "le_request_counts_current", f"""
        SELECT f.*, {_PROV}
        FROM le_request_counts_current AS f JOIN pub_capture_provenance AS p ON p.capture_id = f.capture_id
        ORDER BY f.period_start, f.period_end, f.country, f.request_type, f.outcome""",
        "Transparency figures, current values", "le_request_counts_current",
        ("period_start", "period_end", "country", "request_type", "outcome"),
        (fk("report_id", "transparency_reports"), fk("capture_id", "captures")), ring_source="transparency",
        provenance_of="the current observation's capture"),
    Relation(
        "le_requests_by_period", """
        SELECT b.*, g.origin, g.source_name, g.license, g.source_url, g.capture_sha256, g.observed_on
        FROM le_requests_by_period AS b
        LEFT JOIN (
            SELECT f.period_start, f.period_end, f.request_type,
                   string_agg(DISTINCT p.origin, ' ' ORDER BY p.origin) AS origin,
                   string_agg(DISTINCT p.source_name, '; ' ORDER BY p.source_name) AS source_name,
                   string_agg(DISTINCT p.license, '; ' ORDER BY p.license) AS license,
                   string_agg(DISTINCT p.source_url, ' ' ORDER BY p.source_url) AS source_url,
                   string_agg(DISTINCT p.capture_sha256, ' ' ORDER BY p.capture_sha256) AS capture_sha256,
                   max(p.observed_on) AS observed_on
            FROM le_request_counts_current AS f JOIN pub_capture_provenance AS p ON p.capture_id = f.capture_id
            WHERE f.country = 'US' AND f.outcome IN ('received', 'full_response', 'partial_response', 'no_response')
            GROUP BY f.period_start, f.period_end, f.request_type
        ) AS g USING (period_start, period_end, request_type)
        ORDER BY b.period_start, b.period_end, b.request_type""",
        "US requests per period", "le_requests_by_period", ("period_start", "period_end", "request_type"),
        ring_source="transparency",
        provenance_of="the figures of the row (several origins, addresses or hashes are space-separated, "
                      "names and licences separated by '; '; observed_on is the latest)"),
    Relation(
        "le_requests_by_year", """
        SELECT b.*, g.origin, g.source_name, g.license, g.source_url, g.capture_sha256, g.observed_on
        FROM le_requests_by_year AS b
        LEFT JOIN (
            SELECT year(f.period_start) AS year, f.request_type,
                   string_agg(DISTINCT p.origin, ' ' ORDER BY p.origin) AS origin,
                   string_agg(DISTINCT p.source_name, '; ' ORDER BY p.source_name) AS source_name,
                   string_agg(DISTINCT p.license, '; ' ORDER BY p.license) AS license,
                   string_agg(DISTINCT p.source_url, ' ' ORDER BY p.source_url) AS source_url,
                   string_agg(DISTINCT p.capture_sha256, ' ' ORDER BY p.capture_sha256) AS capture_sha256,
                   max(p.observed_on) AS observed_on
            FROM le_request_counts_current AS f JOIN pub_capture_provenance AS p ON p.capture_id = f.capture_id
            WHERE f.country = 'US' AND year(f.period_start) = year(f.period_end)
              AND f.outcome IN ('received', 'full_response', 'partial_response', 'no_response')
            GROUP BY year(f.period_start), f.request_type
        ) AS g USING (year, request_type)
        ORDER BY b.year, b.request_type""",
        "US requests per year", "le_requests_by_year", ("year", "request_type"), ring_source="transparency",
        provenance_of="the year's figures of the type (several origins, addresses or hashes are space-separated, "
                      "names and licences separated by '; '; observed_on is the latest)"),
    Relation(
        "report_ledgers", "SELECT * FROM report_ledgers ORDER BY capture_id",
        "How every number of a report page was taken", "report_ledgers", ("capture_id",),
        (fk("capture_id", "captures"), fk("report_id", "transparency_reports")), ring_source="transparency"),
    Relation(
        "report_pages_read", """
        SELECT report_id, pub_web_url(url) AS url, pub_file_name(url) AS file_name, title, capture_id, fetched_at,
               numbers_seen, placed, explained, unplaced, read_completely, parsed_at
        FROM report_pages_read ORDER BY report_id""",
        "Which report pages were read completely", "report_pages_read", ("report_id",),
        (fk("report_id", "transparency_reports"), fk("capture_id", "captures")), ring_source="transparency",
        columns={"url": _URL, "file_name": _FILE_NAME}),
    Relation(
        "agency_keys", "SELECT * FROM agency_keys ORDER BY key_kind, key",
        "Every key an agency was seen under", "agency_keys", ("key_kind", "key"), (fk("agency_id", "agencies"),)),
    Relation(
        "data_sources", """
        SELECT source_name, publisher, url, license, license_url, credit, note
        FROM pub_source_list ORDER BY source_key""",
        "Who published the data, and how to credit it", None, ("source_name",), ring_source=None,
        columns={
            "source_name": "The publisher's data set, as every row's source_name names it.",
            "publisher": "Who publishes it.",
            "url": "Its web address (for Ring's pages: the one captured last; empty when only saved copies are "
                   "held).",
            "license": "Its licence as the publisher states it; 'none known' when no licence is known.",
            "license_url": "The licence's text.",
            "credit": "How to credit it.",
            "note": "What it is, and how ringwatch read it.",
        }),
)

# Descriptions that replace the warehouse's own, which speak of the machine it runs on.
TABLE_DESCRIPTION = {
    "data_sources": "The publishers behind the data: Ring (its Active Agency Map and its law-enforcement "
                    "transparency reports) and EFF's Atlas of Surveillance, with each one's licence and credit line.",
    "captures": "Every body ringwatch fetched or read, as received, whether or not it parsed: what it was, when, "
                "from which web address or file, and the SHA-256 of its bytes. The bytes themselves are not in the "
                "release; the SHA-256 identifies them.",
    "sync_runs": "One row per sync attempt, successful or not: the audit log behind ringwatch status. Published "
                 "without the host name and process id of the machine that ran it.",
}
