-- Who joined and who left, by name: each agency present in a quarter held but not in the
-- quarter held before it ('joined'), or the reverse ('left'). The first quarter held has no
-- rows, since there is nothing to compare it with. Quarters are ordered by their first day.
CREATE OR REPLACE VIEW agency_changes AS
WITH held AS (
    SELECT quarter, quarter_start, lag(quarter) OVER (ORDER BY quarter_start) AS compared_with
    FROM snapshots
    WHERE source = 'agency_map'
),
joined AS (
    SELECT h.quarter_start, h.quarter, h.compared_with, 'joined' AS change, cur.agency_id, cur.name,
           cur.agency_type, cur.city, cur.state, cur.active_date
    FROM held AS h
    JOIN agency_snapshots AS cur ON cur.quarter = h.quarter
    LEFT JOIN agency_snapshots AS prev
        ON prev.quarter = h.compared_with AND prev.agency_id = cur.agency_id
    WHERE h.compared_with IS NOT NULL AND prev.agency_id IS NULL
),
departed AS (
    SELECT h.quarter_start, h.quarter, h.compared_with, 'left' AS change, prev.agency_id, prev.name,
           prev.agency_type, prev.city, prev.state, prev.active_date
    FROM held AS h
    JOIN agency_snapshots AS prev ON prev.quarter = h.compared_with
    LEFT JOIN agency_snapshots AS cur
        ON cur.quarter = h.quarter AND cur.agency_id = prev.agency_id
    WHERE cur.agency_id IS NULL
),
final AS (
    SELECT * FROM joined
    UNION ALL
    SELECT * FROM departed
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start, change, state, name;
COMMENT ON VIEW agency_changes IS 'Agencies that joined or left the map between each quarter held and the one held before it, by name.';
COMMENT ON COLUMN agency_changes.quarter IS 'YYYYQn of the later snapshot.';
COMMENT ON COLUMN agency_changes.compared_with IS 'The quarter held just before.';
COMMENT ON COLUMN agency_changes.change IS 'joined or left.';
COMMENT ON COLUMN agency_changes.agency_id IS 'The agency.';
COMMENT ON COLUMN agency_changes.name IS 'Its name (as in the later snapshot for joins, the earlier for departures).';
COMMENT ON COLUMN agency_changes.agency_type IS 'police, sheriff, fire or other.';
COMMENT ON COLUMN agency_changes.city IS 'City.';
COMMENT ON COLUMN agency_changes.state IS 'USPS state code.';
COMMENT ON COLUMN agency_changes.active_date IS 'Active Date as the map gave it.';
