-- The ledger of applied migrations; created before any migration runs.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    applied_at  TIMESTAMP NOT NULL
);
COMMENT ON TABLE schema_migrations IS 'Schema migrations applied to this database, in order: the version of the contract.';
COMMENT ON COLUMN schema_migrations.version IS 'Migration number (the NNN of migrations/NNN_name.sql).';
COMMENT ON COLUMN schema_migrations.name IS 'Migration file name.';
COMMENT ON COLUMN schema_migrations.sha256 IS 'SHA-256 of the file as applied.';
COMMENT ON COLUMN schema_migrations.applied_at IS 'UTC time it was applied.';

-- The views' definitions in force: views are recreated only when their files change (or a
-- migration ran), not on every opening.
CREATE TABLE IF NOT EXISTS schema_views (
    sha256      VARCHAR PRIMARY KEY,
    created_at  TIMESTAMP NOT NULL
);
COMMENT ON TABLE schema_views IS 'The SHA-256 of all view files (warehouse/views/) as last created in this database; a new one recreates every view.';
COMMENT ON COLUMN schema_views.sha256 IS 'SHA-256 over the view files, in creation order.';
COMMENT ON COLUMN schema_views.created_at IS 'UTC time the views were created.';
