-- agencies holds exactly the agencies that appear in some snapshot.
SELECT agency_id FROM agencies
WHERE agency_id NOT IN (SELECT agency_id FROM agency_snapshots)
UNION ALL
SELECT DISTINCT agency_id FROM agency_snapshots
WHERE agency_id NOT IN (SELECT agency_id FROM agencies)
