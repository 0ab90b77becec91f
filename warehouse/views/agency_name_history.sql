-- Every name an agency has had on the map, with the quarters it was seen under it; the
-- latest is agencies.name.
CREATE OR REPLACE VIEW agency_name_history AS
WITH final AS (
    SELECT a.agency_id, a.name, arg_min(a.quarter, s.quarter_start) AS first_quarter,
           arg_max(a.quarter, s.quarter_start) AS last_quarter, count(*) AS quarters,
           min(s.quarter_start) AS first_start
    FROM agency_snapshots AS a
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = a.quarter
    GROUP BY a.agency_id, a.name
)
SELECT * EXCLUDE (first_start) FROM final ORDER BY agency_id, first_start, name;
COMMENT ON VIEW agency_name_history IS 'Each name an agency was listed under, and when: one agency keeps one id through renames.';
COMMENT ON COLUMN agency_name_history.agency_id IS 'The resolved agency id.';
COMMENT ON COLUMN agency_name_history.name IS 'A name it was listed under, as written.';
COMMENT ON COLUMN agency_name_history.first_quarter IS 'First quarter held with this name.';
COMMENT ON COLUMN agency_name_history.last_quarter IS 'Last quarter held with this name.';
COMMENT ON COLUMN agency_name_history.quarters IS 'Quarters held with this name.';
