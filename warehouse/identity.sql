-- Identity resolution: reading observations and keys, writing them back with resolved ids.
-- Each query is named for warehouse.sql.named_queries; warehouse/identity_store.py runs them.

-- name: sightings
-- The distinct key sets of the observations, with the first quarter each was seen in. By the
-- label, not snapshots.quarter_start: this also runs in migration 3's data step (heal), on a
-- schema without the dates; the label is always YYYYQn (str(Quarter)), which sorts as time.
SELECT profile_uuid, name_key, ori, aos_number, min(quarter) AS first_quarter
FROM agency_observations
GROUP BY ALL;

-- name: origins
SELECT quarter, origin FROM snapshots WHERE source = 'agency_map';

-- name: rows_of_quarter
-- The distinct key sets of one quarter, before a load replaces it. This query and the next six
-- serve a load's resolution of what it changed (identity_store._resolve_change): each reads only
-- the rows that share a key with the change, never every key set held.
SELECT DISTINCT profile_uuid, name_key, ori, aos_number FROM agency_observations WHERE quarter = $quarter;

-- name: rows_not_held
-- Which of the given key sets no observation held carries (a NULL key matches a NULL key).
SELECT * FROM (SELECT unnest($uuid::VARCHAR[]) AS uuid, unnest($name::VARCHAR[]) AS name,
                      unnest($ori::VARCHAR[]) AS ori, unnest($aos::VARCHAR[]) AS aos) AS given
ANTI JOIN agency_observations AS o
  ON o.name_key IS NOT DISTINCT FROM given.name AND o.profile_uuid IS NOT DISTINCT FROM given.uuid
 AND o.ori IS NOT DISTINCT FROM given.ori AND o.aos_number IS NOT DISTINCT FROM given.aos;

-- name: rows_touching
-- The distinct key sets held that carry any of the given keys: one step of the walk that finds
-- every key connected to a change (through observations; the aliases are followed in Python).
SELECT DISTINCT profile_uuid, name_key, ori, aos_number FROM agency_observations
WHERE profile_uuid IN (SELECT unnest($uuid::VARCHAR[])) OR name_key IN (SELECT unnest($name::VARCHAR[]))
   OR ori IN (SELECT unnest($ori::VARCHAR[])) OR aos_number IN (SELECT unnest($aos::VARCHAR[]));

-- name: keys_among
-- The stored rows of the given keys, from warehouse.sql.insert_batch's `batch` (kind, key).
SELECT k.key_kind, k.key, k.agency_id, k.first_seen_quarter, k.origin
FROM agency_keys AS k SEMI JOIN batch AS b ON k.key_kind = b.kind::VARCHAR AND k.key = b.key::VARCHAR;

-- name: first_quarters
-- The first quarter held in which each of the given keys was seen.
SELECT kind, key, min(quarter) FROM (
    SELECT 'uuid' AS kind, profile_uuid AS key, quarter FROM agency_observations
    WHERE profile_uuid IN (SELECT unnest($uuid::VARCHAR[]))
    UNION ALL
    SELECT 'name', name_key, quarter FROM agency_observations WHERE name_key IN (SELECT unnest($name::VARCHAR[]))
    UNION ALL
    SELECT 'ori', ori, quarter FROM agency_observations WHERE ori IN (SELECT unnest($ori::VARCHAR[]))
    UNION ALL
    SELECT 'aos', aos_number, quarter FROM agency_observations WHERE aos_number IN (SELECT unnest($aos::VARCHAR[]))
)
GROUP BY kind, key;

-- name: reidentify_keys
-- The stored observations filed under the given keys (their own key, as in reidentify) take the
-- keys' new agency ids. Returns the quarter of each row changed.
UPDATE agency_observations AS o
SET agency_id = k.agency_id
FROM (SELECT unnest($kind::VARCHAR[]) AS key_kind, unnest($key::VARCHAR[]) AS key,
             unnest($agency_id::VARCHAR[]) AS agency_id) AS k
WHERE k.key_kind = CASE WHEN o.profile_uuid IS NOT NULL THEN 'uuid' WHEN o.name_key IS NOT NULL THEN 'name'
                        WHEN o.ori IS NOT NULL THEN 'ori' ELSE 'aos' END
  AND k.key = coalesce(o.profile_uuid, o.name_key, o.ori, o.aos_number)
  AND o.agency_id IS DISTINCT FROM k.agency_id
RETURNING o.quarter;

-- name: recount_agencies
-- recount, for the agencies that gained or lost observations and the quarters they are in.
UPDATE agency_observations AS o
SET represents_agency = (r.rank_in_agency = 1)
FROM (SELECT quarter, observation_no,
             row_number() OVER (PARTITION BY quarter, agency_id
                                ORDER BY profile_uuid IS NULL, observation_no) AS rank_in_agency
      FROM agency_observations
      WHERE agency_id IN (SELECT unnest($agency_ids::VARCHAR[]))) AS r
WHERE o.quarter = r.quarter AND o.observation_no = r.observation_no
  AND o.represents_agency IS DISTINCT FROM (r.rank_in_agency = 1);
UPDATE snapshots SET rows_loaded = c.agencies
FROM (SELECT quarter, count(*) AS agencies FROM agency_observations
      WHERE represents_agency AND quarter IN (SELECT unnest($quarters::VARCHAR[])) GROUP BY quarter) AS c
WHERE snapshots.source = 'agency_map' AND snapshots.quarter = c.quarter AND snapshots.rows_loaded <> c.agencies;

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

-- name: held
-- Observations held, those without a resolved id (a database not healed), keys stored.
SELECT count(*), count(*) FILTER (WHERE agency_id IS NULL OR represents_agency IS NULL),
       (SELECT count(*) FROM agency_keys)
FROM agency_observations;

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
-- Rows from warehouse.sql.insert_batch, which binds the columns as `batch`.
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
