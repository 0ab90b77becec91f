-- The current value of every figure: the latest observation of each period, country, type
-- and outcome, whichever report restated it last.
CREATE OR REPLACE VIEW le_request_counts_current AS
WITH ranked AS (
    SELECT *,
           row_number() OVER (
               PARTITION BY period_start, period_end, country, request_type, outcome
               ORDER BY observed_at DESC, capture_id DESC
           ) AS recency
    FROM le_request_counts
),
final AS (
    SELECT report_id, period_label, period_start, period_end, country, request_type, outcome,
           value, value_low, value_high, capture_id, observed_at, label
    FROM ranked
    WHERE recency = 1
)
SELECT * FROM final ORDER BY period_start, period_end, country, request_type, outcome;
COMMENT ON VIEW le_request_counts_current IS 'The latest observation of each transparency figure (period, country, type, outcome).';
COMMENT ON COLUMN le_request_counts_current.report_id IS 'Report the current value comes from.';
COMMENT ON COLUMN le_request_counts_current.period_label IS 'Period as written.';
COMMENT ON COLUMN le_request_counts_current.period_start IS 'First day of the period.';
COMMENT ON COLUMN le_request_counts_current.period_end IS 'Last day of the period.';
COMMENT ON COLUMN le_request_counts_current.country IS 'ISO alpha-2 code (US by default).';
COMMENT ON COLUMN le_request_counts_current.request_type IS 'Request type.';
COMMENT ON COLUMN le_request_counts_current.outcome IS 'Outcome or other figure.';
COMMENT ON COLUMN le_request_counts_current.value IS 'Exact figure, else NULL.';
COMMENT ON COLUMN le_request_counts_current.value_low IS 'Range lower bound, else NULL.';
COMMENT ON COLUMN le_request_counts_current.value_high IS 'Range upper bound, else NULL.';
COMMENT ON COLUMN le_request_counts_current.capture_id IS 'Capture of the current observation.';
COMMENT ON COLUMN le_request_counts_current.observed_at IS 'UTC time of the current observation.';
COMMENT ON COLUMN le_request_counts_current.label IS 'Text the figure was found under.';
