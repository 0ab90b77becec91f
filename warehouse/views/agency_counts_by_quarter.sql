-- How many agencies were on the map each quarter held, and how many joined and left since
-- the previous quarter held. Where quarters are missing, the comparison is with the last
-- quarter held before (compared_with says which); the first quarter held has no comparison.
-- Built on agency_changes (each view is created after those it reads), so that the two never
-- disagree about who joined and who left. Quarters are ordered by their first day.
CREATE OR REPLACE VIEW agency_counts_by_quarter AS
WITH held AS (
    SELECT quarter, quarter_start, lag(quarter) OVER (ORDER BY quarter_start) AS compared_with
    FROM snapshots
    WHERE source = 'agency_map'
),
counts AS (
    SELECT quarter, count(*) AS agencies
    FROM agency_snapshots
    GROUP BY quarter
),
changes AS (
    SELECT quarter,
           count(*) FILTER (WHERE change = 'joined') AS joined,
           count(*) FILTER (WHERE change = 'left') AS departed
    FROM agency_changes
    GROUP BY quarter
),
final AS (
    SELECT
        h.quarter,
        coalesce(c.agencies, 0) AS agencies,
        CASE WHEN h.compared_with IS NULL THEN NULL ELSE coalesce(x.joined, 0) END AS joined,
        CASE WHEN h.compared_with IS NULL THEN NULL ELSE coalesce(x.departed, 0) END AS "left",
        h.compared_with,
        h.quarter_start
    FROM held AS h
    LEFT JOIN counts AS c USING (quarter)
    LEFT JOIN changes AS x USING (quarter)
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start;
COMMENT ON VIEW agency_counts_by_quarter IS 'Agencies on the map per quarter held, with joins and departures since the previous quarter held.';
COMMENT ON COLUMN agency_counts_by_quarter.quarter IS 'YYYYQn.';
COMMENT ON COLUMN agency_counts_by_quarter.agencies IS 'Agencies on the map in that quarter''s snapshot.';
COMMENT ON COLUMN agency_counts_by_quarter.joined IS 'Agencies present now and absent from the compared quarter; NULL for the first quarter held.';
COMMENT ON COLUMN agency_counts_by_quarter."left" IS 'Agencies present in the compared quarter and absent now; NULL for the first quarter held.';
COMMENT ON COLUMN agency_counts_by_quarter.compared_with IS 'The quarter held just before (not always the calendar''s previous quarter when some are missing).';
