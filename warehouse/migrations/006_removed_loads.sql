-- Migration 6: a load can be removed (ringwatch remove-load). The rows it wrote go; its raw
-- captures stay; the removal is recorded here, so the run log still tells the whole story and
-- the same load cannot be removed twice.

CREATE TABLE removed_loads (
    run_id      BIGINT PRIMARY KEY,
    source      VARCHAR NOT NULL,
    quarter     VARCHAR,
    origin      VARCHAR,
    agencies    INTEGER,
    figures     INTEGER,
    warnings    INTEGER NOT NULL,
    removed_at  TIMESTAMP NOT NULL,
    detail      VARCHAR NOT NULL
);
COMMENT ON TABLE removed_loads IS 'Loads removed with ringwatch remove-load: one row per removed run. The run stays in sync_runs and its captures stay in captures and on disk; the rows it wrote were deleted.';
COMMENT ON COLUMN removed_loads.run_id IS 'The run whose load was removed (sync_runs.run_id).';
COMMENT ON COLUMN removed_loads.source IS 'agency_map or transparency.';
COMMENT ON COLUMN removed_loads.quarter IS 'YYYYQn the load stood for (agency map) or was recorded under (transparency).';
COMMENT ON COLUMN removed_loads.origin IS 'live, file, wayback or atlas: where the removed rows came from.';
COMMENT ON COLUMN removed_loads.agencies IS 'Agencies of the snapshot removed (agency map; NULL for transparency).';
COMMENT ON COLUMN removed_loads.figures IS 'Transparency figures removed (NULL for the agency map).';
COMMENT ON COLUMN removed_loads.warnings IS 'Rows of quality_warnings the run had recorded, removed with it.';
COMMENT ON COLUMN removed_loads.removed_at IS 'UTC time of the removal.';
COMMENT ON COLUMN removed_loads.detail IS 'What was removed and what was kept, as the command said it.';
