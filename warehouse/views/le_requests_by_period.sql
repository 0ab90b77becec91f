-- Requests by type per reporting period, US requests, current figures. Exact figures only:
-- a range (national-security requests) leaves the column NULL here; its bounds are in
-- le_request_counts_current. complied_share = (full + partial) / (full + partial + none).
CREATE OR REPLACE VIEW le_requests_by_period AS
WITH current AS (
    SELECT * FROM le_request_counts_current WHERE country = 'US'
),
pivoted AS (
    SELECT period_start, period_end,
           arg_max(period_label, observed_at) AS period_label,
           request_type,
           max(value) FILTER (WHERE outcome = 'received') AS received,
           max(value) FILTER (WHERE outcome = 'full_response') AS full_response,
           max(value) FILTER (WHERE outcome = 'partial_response') AS partial_response,
           max(value) FILTER (WHERE outcome = 'no_response') AS no_response
    FROM current
    WHERE outcome IN ('received', 'full_response', 'partial_response', 'no_response')
    GROUP BY period_start, period_end, request_type
),
final AS (
    SELECT period_start, period_end, period_label, request_type, received, full_response,
           partial_response, no_response,
           CASE WHEN full_response + partial_response + no_response > 0
                THEN round((full_response + partial_response)
                           / (full_response + partial_response + no_response), 4)
           END AS complied_share
    FROM pivoted
)
SELECT * FROM final ORDER BY period_start, period_end, request_type;
COMMENT ON VIEW le_requests_by_period IS 'US law-enforcement requests per reporting period and type, with the share complied with (current figures).';
COMMENT ON COLUMN le_requests_by_period.period_start IS 'First day of the period.';
COMMENT ON COLUMN le_requests_by_period.period_end IS 'Last day of the period.';
COMMENT ON COLUMN le_requests_by_period.period_label IS 'Period as written.';
COMMENT ON COLUMN le_requests_by_period.request_type IS 'Request type (all = every legal demand together).';
COMMENT ON COLUMN le_requests_by_period.received IS 'Requests received (exact figures only).';
COMMENT ON COLUMN le_requests_by_period.full_response IS 'Requests answered in full.';
COMMENT ON COLUMN le_requests_by_period.partial_response IS 'Requests answered in part.';
COMMENT ON COLUMN le_requests_by_period.no_response IS 'Requests not answered with data.';
COMMENT ON COLUMN le_requests_by_period.complied_share IS '(full + partial) / (full + partial + none), 0 to 1; NULL when any of the three is missing.';
