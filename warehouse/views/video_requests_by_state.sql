-- Requests per state, per snapshot and period, as each snapshot gave them.
CREATE OR REPLACE VIEW video_requests_by_state AS
WITH final AS (
    SELECT v.quarter, v.period_label, v.state, count(DISTINCT v.agency_id) AS agencies, sum(v.requests) AS requests,
           s.quarter_start
    FROM agency_video_requests AS v
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = v.quarter
    GROUP BY v.quarter, s.quarter_start, v.period_label, v.state
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start, period_label, requests DESC, state;
COMMENT ON VIEW video_requests_by_state IS 'Video requests per state, per snapshot and period.';
COMMENT ON COLUMN video_requests_by_state.quarter IS 'YYYYQn of the snapshot.';
COMMENT ON COLUMN video_requests_by_state.period_label IS 'The period counted, as written.';
COMMENT ON COLUMN video_requests_by_state.state IS 'USPS state code.';
COMMENT ON COLUMN video_requests_by_state.agencies IS 'Agencies with a count.';
COMMENT ON COLUMN video_requests_by_state.requests IS 'Their requests, summed.';
