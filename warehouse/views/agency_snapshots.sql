-- The map as observed each quarter, one row per agency under its resolved id: the observations
-- that represent their agency (see agency_observations.represents_agency). A view since
-- migration 3 (a table before), with the same columns.
CREATE OR REPLACE VIEW agency_snapshots AS
SELECT quarter, agency_id, name, agency_type, type_basis, layer, address, city, state, active_date,
       latitude, longitude, profile_url, capture_id, observed_at
FROM agency_observations
WHERE represents_agency;
COMMENT ON VIEW agency_snapshots IS 'The Active Agency Map as observed each quarter: one row per agency per quarter held, under its resolved agency id.';
COMMENT ON COLUMN agency_snapshots.quarter IS 'YYYYQn the snapshot stands for.';
COMMENT ON COLUMN agency_snapshots.agency_id IS 'The resolved agency id (see agency_keys): the smallest Ring profile uuid of the agency, or h- and a hash of its name key when it was never seen with a profile.';
COMMENT ON COLUMN agency_snapshots.name IS 'Agency name as on the map, white space collapsed.';
COMMENT ON COLUMN agency_snapshots.agency_type IS 'police, sheriff, fire or other: from the layer name when it says, else from the agency name.';
COMMENT ON COLUMN agency_snapshots.type_basis IS 'layer or name: what agency_type was read from.';
COMMENT ON COLUMN agency_snapshots.layer IS 'Name of the map layer (KML Folder) holding the placemark, or the Atlas Type of LEA.';
COMMENT ON COLUMN agency_snapshots.address IS 'Address as on the map (City, ST).';
COMMENT ON COLUMN agency_snapshots.city IS 'City part of the address.';
COMMENT ON COLUMN agency_snapshots.state IS 'USPS code (states, DC, PR, GU, VI, MP, AS), normalized from codes or full names.';
COMMENT ON COLUMN agency_snapshots.active_date IS 'Date the agency joined, from the map''s Active Date; NULL when the map leaves it empty.';
COMMENT ON COLUMN agency_snapshots.latitude IS 'WGS84 latitude of the placemark, when the layer is geocoded.';
COMMENT ON COLUMN agency_snapshots.longitude IS 'WGS84 longitude of the placemark, when the layer is geocoded.';
COMMENT ON COLUMN agency_snapshots.profile_url IS 'The agency''s public Ring profile URL (from 2021-06).';
COMMENT ON COLUMN agency_snapshots.capture_id IS 'The capture this row was parsed from.';
COMMENT ON COLUMN agency_snapshots.observed_at IS 'UTC time of the observation.';
