-- For each quarter held, the states (and DC) with no agency on the map.
CREATE OR REPLACE VIEW states_without_agencies AS
WITH held AS (
    SELECT quarter, quarter_start FROM snapshots WHERE source = 'agency_map'
),
final AS (
    SELECT h.quarter, s.usps AS state, s.name AS state_name, h.quarter_start
    FROM held AS h
    CROSS JOIN us_states AS s
    WHERE NOT EXISTS (SELECT 1 FROM agency_snapshots AS a WHERE a.quarter = h.quarter AND a.state = s.usps)
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start, state;
COMMENT ON VIEW states_without_agencies IS 'Per quarter held, the 50 states and DC with no partner agency on the map.';
COMMENT ON COLUMN states_without_agencies.quarter IS 'YYYYQn.';
COMMENT ON COLUMN states_without_agencies.state IS 'USPS code.';
COMMENT ON COLUMN states_without_agencies.state_name IS 'State name.';
