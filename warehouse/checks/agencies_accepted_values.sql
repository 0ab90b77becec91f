-- agency_type and state take only accepted values.
SELECT quarter, agency_id, agency_type, state
FROM agency_snapshots
WHERE agency_type NOT IN ('police', 'sheriff', 'fire', 'other')
   OR (state IS NOT NULL AND NOT regexp_full_match(state, '[A-Z]{2}'))
