-- Identity resolution: reading observations and rebuilding the tables that use resolved ids.
-- Each query is named for warehouse.db.named_queries; warehouse/identity_store.py runs them.

-- name: sightings
-- The distinct key sets of the observations, with the first quarter each was seen in.
SELECT profile_uuid, name_key, ori, aos_number, min(quarter) AS first_quarter
FROM agency_observations
GROUP BY ALL;

-- name: origins
SELECT quarter, origin FROM snapshots WHERE source = 'agency_map';

-- name: observations_without_keys
SELECT o.quarter, o.observation_no, o.name, o.city, o.state,
       (SELECT any_value(f.value_text) FROM agency_observation_fields AS f
        WHERE f.quarter = o.quarter AND f.observation_no = o.observation_no
          AND upper(f.field_name) = 'AOSNUMBER') AS aos_number,
       (SELECT any_value(f.value_text) FROM agency_observation_fields AS f
        WHERE f.quarter = o.quarter AND f.observation_no = o.observation_no
          AND upper(f.field_name) IN ('NEWAOSNUMBER (ORI9)', 'ORI9', 'ORI')) AS ori
FROM agency_observations AS o
WHERE o.name_key IS NULL;

-- name: fill_keys
UPDATE agency_observations AS o
SET name_key = k.name_key, aos_number = k.aos_number, ori = k.ori
FROM (SELECT unnest($quarter::VARCHAR[]) AS quarter, unnest($observation_no::INTEGER[]) AS observation_no,
             unnest($name_key::VARCHAR[]) AS name_key, unnest($aos_number::VARCHAR[]) AS aos_number,
             unnest($ori::VARCHAR[]) AS ori) AS k
WHERE o.quarter = k.quarter AND o.observation_no = k.observation_no;

-- name: replace_keys
DELETE FROM agency_keys;
INSERT INTO agency_keys
SELECT unnest($kind::VARCHAR[]), unnest($key::VARCHAR[]), unnest($agency_id::VARCHAR[]),
       unnest($first_seen::VARCHAR[]), unnest($origin::VARCHAR[]);

-- name: replace_aliases
DELETE FROM agency_aliases;
INSERT INTO agency_aliases
SELECT unnest($line_no::INTEGER[]), unnest($decision::VARCHAR[]), unnest($key_a::VARCHAR[]),
       unnest($key_b::VARCHAR[]), unnest($note::VARCHAR[]);

-- name: stored_aliases
SELECT line_no, decision, key_a, key_b, note FROM agency_aliases ORDER BY line_no;

-- name: rebuild_snapshots
-- Each observation under the agency its own key resolves to (uuid, else name, ori, aos); where
-- two observations of one quarter resolve to one agency, the one with a profile, then the
-- earlier one, stands for it (merged_observations reports these).
CREATE OR REPLACE TEMP TABLE resolved_observations AS
SELECT o.quarter, o.observation_no, k.agency_id,
       row_number() OVER (PARTITION BY o.quarter, k.agency_id
                          ORDER BY o.profile_uuid IS NULL, o.observation_no) AS rank_in_agency
FROM agency_observations AS o
JOIN agency_keys AS k
  ON k.key_kind = CASE WHEN o.profile_uuid IS NOT NULL THEN 'uuid' WHEN o.name_key IS NOT NULL THEN 'name'
                       WHEN o.ori IS NOT NULL THEN 'ori' ELSE 'aos' END
 AND k.key = coalesce(o.profile_uuid, o.name_key, o.ori, o.aos_number);
DELETE FROM agency_snapshot_fields;
DELETE FROM agency_snapshots;
INSERT INTO agency_snapshots
SELECT o.quarter, r.agency_id, o.name, o.agency_type, o.type_basis, o.layer, o.address, o.city, o.state,
       o.active_date, o.latitude, o.longitude, o.profile_url, o.capture_id, o.observed_at
FROM agency_observations AS o
JOIN resolved_observations AS r USING (quarter, observation_no)
WHERE r.rank_in_agency = 1;
INSERT INTO agency_snapshot_fields
SELECT f.quarter, r.agency_id, f.field_name, f.value_text, f.value_number
FROM agency_observation_fields AS f
JOIN resolved_observations AS r USING (quarter, observation_no)
WHERE r.rank_in_agency = 1;
UPDATE snapshots SET rows_loaded = c.agencies
FROM (SELECT quarter, count(*) AS agencies FROM agency_snapshots GROUP BY quarter) AS c
WHERE snapshots.source = 'agency_map' AND snapshots.quarter = c.quarter;
DELETE FROM agencies;
INSERT INTO agencies
SELECT agency_id,
       arg_max(name, quarter),
       arg_max(agency_type, quarter),
       arg_max(city, quarter),
       arg_max(state, quarter),
       arg_max(active_date, quarter) FILTER (WHERE active_date IS NOT NULL),
       arg_max(profile_url, quarter) FILTER (WHERE profile_url IS NOT NULL),
       min(quarter),
       max(quarter)
FROM agency_snapshots
GROUP BY agency_id;
CREATE OR REPLACE TEMP TABLE merged_observations AS
SELECT r.quarter, r.agency_id, count(*) AS observations,
       string_agg(o.name || ' (' || coalesce(o.city, '') || ', ' || coalesce(o.state, '') || ')', '; '
                  ORDER BY r.rank_in_agency) AS names
FROM resolved_observations AS r
JOIN agency_observations AS o USING (quarter, observation_no)
GROUP BY r.quarter, r.agency_id
HAVING count(*) > 1;
DROP TABLE resolved_observations;

-- name: merged_observations
-- Observations of one quarter that resolved to one agency: all but one were set aside.
-- Read once after rebuild_snapshots, which leaves this temporary table; then dropped.
SELECT quarter, agency_id, observations, names FROM merged_observations WHERE quarter = $quarter ORDER BY agency_id;
