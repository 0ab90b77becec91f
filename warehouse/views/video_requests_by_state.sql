-- Requests per state, per snapshot and period, as each snapshot gave them.
CREATE OR REPLACE VIEW video_requests_by_state AS
WITH final AS (
    SELECT quarter, period_label, state, count(DISTINCT agency_id) AS agencies, sum(requests) AS requests
    FROM agency_video_requests
    GROUP BY quarter, period_label, state
)
SELECT * FROM final ORDER BY quarter, period_label, requests DESC, state;
COMMENT ON VIEW video_requests_by_state IS 'Video requests per state, per snapshot and period.';
COMMENT ON COLUMN video_requests_by_state.quarter IS 'YYYYQn of the snapshot.';
COMMENT ON COLUMN video_requests_by_state.period_label IS 'The period counted, as written.';
COMMENT ON COLUMN video_requests_by_state.state IS 'USPS state code.';
COMMENT ON COLUMN video_requests_by_state.agencies IS 'Agencies with a count.';
COMMENT ON COLUMN video_requests_by_state.requests IS 'Their requests, summed.';
