-- Migration 3: agency identity. What the map (or an Atlas export) said is kept as observations,
-- each with the keys it carries and the agency id they resolve to (warehouse/identity.py);
-- agency_snapshots, agency_snapshot_fields and agencies become views over them (views/), so
-- there is one stored copy and the views can never disagree with it. Existing rows become
-- observations here; warehouse.identity_store.heal fills in their keys and ids right after.

CREATE TABLE agency_observations (
    quarter         VARCHAR NOT NULL,
    observation_no  INTEGER NOT NULL,
    agency_id       VARCHAR,
    represents_agency BOOLEAN,
    profile_uuid    VARCHAR,
    name_key        VARCHAR,
    ori             VARCHAR,
    aos_number      VARCHAR,
    name            VARCHAR NOT NULL,
    agency_type     VARCHAR NOT NULL CHECK (agency_type IN ('police', 'sheriff', 'fire', 'other')),
    type_basis      VARCHAR NOT NULL CHECK (type_basis IN ('layer', 'name')),
    layer           VARCHAR,
    address         VARCHAR,
    city            VARCHAR,
    state           VARCHAR,
    active_date     DATE,
    latitude        DOUBLE,
    longitude       DOUBLE,
    profile_url     VARCHAR,
    capture_id      BIGINT NOT NULL,
    observed_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (quarter, observation_no)
);
COMMENT ON TABLE agency_observations IS 'Every agency row of every snapshot held, as parsed (after duplicate placemarks were merged), with the keys it carries and the agency they resolve to. The view agency_snapshots shows the rows with represents_agency.';
COMMENT ON COLUMN agency_observations.quarter IS 'YYYYQn of the snapshot.';
COMMENT ON COLUMN agency_observations.observation_no IS 'Order of the row in its snapshot (0-based).';
COMMENT ON COLUMN agency_observations.agency_id IS 'The resolved agency (see agency_keys and the README, Agency identity); re-resolved on every load.';
COMMENT ON COLUMN agency_observations.represents_agency IS 'True for the one row per quarter and agency that agency_snapshots shows: when two rows of a snapshot resolve to one agency, the one with a profile, then the earlier one.';
COMMENT ON COLUMN agency_observations.profile_uuid IS 'Ring Agency Profile uuid (lower case) when the placemark links a profile (from 2021-06).';
COMMENT ON COLUMN agency_observations.name_key IS 'Normalized name|city|ST: case, punctuation, spacing, The and common abbreviations folded (scrapers/agency_names.py).';
COMMENT ON COLUMN agency_observations.ori IS 'FBI ORI from an Atlas export (NEWAOSNUMBER (ORI9)), upper case.';
COMMENT ON COLUMN agency_observations.aos_number IS 'Atlas of Surveillance record number (AOSNUMBER), upper case.';
COMMENT ON COLUMN agency_observations.name IS 'Agency name as written, white space collapsed.';
COMMENT ON COLUMN agency_observations.agency_type IS 'police, sheriff, fire or other.';
COMMENT ON COLUMN agency_observations.type_basis IS 'layer or name: what agency_type was read from.';
COMMENT ON COLUMN agency_observations.layer IS 'Map layer (KML Folder) name, or the Atlas Type of LEA.';
COMMENT ON COLUMN agency_observations.address IS 'Address as written.';
COMMENT ON COLUMN agency_observations.city IS 'City as written.';
COMMENT ON COLUMN agency_observations.state IS 'USPS code.';
COMMENT ON COLUMN agency_observations.active_date IS 'Active Date as given; NULL when empty.';
COMMENT ON COLUMN agency_observations.latitude IS 'WGS84 latitude, when geocoded.';
COMMENT ON COLUMN agency_observations.longitude IS 'WGS84 longitude, when geocoded.';
COMMENT ON COLUMN agency_observations.profile_url IS 'Ring profile URL as written.';
COMMENT ON COLUMN agency_observations.capture_id IS 'The capture the row was parsed from.';
COMMENT ON COLUMN agency_observations.observed_at IS 'UTC time of the observation.';

CREATE TABLE agency_observation_fields (
    quarter         VARCHAR NOT NULL,
    observation_no  INTEGER NOT NULL,
    field_name      VARCHAR NOT NULL,
    value_text      VARCHAR NOT NULL,
    value_number    DOUBLE,
    PRIMARY KEY (quarter, observation_no, field_name)
);
COMMENT ON TABLE agency_observation_fields IS 'Data fields of each observation other than Active Date and Agency Profile, as found; agency_snapshot_fields is rebuilt from it.';
COMMENT ON COLUMN agency_observation_fields.quarter IS 'YYYYQn of the snapshot.';
COMMENT ON COLUMN agency_observation_fields.observation_no IS 'The observation (agency_observations.observation_no).';
COMMENT ON COLUMN agency_observation_fields.field_name IS 'The field name as written.';
COMMENT ON COLUMN agency_observation_fields.value_text IS 'The value as written.';
COMMENT ON COLUMN agency_observation_fields.value_number IS 'The value as a number when it is one, else NULL.';

CREATE TABLE agency_keys (
    key_kind            VARCHAR NOT NULL CHECK (key_kind IN ('uuid', 'name', 'ori', 'aos')),
    key                 VARCHAR NOT NULL,
    agency_id           VARCHAR NOT NULL,
    first_seen_quarter  VARCHAR NOT NULL,
    origin              VARCHAR NOT NULL,
    PRIMARY KEY (key_kind, key)
);
COMMENT ON TABLE agency_keys IS 'Every key an agency has been seen under, and the agency it resolves to. Rebuilt on every load from agency_observations and the aliases file; see the README, Agency identity.';
COMMENT ON COLUMN agency_keys.key_kind IS 'uuid (Ring profile), name (normalized name|city|ST), ori (FBI ORI from Atlas), aos (Atlas AOSNUMBER).';
COMMENT ON COLUMN agency_keys.key IS 'The key in normalized form, as in agency_observations.';
COMMENT ON COLUMN agency_keys.agency_id IS 'The agency it resolves to (agencies.agency_id). A name seen with several profiles resolves to an agency of its own (see quality_warnings, kind ambiguous_identity).';
COMMENT ON COLUMN agency_keys.first_seen_quarter IS 'First quarter held in which an observation carried the key.';
COMMENT ON COLUMN agency_keys.origin IS 'Origin (live, file, wayback, atlas) of the snapshot of that first quarter.';

CREATE TABLE agency_aliases (
    line_no   INTEGER PRIMARY KEY,
    decision  VARCHAR NOT NULL CHECK (decision IN ('same', 'different')),
    key_a     VARCHAR NOT NULL,
    key_b     VARCHAR NOT NULL,
    note      VARCHAR NOT NULL
);
COMMENT ON TABLE agency_aliases IS 'The reviewed aliases file (config/agency_aliases.csv) as applied at the last load, keys normalized.';
COMMENT ON COLUMN agency_aliases.line_no IS 'Line of the file.';
COMMENT ON COLUMN agency_aliases.decision IS 'same (one agency) or different (never one agency).';
COMMENT ON COLUMN agency_aliases.key_a IS 'kind:key, normalized as in agency_keys.';
COMMENT ON COLUMN agency_aliases.key_b IS 'kind:key, normalized as in agency_keys.';
COMMENT ON COLUMN agency_aliases.note IS 'The reviewer''s note.';

-- Existing snapshot rows become observations, numbered in id order within their quarter.
INSERT INTO agency_observations
SELECT quarter, (row_number() OVER (PARTITION BY quarter ORDER BY agency_id) - 1)::INTEGER,
       NULL, NULL,
       nullif(lower(regexp_extract(profile_url, '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}')), ''),
       NULL, NULL, NULL,
       name, agency_type, type_basis, layer, address, city, state, active_date, latitude, longitude,
       profile_url, capture_id, observed_at
FROM agency_snapshots;

INSERT INTO agency_observation_fields
SELECT f.quarter, n.observation_no, f.field_name, f.value_text, f.value_number
FROM agency_snapshot_fields AS f
JOIN (SELECT quarter, agency_id,
             (row_number() OVER (PARTITION BY quarter ORDER BY agency_id) - 1)::INTEGER AS observation_no
      FROM agency_snapshots) AS n
  USING (quarter, agency_id);

-- The old tables give way to views of the same names and columns (views/agency_snapshots.sql,
-- agency_snapshot_fields.sql, agencies.sql).
DROP TABLE agency_snapshot_fields;
DROP TABLE agency_snapshots;
DROP TABLE agencies;
