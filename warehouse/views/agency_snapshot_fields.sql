-- Placemark Data fields other than Active Date and Agency Profile, per agency and quarter, for
-- the rows agency_snapshots shows. A view since migration 3 (a table before).
CREATE OR REPLACE VIEW agency_snapshot_fields AS
SELECT o.quarter, o.agency_id, f.field_name, f.value_text, f.value_number
FROM agency_observation_fields AS f
JOIN agency_observations AS o USING (quarter, observation_no)
WHERE o.represents_agency;
COMMENT ON VIEW agency_snapshot_fields IS 'Placemark Data fields other than Active Date and Agency Profile, kept as found (the 2020-era video-request count, fields Ring adds later).';
COMMENT ON COLUMN agency_snapshot_fields.quarter IS 'YYYYQn of the snapshot.';
COMMENT ON COLUMN agency_snapshot_fields.agency_id IS 'The resolved agency (agency_snapshots.agency_id).';
COMMENT ON COLUMN agency_snapshot_fields.field_name IS 'The Data element''s name attribute, as written.';
COMMENT ON COLUMN agency_snapshot_fields.value_text IS 'The value as written.';
COMMENT ON COLUMN agency_snapshot_fields.value_number IS 'The value as a number when it is one (thousands separators removed), else NULL.';
