-- One row per agency ever seen, with its latest known details: a view over agency_snapshots
-- since migration 3 (a table rebuilt on every load before), so it always agrees with them.
-- Latest and earliest by the quarter's first day (snapshots.quarter_start), not by its label.
CREATE OR REPLACE VIEW agencies AS
SELECT a.agency_id,
       arg_max(a.name, s.quarter_start) AS name,
       arg_max(a.agency_type, s.quarter_start) AS agency_type,
       arg_max(a.city, s.quarter_start) AS city,
       arg_max(a.state, s.quarter_start) AS state,
       arg_max(a.active_date, s.quarter_start) FILTER (WHERE a.active_date IS NOT NULL) AS active_date,
       arg_max(a.profile_url, s.quarter_start) FILTER (WHERE a.profile_url IS NOT NULL) AS profile_url,
       arg_min(a.quarter, s.quarter_start) AS first_seen_quarter,
       arg_max(a.quarter, s.quarter_start) AS last_seen_quarter
FROM agency_snapshots AS a
JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = a.quarter
GROUP BY a.agency_id;
COMMENT ON VIEW agencies IS 'One row per agency ever seen on the map, with its latest known details.';
COMMENT ON COLUMN agencies.agency_id IS 'The resolved agency id (see agency_snapshots.agency_id and agency_keys).';
COMMENT ON COLUMN agencies.name IS 'Name in the latest snapshot that holds the agency (its display name; agency_name_history keeps the others).';
COMMENT ON COLUMN agencies.agency_type IS 'police, sheriff, fire or other, as in the latest snapshot.';
COMMENT ON COLUMN agencies.city IS 'City in the latest snapshot.';
COMMENT ON COLUMN agencies.state IS 'USPS state code in the latest snapshot.';
COMMENT ON COLUMN agencies.active_date IS 'Active Date in the latest snapshot that gives one.';
COMMENT ON COLUMN agencies.profile_url IS 'Ring profile URL, when known.';
COMMENT ON COLUMN agencies.first_seen_quarter IS 'First quarter held in which the agency appears.';
COMMENT ON COLUMN agencies.last_seen_quarter IS 'Last quarter held in which the agency appears; earlier than the latest snapshot means it left the map.';
