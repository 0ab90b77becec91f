-- Agencies per state per quarter held. state is NULL where the map's address named none.
CREATE OR REPLACE VIEW agency_counts_by_state AS
WITH final AS (
    SELECT quarter, state, count(*) AS agencies
    FROM agency_snapshots
    GROUP BY quarter, state
)
SELECT * FROM final ORDER BY quarter, state;
COMMENT ON VIEW agency_counts_by_state IS 'Agencies on the map per USPS state code per quarter held.';
COMMENT ON COLUMN agency_counts_by_state.quarter IS 'YYYYQn.';
COMMENT ON COLUMN agency_counts_by_state.state IS 'USPS code (territories included).';
COMMENT ON COLUMN agency_counts_by_state.agencies IS 'Agencies in that state in that quarter''s snapshot.';
