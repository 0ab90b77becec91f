-- A finished run has a final status; a running one has no end time.
SELECT run_id, status, finished_at
FROM sync_runs
WHERE (status = 'running') <> (finished_at IS NULL)
