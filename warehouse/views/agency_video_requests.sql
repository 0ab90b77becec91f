-- The map's per-agency counts of (video) requests, with the period each counts: read from the
-- Data field's name (metric_fields); relative names ("past 90 days") end on the day observed;
-- a name without a period counts the snapshot's quarter.
CREATE OR REPLACE VIEW agency_video_requests AS
WITH counts AS (
    SELECT f.quarter, f.agency_id, a.name, a.city, a.state, a.agency_type, f.field_name AS metric,
           m.period_label, m.period_start, m.period_end, m.relative_days, m.relative_months,
           a.observed_at::DATE AS observed_on, f.value_number AS requests, s.quarter_start, s.quarter_end
    FROM agency_snapshot_fields AS f
    JOIN agency_snapshots AS a USING (quarter, agency_id)
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = f.quarter
    JOIN metric_fields AS m USING (field_name)
    -- a whole count only, as quality.counted: '1.204' is not 1 request (quality.py warns: count_unread)
    WHERE m.counts_requests AND f.value_number IS NOT NULL AND f.value_number >= 0
      AND f.value_number = trunc(f.value_number)
),
final AS (
    SELECT quarter, agency_id, name, city, state, agency_type, metric,
           coalesce(period_label, quarter) AS period_label,
           CASE WHEN period_start IS NOT NULL THEN period_start
                WHEN relative_days IS NOT NULL THEN (observed_on - INTERVAL (relative_days - 1) DAY)::DATE
                WHEN relative_months IS NOT NULL THEN (observed_on - INTERVAL (relative_months) MONTH
                                                       + INTERVAL 1 DAY)::DATE
                ELSE quarter_start END AS period_start,
           CASE WHEN period_end IS NOT NULL THEN period_end
                WHEN relative_days IS NOT NULL OR relative_months IS NOT NULL THEN observed_on
                ELSE quarter_end END AS period_end,
           CAST(requests AS BIGINT) AS requests,
           quarter_start AS snapshot_start
    FROM counts
)
SELECT * EXCLUDE (snapshot_start) FROM final ORDER BY snapshot_start, period_start, requests DESC, name;
COMMENT ON VIEW agency_video_requests IS 'Per agency and snapshot, each numeric Data field counting (video) requests, with the period it counts (from the field''s name; else the snapshot''s quarter).';
COMMENT ON COLUMN agency_video_requests.quarter IS 'YYYYQn of the snapshot that carried the count.';
COMMENT ON COLUMN agency_video_requests.agency_id IS 'The agency (resolved id).';
COMMENT ON COLUMN agency_video_requests.name IS 'Its name in that snapshot.';
COMMENT ON COLUMN agency_video_requests.city IS 'City.';
COMMENT ON COLUMN agency_video_requests.state IS 'USPS state code.';
COMMENT ON COLUMN agency_video_requests.agency_type IS 'police, sheriff, fire or other.';
COMMENT ON COLUMN agency_video_requests.metric IS 'The Data field''s name, as written.';
COMMENT ON COLUMN agency_video_requests.period_label IS 'The period as the field name writes it, or the snapshot''s quarter when it names none.';
COMMENT ON COLUMN agency_video_requests.period_start IS 'First day of the period counted.';
COMMENT ON COLUMN agency_video_requests.period_end IS 'Last day of the period counted.';
COMMENT ON COLUMN agency_video_requests.requests IS 'Requests the agency made in the period, as the map gave them.';
