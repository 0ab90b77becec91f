-- How many agencies were on the map each quarter held, and how many joined and left since
-- the previous quarter held. Where quarters are missing, the comparison is with the last
-- quarter held before (compared_with says which); the first quarter held has no comparison.
CREATE OR REPLACE VIEW agency_counts_by_quarter AS
WITH held AS (
    SELECT quarter, lag(quarter) OVER (ORDER BY quarter) AS compared_with
    FROM snapshots
    WHERE source = 'agency_map'
),
counts AS (
    SELECT quarter, count(*) AS agencies
    FROM agency_snapshots
    GROUP BY quarter
),
joined AS (
    SELECT h.quarter, count(*) AS joined
    FROM held AS h
    JOIN agency_snapshots AS cur ON cur.quarter = h.quarter
    LEFT JOIN agency_snapshots AS prev
        ON prev.quarter = h.compared_with AND prev.agency_id = cur.agency_id
    WHERE h.compared_with IS NOT NULL AND prev.agency_id IS NULL
    GROUP BY h.quarter
),
departed AS (
    SELECT h.quarter, count(*) AS departed
    FROM held AS h
    JOIN agency_snapshots AS prev ON prev.quarter = h.compared_with
    LEFT JOIN agency_snapshots AS cur
        ON cur.quarter = h.quarter AND cur.agency_id = prev.agency_id
    WHERE cur.agency_id IS NULL
    GROUP BY h.quarter
),
final AS (
    SELECT
        h.quarter,
        coalesce(c.agencies, 0) AS agencies,
        CASE WHEN h.compared_with IS NULL THEN NULL ELSE coalesce(j.joined, 0) END AS joined,
        CASE WHEN h.compared_with IS NULL THEN NULL ELSE coalesce(d.departed, 0) END AS "left",
        h.compared_with
    FROM held AS h
    LEFT JOIN counts AS c USING (quarter)
    LEFT JOIN joined AS j USING (quarter)
    LEFT JOIN departed AS d USING (quarter)
)
SELECT * FROM final ORDER BY quarter;
COMMENT ON VIEW agency_counts_by_quarter IS 'Agencies on the map per quarter held, with joins and departures since the previous quarter held.';
COMMENT ON COLUMN agency_counts_by_quarter.quarter IS 'YYYYQn.';
COMMENT ON COLUMN agency_counts_by_quarter.agencies IS 'Agencies on the map in that quarter''s snapshot.';
COMMENT ON COLUMN agency_counts_by_quarter.joined IS 'Agencies present now and absent from the compared quarter; NULL for the first quarter held.';
COMMENT ON COLUMN agency_counts_by_quarter."left" IS 'Agencies present in the compared quarter and absent now; NULL for the first quarter held.';
COMMENT ON COLUMN agency_counts_by_quarter.compared_with IS 'The quarter held just before (not always the calendar''s previous quarter when some are missing).';
