-- Growth reconstructed from the Active Dates of the latest snapshot: agencies that joined in
-- each calendar quarter and the running total. Agencies that have left the map are not in
-- the latest snapshot, and agencies without an Active Date are not counted, so this is a
-- lower bound on past sizes; compare agency_counts_by_quarter for what was observed.
CREATE OR REPLACE VIEW agency_joins_by_quarter AS
WITH latest AS (
    SELECT arg_max(quarter, quarter_start) AS quarter FROM snapshots WHERE source = 'agency_map'
),
dated AS (
    SELECT a.active_date
    FROM agency_snapshots AS a
    JOIN latest AS l ON a.quarter = l.quarter
    WHERE a.active_date IS NOT NULL
),
span AS (
    SELECT
        CAST(unnest(generate_series(
            date_trunc('quarter', min(active_date)),
            date_trunc('quarter', max(active_date)),
            INTERVAL 3 MONTH
        )) AS DATE) AS quarter_start
    FROM dated
    HAVING count(*) > 0
),
joins AS (
    SELECT CAST(date_trunc('quarter', active_date) AS DATE) AS quarter_start, count(*) AS joined
    FROM dated
    GROUP BY 1
),
final AS (
    SELECT
        year(s.quarter_start) || 'Q' || quarter(s.quarter_start) AS quarter,
        coalesce(j.joined, 0) AS joined,
        sum(coalesce(j.joined, 0)) OVER (ORDER BY s.quarter_start) AS cumulative,
        s.quarter_start
    FROM span AS s
    LEFT JOIN joins AS j USING (quarter_start)
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start;
COMMENT ON VIEW agency_joins_by_quarter IS 'Joins per calendar quarter reconstructed from the Active Dates in the latest snapshot, with the running total.';
COMMENT ON COLUMN agency_joins_by_quarter.quarter IS 'YYYYQn of the Active Date.';
COMMENT ON COLUMN agency_joins_by_quarter.joined IS 'Agencies in the latest snapshot whose Active Date falls in the quarter.';
COMMENT ON COLUMN agency_joins_by_quarter.cumulative IS 'Running total of joined up to and including the quarter.';
