-- Migration 5: what the map's per-agency request counts count, and the states a map can miss.

CREATE TABLE metric_fields (
    field_name       VARCHAR PRIMARY KEY,
    counts_requests  BOOLEAN NOT NULL,
    period_label     VARCHAR,
    period_start     DATE,
    period_end       DATE,
    relative_days    INTEGER,
    relative_months  INTEGER
);
COMMENT ON TABLE metric_fields IS 'Every placemark Data field name seen, read (scrapers/metric_periods.py): whether it counts (video) requests, and the period its name gives, absolute or relative to the observation.';
COMMENT ON COLUMN metric_fields.field_name IS 'The Data field''s name as written on the map.';
COMMENT ON COLUMN metric_fields.counts_requests IS 'True when the name speaks of (video) requests.';
COMMENT ON COLUMN metric_fields.period_label IS 'The period as the name writes it (Q3 2020, H2 2020, past 90 days); NULL when it names none.';
COMMENT ON COLUMN metric_fields.period_start IS 'First day of an absolute period.';
COMMENT ON COLUMN metric_fields.period_end IS 'Last day of an absolute period.';
COMMENT ON COLUMN metric_fields.relative_days IS 'For a period relative to the observation: its length in days.';
COMMENT ON COLUMN metric_fields.relative_months IS 'For a period relative to the observation: its length in months.';

CREATE TABLE us_states (
    usps      VARCHAR PRIMARY KEY,
    name      VARCHAR NOT NULL,
    fips      VARCHAR NOT NULL,
    tile_row  INTEGER NOT NULL,
    tile_col  INTEGER NOT NULL
);
COMMENT ON TABLE us_states IS 'The 50 states and DC: USPS code, name, FIPS code, and a place on a tile map (one square per state).';
COMMENT ON COLUMN us_states.usps IS 'USPS two-letter code.';
COMMENT ON COLUMN us_states.name IS 'State name.';
COMMENT ON COLUMN us_states.fips IS 'Two-digit FIPS state code.';
COMMENT ON COLUMN us_states.tile_row IS 'Row of the state''s square on the report''s tile map (0 = top).';
COMMENT ON COLUMN us_states.tile_col IS 'Column of the state''s square on the report''s tile map (0 = left).';
INSERT INTO us_states VALUES
    ('AL', 'Alabama', '01', 6, 6),
    ('AK', 'Alaska', '02', 0, 0),
    ('AZ', 'Arizona', '04', 5, 1),
    ('AR', 'Arkansas', '05', 5, 4),
    ('CA', 'California', '06', 4, 0),
    ('CO', 'Colorado', '08', 4, 2),
    ('CT', 'Connecticut', '09', 3, 9),
    ('DE', 'Delaware', '10', 4, 9),
    ('DC', 'District of Columbia', '11', 5, 8),
    ('FL', 'Florida', '12', 7, 8),
    ('GA', 'Georgia', '13', 6, 7),
    ('HI', 'Hawaii', '15', 7, 0),
    ('ID', 'Idaho', '16', 2, 1),
    ('IL', 'Illinois', '17', 2, 5),
    ('IN', 'Indiana', '18', 3, 5),
    ('IA', 'Iowa', '19', 3, 4),
    ('KS', 'Kansas', '20', 5, 3),
    ('KY', 'Kentucky', '21', 4, 5),
    ('LA', 'Louisiana', '22', 6, 4),
    ('ME', 'Maine', '23', 0, 10),
    ('MD', 'Maryland', '24', 4, 8),
    ('MA', 'Massachusetts', '25', 2, 10),
    ('MI', 'Michigan', '26', 2, 7),
    ('MN', 'Minnesota', '27', 2, 4),
    ('MS', 'Mississippi', '28', 6, 5),
    ('MO', 'Missouri', '29', 4, 4),
    ('MT', 'Montana', '30', 2, 2),
    ('NE', 'Nebraska', '31', 4, 3),
    ('NV', 'Nevada', '32', 3, 1),
    ('NH', 'New Hampshire', '33', 1, 10),
    ('NJ', 'New Jersey', '34', 3, 8),
    ('NM', 'New Mexico', '35', 5, 2),
    ('NY', 'New York', '36', 2, 8),
    ('NC', 'North Carolina', '37', 5, 6),
    ('ND', 'North Dakota', '38', 2, 3),
    ('OH', 'Ohio', '39', 3, 6),
    ('OK', 'Oklahoma', '40', 6, 3),
    ('OR', 'Oregon', '41', 3, 0),
    ('PA', 'Pennsylvania', '42', 3, 7),
    ('RI', 'Rhode Island', '44', 2, 9),
    ('SC', 'South Carolina', '45', 5, 7),
    ('SD', 'South Dakota', '46', 3, 3),
    ('TN', 'Tennessee', '47', 5, 5),
    ('TX', 'Texas', '48', 7, 3),
    ('UT', 'Utah', '49', 4, 1),
    ('VT', 'Vermont', '50', 1, 9),
    ('VA', 'Virginia', '51', 4, 7),
    ('WA', 'Washington', '53', 2, 0),
    ('WV', 'West Virginia', '54', 4, 6),
    ('WI', 'Wisconsin', '55', 2, 6),
    ('WY', 'Wyoming', '56', 3, 2);
