-- Migration 4: a sync records the process that runs it. A sync now fetches before it takes
-- the writer lock, so a 'running' row no longer means its process holds the lock; the next
-- writer closes a 'running' row as interrupted only when its process has died.

ALTER TABLE sync_runs ADD COLUMN pid INTEGER;
ALTER TABLE sync_runs ADD COLUMN host VARCHAR;
COMMENT ON COLUMN sync_runs.pid IS 'Process id of the ringwatch process running the attempt (NULL for attempts before migration 4).';
COMMENT ON COLUMN sync_runs.host IS 'Host name of that process: a pid is checked only on the host that wrote it.';
COMMENT ON COLUMN sync_runs.status IS 'running, success (snapshot loaded), unchanged (nothing new, or a nearer observation of the quarter was kept), failed (see error; interrupted attempts say so).';
