-- Agencies per type (police, sheriff, fire, other) per quarter held.
CREATE OR REPLACE VIEW agency_counts_by_type AS
WITH final AS (
    SELECT a.quarter, a.agency_type, count(*) AS agencies, s.quarter_start
    FROM agency_snapshots AS a
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = a.quarter
    GROUP BY a.quarter, s.quarter_start, a.agency_type
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start, agency_type;
COMMENT ON VIEW agency_counts_by_type IS 'Agencies on the map per agency type per quarter held.';
COMMENT ON COLUMN agency_counts_by_type.quarter IS 'YYYYQn.';
COMMENT ON COLUMN agency_counts_by_type.agency_type IS 'police, sheriff, fire or other.';
COMMENT ON COLUMN agency_counts_by_type.agencies IS 'Agencies of that type in that quarter''s snapshot.';
