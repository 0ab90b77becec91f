-- Requests per period across all agencies. A count seen in several snapshots (the map not yet
-- updated) is taken once, from the latest snapshot that carried it.
CREATE OR REPLACE VIEW video_requests_by_period AS
WITH latest AS (
    SELECT v.*, s.quarter_start
    FROM agency_video_requests AS v
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = v.quarter
    QUALIFY row_number() OVER (PARTITION BY v.agency_id, v.period_start, v.period_end
                               ORDER BY s.quarter_start DESC) = 1
),
final AS (
    SELECT period_start, period_end, arg_max(period_label, quarter_start) AS period_label,
           count(DISTINCT agency_id) AS agencies_reporting, sum(requests) AS requests
    FROM latest
    GROUP BY period_start, period_end
)
SELECT * FROM final ORDER BY period_start, period_end;
COMMENT ON VIEW video_requests_by_period IS 'Video requests per period, all agencies together, each agency''s count taken once (from the latest snapshot carrying it).';
COMMENT ON COLUMN video_requests_by_period.period_start IS 'First day of the period.';
COMMENT ON COLUMN video_requests_by_period.period_end IS 'Last day of the period.';
COMMENT ON COLUMN video_requests_by_period.period_label IS 'The period as written.';
COMMENT ON COLUMN video_requests_by_period.agencies_reporting IS 'Agencies with a count for the period.';
COMMENT ON COLUMN video_requests_by_period.requests IS 'Their requests, summed.';
