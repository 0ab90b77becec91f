-- Agencies per type (police, sheriff, fire, other) per quarter held.
CREATE OR REPLACE VIEW agency_counts_by_type AS
WITH final AS (
    SELECT quarter, agency_type, count(*) AS agencies
    FROM agency_snapshots
    GROUP BY quarter, agency_type
)
SELECT * FROM final ORDER BY quarter, agency_type;
COMMENT ON VIEW agency_counts_by_type IS 'Agencies on the map per agency type per quarter held.';
COMMENT ON COLUMN agency_counts_by_type.quarter IS 'YYYYQn.';
COMMENT ON COLUMN agency_counts_by_type.agency_type IS 'police, sheriff, fire or other.';
COMMENT ON COLUMN agency_counts_by_type.agencies IS 'Agencies of that type in that quarter''s snapshot.';
