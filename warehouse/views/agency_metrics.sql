-- Numeric Data fields of placemarks (such as the 2020-era count of video requests) as named
-- metrics, one row per agency, quarter and metric.
CREATE OR REPLACE VIEW agency_metrics AS
WITH final AS (
    SELECT f.quarter, f.agency_id, f.field_name AS metric, f.value_number AS value, s.quarter_start
    FROM agency_snapshot_fields AS f
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = f.quarter
    WHERE f.value_number IS NOT NULL
)
SELECT * EXCLUDE (quarter_start) FROM final ORDER BY quarter_start, agency_id, metric;
COMMENT ON VIEW agency_metrics IS 'Numeric placemark Data fields that ringwatch does not know by name, as named metrics.';
COMMENT ON COLUMN agency_metrics.quarter IS 'YYYYQn.';
COMMENT ON COLUMN agency_metrics.agency_id IS 'The agency.';
COMMENT ON COLUMN agency_metrics.metric IS 'The Data field''s name, as written on the map.';
COMMENT ON COLUMN agency_metrics.value IS 'Its numeric value.';
