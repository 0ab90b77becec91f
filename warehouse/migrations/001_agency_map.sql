-- Migration 1: raw captures, run log, agency-map snapshots.
-- Every time column is UTC (TIMESTAMP without zone, by convention). Quarters are text
-- 'YYYYQn', which sorts in time order.

CREATE SEQUENCE IF NOT EXISTS capture_id_seq START 1;
CREATE SEQUENCE IF NOT EXISTS run_id_seq START 1;

CREATE TABLE captures (
    capture_id        BIGINT PRIMARY KEY DEFAULT nextval('capture_id_seq'),
    source            VARCHAR NOT NULL,
    url               VARCHAR NOT NULL,
    fetched_at        TIMESTAMP NOT NULL,
    http_status       INTEGER NOT NULL,
    content_type      VARCHAR,
    sha256            VARCHAR NOT NULL,
    size_bytes        BIGINT NOT NULL,
    origin            VARCHAR NOT NULL CHECK (origin IN ('live', 'file', 'wayback', 'atlas')),
    etag              VARCHAR,
    last_modified     VARCHAR,
    complete          BOOLEAN NOT NULL,
    parent_capture_id BIGINT,
    run_id            BIGINT
);
COMMENT ON TABLE captures IS 'Every body ringwatch fetched or read, as received, whether or not it parsed. The bytes live once per sha256 in the folder <database>.captures/ beside the database file (captures/<first two hex digits>/<sha256>).';
COMMENT ON COLUMN captures.capture_id IS 'Sequential id of this fetch.';
COMMENT ON COLUMN captures.source IS 'Which source: agency_map (later also transparency).';
COMMENT ON COLUMN captures.url IS 'The URL fetched (after redirects), or file:// path for --from-file loads.';
COMMENT ON COLUMN captures.fetched_at IS 'When the response arrived, UTC. For archive captures, the archive timestamp.';
COMMENT ON COLUMN captures.http_status IS 'HTTP status of the final response (304 = not modified: the bytes are those of the earlier capture with the same sha256; 0 for files).';
COMMENT ON COLUMN captures.content_type IS 'Content-Type header as sent.';
COMMENT ON COLUMN captures.sha256 IS 'Hex SHA-256 of the body; names the stored file.';
COMMENT ON COLUMN captures.size_bytes IS 'Body size in bytes.';
COMMENT ON COLUMN captures.origin IS 'live (fetched from the site), file (--from-file), wayback (Internet Archive), atlas (EFF Atlas export).';
COMMENT ON COLUMN captures.etag IS 'ETag header, sent back as If-None-Match next time.';
COMMENT ON COLUMN captures.last_modified IS 'Last-Modified header, sent back as If-Modified-Since next time.';
COMMENT ON COLUMN captures.complete IS 'False when the body was cut off (truncated, over the size cap, connection broken); kept as evidence, never parsed into data.';
COMMENT ON COLUMN captures.parent_capture_id IS 'The capture that linked to this one (the wrapper KML of a NetworkLink), else NULL.';
COMMENT ON COLUMN captures.run_id IS 'The sync run that made this capture (sync_runs.run_id).';

CREATE TABLE sync_runs (
    run_id       BIGINT PRIMARY KEY DEFAULT nextval('run_id_seq'),
    flow_run_id  VARCHAR,
    source       VARCHAR NOT NULL,
    mode         VARCHAR NOT NULL,
    quarter      VARCHAR,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL CHECK (status IN ('running', 'success', 'unchanged', 'failed')),
    rows_loaded  INTEGER,
    error        VARCHAR,
    url          VARCHAR,
    capture_id   BIGINT
);
COMMENT ON TABLE sync_runs IS 'One row per sync attempt, successful or not: the audit log behind ringwatch status.';
COMMENT ON COLUMN sync_runs.run_id IS 'Sequential id of the attempt.';
COMMENT ON COLUMN sync_runs.flow_run_id IS 'Prefect flow run id, when run through Prefect.';
COMMENT ON COLUMN sync_runs.source IS 'Which source was synced.';
COMMENT ON COLUMN sync_runs.mode IS 'live (from the site) or file (--from-file); later wayback, atlas, reparse.';
COMMENT ON COLUMN sync_runs.quarter IS 'Quarter the snapshot was labelled with (YYYYQn), once known.';
COMMENT ON COLUMN sync_runs.started_at IS 'UTC start of the attempt.';
COMMENT ON COLUMN sync_runs.finished_at IS 'UTC end of the attempt; NULL while running or if the process died.';
COMMENT ON COLUMN sync_runs.status IS 'running, success (snapshot loaded), unchanged (a nearer observation of the quarter was kept), failed (see error).';
COMMENT ON COLUMN sync_runs.rows_loaded IS 'Agencies written for the quarter by this run.';
COMMENT ON COLUMN sync_runs.error IS 'The one-line error a failed run ended with.';
COMMENT ON COLUMN sync_runs.url IS 'The URL or file the run read.';
COMMENT ON COLUMN sync_runs.capture_id IS 'The capture that was parsed, when one was.';

CREATE TABLE snapshots (
    source       VARCHAR NOT NULL,
    quarter      VARCHAR NOT NULL,
    observed_at  TIMESTAMP NOT NULL,
    origin       VARCHAR NOT NULL,
    capture_id   BIGINT NOT NULL,
    rows_loaded  INTEGER NOT NULL,
    run_id       BIGINT NOT NULL,
    loaded_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (source, quarter)
);
COMMENT ON TABLE snapshots IS 'One row per source and quarter held: which observation stands for the quarter.';
COMMENT ON COLUMN snapshots.source IS 'Which source.';
COMMENT ON COLUMN snapshots.quarter IS 'YYYYQn: the quarter whose last day is nearest the observation (see README, the quarter rule).';
COMMENT ON COLUMN snapshots.observed_at IS 'UTC time the data was observed (fetch time, or --observed-at for files).';
COMMENT ON COLUMN snapshots.origin IS 'live, file, wayback or atlas.';
COMMENT ON COLUMN snapshots.capture_id IS 'The capture parsed into this snapshot.';
COMMENT ON COLUMN snapshots.rows_loaded IS 'Rows in the snapshot (agencies for agency_map).';
COMMENT ON COLUMN snapshots.run_id IS 'The sync run that loaded it.';
COMMENT ON COLUMN snapshots.loaded_at IS 'UTC time it was loaded.';

CREATE TABLE agency_snapshots (
    quarter      VARCHAR NOT NULL,
    agency_id    VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    agency_type  VARCHAR NOT NULL CHECK (agency_type IN ('police', 'sheriff', 'fire', 'other')),
    type_basis   VARCHAR NOT NULL CHECK (type_basis IN ('layer', 'name')),
    layer        VARCHAR,
    address      VARCHAR,
    city         VARCHAR,
    state        VARCHAR,
    active_date  DATE,
    latitude     DOUBLE,
    longitude    DOUBLE,
    profile_url  VARCHAR,
    capture_id   BIGINT NOT NULL,
    observed_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (quarter, agency_id)
);
COMMENT ON TABLE agency_snapshots IS 'The Active Agency Map as observed each quarter: one row per agency per quarter held.';
COMMENT ON COLUMN agency_snapshots.quarter IS 'YYYYQn the snapshot stands for.';
COMMENT ON COLUMN agency_snapshots.agency_id IS 'The uuid of the agency''s Ring profile (agency.ring.com/agencies/<uuid>) when the map gives one, else h- and a hash of the normalized name, city and state.';
COMMENT ON COLUMN agency_snapshots.name IS 'Agency name as on the map, white space collapsed.';
COMMENT ON COLUMN agency_snapshots.agency_type IS 'police, sheriff, fire or other: from the layer name when it says, else from the agency name.';
COMMENT ON COLUMN agency_snapshots.type_basis IS 'layer or name: what agency_type was read from.';
COMMENT ON COLUMN agency_snapshots.layer IS 'Name of the map layer (KML Folder) holding the placemark.';
COMMENT ON COLUMN agency_snapshots.address IS 'Address as on the map (City, ST).';
COMMENT ON COLUMN agency_snapshots.city IS 'City part of the address.';
COMMENT ON COLUMN agency_snapshots.state IS 'USPS code (states, DC, PR, GU, VI, MP, AS), normalized from codes or full names.';
COMMENT ON COLUMN agency_snapshots.active_date IS 'Date the agency joined, from the map''s Active Date; NULL when the map leaves it empty.';
COMMENT ON COLUMN agency_snapshots.latitude IS 'WGS84 latitude of the placemark, when the layer is geocoded.';
COMMENT ON COLUMN agency_snapshots.longitude IS 'WGS84 longitude of the placemark, when the layer is geocoded.';
COMMENT ON COLUMN agency_snapshots.profile_url IS 'The agency''s public Ring profile URL (from 2021-06).';
COMMENT ON COLUMN agency_snapshots.capture_id IS 'The capture this row was parsed from.';
COMMENT ON COLUMN agency_snapshots.observed_at IS 'UTC time of the observation.';

CREATE TABLE agency_snapshot_fields (
    quarter       VARCHAR NOT NULL,
    agency_id     VARCHAR NOT NULL,
    field_name    VARCHAR NOT NULL,
    value_text    VARCHAR NOT NULL,
    value_number  DOUBLE,
    PRIMARY KEY (quarter, agency_id, field_name)
);
COMMENT ON TABLE agency_snapshot_fields IS 'Placemark Data fields other than Active Date and Agency Profile, kept as found (the 2020-era video-request count, fields Ring adds later).';
COMMENT ON COLUMN agency_snapshot_fields.quarter IS 'YYYYQn of the snapshot.';
COMMENT ON COLUMN agency_snapshot_fields.agency_id IS 'The agency (agency_snapshots.agency_id).';
COMMENT ON COLUMN agency_snapshot_fields.field_name IS 'The Data element''s name attribute, as written.';
COMMENT ON COLUMN agency_snapshot_fields.value_text IS 'The value as written.';
COMMENT ON COLUMN agency_snapshot_fields.value_number IS 'The value as a number when it is one (thousands separators removed), else NULL.';

CREATE TABLE agencies (
    agency_id           VARCHAR PRIMARY KEY,
    name                VARCHAR NOT NULL,
    agency_type         VARCHAR NOT NULL,
    city                VARCHAR,
    state               VARCHAR,
    active_date         DATE,
    profile_url         VARCHAR,
    first_seen_quarter  VARCHAR NOT NULL,
    last_seen_quarter   VARCHAR NOT NULL
);
COMMENT ON TABLE agencies IS 'One row per agency ever seen on the map, with its latest known details; rebuilt from agency_snapshots on every load.';
COMMENT ON COLUMN agencies.agency_id IS 'See agency_snapshots.agency_id.';
COMMENT ON COLUMN agencies.name IS 'Name in the latest snapshot that holds the agency.';
COMMENT ON COLUMN agencies.agency_type IS 'police, sheriff, fire or other, as in the latest snapshot.';
COMMENT ON COLUMN agencies.city IS 'City in the latest snapshot.';
COMMENT ON COLUMN agencies.state IS 'USPS state code in the latest snapshot.';
COMMENT ON COLUMN agencies.active_date IS 'Active Date in the latest snapshot that gives one.';
COMMENT ON COLUMN agencies.profile_url IS 'Ring profile URL, when known.';
COMMENT ON COLUMN agencies.first_seen_quarter IS 'First quarter held in which the agency appears.';
COMMENT ON COLUMN agencies.last_seen_quarter IS 'Last quarter held in which the agency appears; earlier than the latest snapshot means it left the map.';

CREATE TABLE quality_warnings (
    run_id       BIGINT NOT NULL,
    source       VARCHAR NOT NULL,
    quarter      VARCHAR,
    kind         VARCHAR NOT NULL,
    subject      VARCHAR NOT NULL,
    detail       VARCHAR NOT NULL,
    recorded_at  TIMESTAMP NOT NULL
);
COMMENT ON TABLE quality_warnings IS 'Data-quality findings that did not stop a load but must be visible: duplicate placemarks merged, and so on.';
COMMENT ON COLUMN quality_warnings.run_id IS 'The sync run that found it.';
COMMENT ON COLUMN quality_warnings.source IS 'Which source.';
COMMENT ON COLUMN quality_warnings.quarter IS 'Quarter of the snapshot concerned.';
COMMENT ON COLUMN quality_warnings.kind IS 'Short machine-readable kind, e.g. duplicate_agency.';
COMMENT ON COLUMN quality_warnings.subject IS 'What it is about (an agency_id, a field).';
COMMENT ON COLUMN quality_warnings.detail IS 'A sentence saying what was found and what was done.';
COMMENT ON COLUMN quality_warnings.recorded_at IS 'UTC time it was recorded.';
