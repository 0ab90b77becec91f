-- Migration 8: a held quarter's first and last days as DATE columns, so that views order and
-- compare quarters by date, not by their 'YYYYQn' label. snapshots holds one row per source and
-- quarter held; every other row of a quarter (agency_observations, agency_observation_fields and
-- the views over them) belongs to a quarter held there (checks/agency_snapshots_have_a_snapshot_row.sql)
-- and reaches its dates by joining it on the label. The table is rebuilt to place the dates beside
-- the label and to check, on every insert, that the label and the dates name the same quarter.
-- Existing rows get their dates from their labels (YYYYQn: the year, then the quarter's number).

CREATE TABLE snapshots_before_8 AS SELECT * FROM snapshots;
DROP TABLE snapshots;

CREATE TABLE snapshots (
    source         VARCHAR NOT NULL,
    quarter        VARCHAR NOT NULL,
    quarter_start  DATE NOT NULL,
    quarter_end    DATE NOT NULL,
    observed_at    TIMESTAMP NOT NULL,
    origin         VARCHAR NOT NULL,
    capture_id     BIGINT NOT NULL,
    rows_loaded    INTEGER NOT NULL,
    run_id         BIGINT NOT NULL,
    loaded_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (source, quarter),
    CHECK (quarter_start = CAST(date_trunc('quarter', quarter_start) AS DATE)),
    CHECK (quarter_end = last_day(quarter_start + INTERVAL 2 MONTH)),
    CHECK (quarter = year(quarter_start) || 'Q' || quarter(quarter_start))
);

INSERT INTO snapshots
SELECT source, quarter, quarter_start, last_day(quarter_start + INTERVAL 2 MONTH) AS quarter_end,
       observed_at, origin, capture_id, rows_loaded, run_id, loaded_at
FROM (SELECT *, make_date(CAST(left(quarter, 4) AS INTEGER), CAST(right(quarter, 1) AS INTEGER) * 3 - 2, 1)
                    AS quarter_start
      FROM snapshots_before_8);

DROP TABLE snapshots_before_8;

COMMENT ON TABLE snapshots IS 'One row per source and quarter held: which observation stands for the quarter.';
COMMENT ON COLUMN snapshots.source IS 'Which source.';
COMMENT ON COLUMN snapshots.quarter IS 'YYYYQn: the quarter whose last day is nearest the observation (see README, the quarter rule).';
COMMENT ON COLUMN snapshots.quarter_start IS 'First day of the quarter (1 January, 1 April, 1 July or 1 October): order and compare quarters by it, not by the label.';
COMMENT ON COLUMN snapshots.quarter_end IS 'Last day of the quarter (31 March, 30 June, 30 September or 31 December), the day the quarter rule measures from.';
COMMENT ON COLUMN snapshots.observed_at IS 'UTC time the data was observed (fetch time, or --observed-at for files).';
COMMENT ON COLUMN snapshots.origin IS 'live, file, wayback or atlas.';
COMMENT ON COLUMN snapshots.capture_id IS 'The capture parsed into this snapshot.';
COMMENT ON COLUMN snapshots.rows_loaded IS 'Rows in the snapshot (agencies for agency_map).';
COMMENT ON COLUMN snapshots.run_id IS 'The sync run that loaded it.';
COMMENT ON COLUMN snapshots.loaded_at IS 'UTC time it was loaded.';
