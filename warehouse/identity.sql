-- Identity resolution: reading observations and keys, writing them back with resolved ids.
-- Each query is named for warehouse.db.named_queries; warehouse/identity_store.py runs them.

-- name: sightings
-- The distinct key sets of the observations, with the first quarter each was seen in.
SELECT profile_uuid, name_key, ori, aos_number, min(quarter) AS first_quarter
FROM agency_observations
GROUP BY ALL;

-- name: origins
SELECT quarter, origin FROM snapshots WHERE source = 'agency_map';

-- name: stored_keys
SELECT key_kind, key, agency_id, first_seen_quarter, origin FROM agency_keys;

-- name: delete_keys
DELETE FROM agency_keys
USING (SELECT unnest($kind::VARCHAR[]) AS key_kind, unnest($key::VARCHAR[]) AS key) AS gone
WHERE agency_keys.key_kind = gone.key_kind AND agency_keys.key = gone.key;

-- name: insert_keys
INSERT INTO agency_keys
SELECT kind::VARCHAR, key::VARCHAR, agency_id::VARCHAR, first_seen::VARCHAR, origin::VARCHAR FROM batch;

-- name: count_unresolved
SELECT count(*) FROM agency_observations WHERE agency_id IS NULL OR represents_agency IS NULL;

-- name: reidentify
-- Each stored observation under the agency its own key resolves to: its uuid, else its name
-- key, else its ORI, else its AOSNUMBER (warehouse.identity.own_key). Returns the rows changed.
UPDATE agency_observations AS o
SET agency_id = k.agency_id
FROM agency_keys AS k
WHERE k.key_kind = CASE WHEN o.profile_uuid IS NOT NULL THEN 'uuid' WHEN o.name_key IS NOT NULL THEN 'name'
                        WHEN o.ori IS NOT NULL THEN 'ori' ELSE 'aos' END
  AND k.key = coalesce(o.profile_uuid, o.name_key, o.ori, o.aos_number)
  AND o.agency_id IS DISTINCT FROM k.agency_id;

-- name: recount
-- One observation per quarter and agency represents it (one with a profile, else the first);
-- each snapshot's row count follows.
UPDATE agency_observations AS o
SET represents_agency = (r.rank_in_agency = 1)
FROM (SELECT quarter, observation_no,
             row_number() OVER (PARTITION BY quarter, agency_id
                                ORDER BY profile_uuid IS NULL, observation_no) AS rank_in_agency
      FROM agency_observations) AS r
WHERE o.quarter = r.quarter AND o.observation_no = r.observation_no
  AND o.represents_agency IS DISTINCT FROM (r.rank_in_agency = 1);
UPDATE snapshots SET rows_loaded = c.agencies
FROM (SELECT quarter, count(*) AS agencies FROM agency_observations WHERE represents_agency GROUP BY quarter) AS c
WHERE snapshots.source = 'agency_map' AND snapshots.quarter = c.quarter AND snapshots.rows_loaded <> c.agencies;

-- name: insert_observations
-- Rows from warehouse.db.insert_batch, which binds the columns as `batch`.
INSERT INTO agency_observations
SELECT quarter::VARCHAR, observation_no::INTEGER, agency_id::VARCHAR, represents::BOOLEAN,
       profile_uuid::VARCHAR, name_key::VARCHAR, ori::VARCHAR, aos_number::VARCHAR,
       name::VARCHAR, agency_type::VARCHAR, type_basis::VARCHAR, layer::VARCHAR, address::VARCHAR,
       city::VARCHAR, state::VARCHAR, active_date::DATE, latitude::DOUBLE, longitude::DOUBLE,
       profile_url::VARCHAR, capture_id::BIGINT, observed_at::TIMESTAMP
FROM batch;

-- name: insert_fields
INSERT INTO agency_observation_fields
SELECT quarter::VARCHAR, observation_no::INTEGER, field::VARCHAR, text::VARCHAR, number::DOUBLE FROM batch;

-- name: replace_aliases
DELETE FROM agency_aliases;
INSERT INTO agency_aliases
SELECT unnest($line_no::INTEGER[]), unnest($decision::VARCHAR[]), unnest($key_a::VARCHAR[]),
       unnest($key_b::VARCHAR[]), unnest($note::VARCHAR[]);

-- name: stored_aliases
SELECT line_no, decision, key_a, key_b, note FROM agency_aliases ORDER BY line_no;

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
