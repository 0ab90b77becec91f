-- Removing one load (ringwatch remove-load): what a run wrote, and deleting it.
-- Each query is named for warehouse.sql.named_queries; warehouse/removal.py runs them.
-- A run's captures are those it made (captures.run_id) and, for a reparse, the one it read.

-- name: run
SELECT run_id, source, mode, quarter, status, url, error FROM sync_runs WHERE run_id = $run_id;

-- name: has_removals_table
-- False on a database opened read-only before migration 6 was applied to it.
SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'removed_loads';

-- name: removal_of
SELECT removed_at FROM removed_loads WHERE run_id = $run_id;

-- name: snapshot_of_run
SELECT quarter, origin, rows_loaded FROM snapshots WHERE source = 'agency_map' AND run_id = $run_id;

-- name: snapshot_of_quarter
SELECT s.run_id, r.mode FROM snapshots AS s LEFT JOIN sync_runs AS r USING (run_id)
WHERE s.source = $source AND s.quarter = $quarter;

-- name: loads_of_quarter_before
-- Earlier loads of the quarter, latest first: the first not removed is the one this load
-- replaced (its rows were deleted then and stay gone).
SELECT run_id FROM sync_runs
WHERE source = 'agency_map' AND quarter = $quarter AND status = 'success' AND run_id < $run_id
ORDER BY run_id DESC;

-- name: removed_runs
SELECT run_id FROM removed_loads;

-- name: quarter_rows
SELECT (SELECT count(*) FROM agency_observations WHERE quarter = $quarter),
       (SELECT count(*) FROM quality_warnings WHERE run_id = $run_id);

-- name: run_figures
SELECT count(*), count(DISTINCT f.report_id),
       coalesce(string_agg(DISTINCT f.period_label, ', ' ORDER BY f.period_label), ''),
       any_value(c.origin),
       (SELECT count(*) FROM quality_warnings WHERE run_id = $run_id)
FROM le_request_counts AS f
JOIN captures AS c USING (capture_id)
WHERE f.capture_id IN (SELECT capture_id FROM captures WHERE run_id = $run_id
                       UNION SELECT capture_id FROM sync_runs WHERE run_id = $run_id AND capture_id IS NOT NULL);

-- name: run_captures
SELECT capture_id FROM captures WHERE run_id = $run_id
UNION SELECT capture_id FROM sync_runs WHERE run_id = $run_id AND capture_id IS NOT NULL
ORDER BY capture_id;

-- name: loads
-- Every load still held: the run behind each agency-map quarter and each run with figures.
SELECT r.run_id, r.source, s.quarter, s.origin, s.rows_loaded AS rows, r.url, r.finished_at
FROM snapshots AS s JOIN sync_runs AS r USING (run_id)
WHERE s.source = 'agency_map'
UNION ALL
SELECT r.run_id, r.source, r.quarter, any_value(c.origin), count(*), r.url, r.finished_at
FROM le_request_counts AS f
JOIN captures AS c USING (capture_id)
JOIN sync_runs AS r ON r.run_id = coalesce(c.run_id, -1)
GROUP BY ALL
ORDER BY run_id;

-- name: remove_snapshot
-- Field names only this quarter used go from metric_fields, as if never seen.
DELETE FROM metric_fields
WHERE field_name IN (SELECT field_name FROM agency_observation_fields WHERE quarter = $quarter)
  AND field_name NOT IN (SELECT field_name FROM agency_observation_fields WHERE quarter <> $quarter);
DELETE FROM agency_observation_fields WHERE quarter = $quarter;
DELETE FROM agency_observations WHERE quarter = $quarter;
DELETE FROM snapshots WHERE source = 'agency_map' AND quarter = $quarter AND run_id = $run_id;
DELETE FROM quality_warnings WHERE run_id = $run_id;

-- name: remove_figures
-- A report left with no figures goes; one that keeps some points at its latest capture left.
DELETE FROM le_request_counts
WHERE capture_id IN (SELECT capture_id FROM captures WHERE run_id = $run_id
                     UNION SELECT capture_id FROM sync_runs WHERE run_id = $run_id AND capture_id IS NOT NULL);
DELETE FROM report_ledgers
WHERE capture_id IN (SELECT capture_id FROM captures WHERE run_id = $run_id
                     UNION SELECT capture_id FROM sync_runs WHERE run_id = $run_id AND capture_id IS NOT NULL);
DELETE FROM transparency_reports WHERE report_id NOT IN (SELECT report_id FROM le_request_counts);
UPDATE transparency_reports AS t SET capture_id = l.capture_id
FROM (SELECT report_id, arg_max(capture_id, (observed_at, capture_id)) AS capture_id
      FROM le_request_counts GROUP BY report_id) AS l
WHERE t.report_id = l.report_id AND t.capture_id <> l.capture_id;
DELETE FROM quality_warnings WHERE run_id = $run_id;

-- name: record_removal
INSERT INTO removed_loads VALUES ($run_id, $source, $quarter, $origin, $agencies, $figures, $warnings,
                                  $removed_at, $detail);
