-- Agencies per state per quarter held. state is NULL where the map's address named none.
CREATE OR REPLACE VIEW agency_counts_by_state AS
WITH final AS (
    SELECT a.quarter, a.state, count(*) AS agencies, s.quarter_start
    FROM agency_snapshots AS a
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = a.quarter
    GROUP BY a.quarter, s.quarter_start, a.state
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start, state;
COMMENT ON VIEW agency_counts_by_state IS 'Agencies on the map per USPS state code per quarter held.';
COMMENT ON COLUMN agency_counts_by_state.quarter IS 'YYYYQn.';
COMMENT ON COLUMN agency_counts_by_state.state IS 'USPS code (territories included).';
COMMENT ON COLUMN agency_counts_by_state.agencies IS 'Agencies in that state in that quarter''s snapshot.';
