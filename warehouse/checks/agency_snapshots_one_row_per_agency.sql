-- agency_snapshots (a view) holds one row per quarter and agency, as its old primary key did.
SELECT quarter, agency_id, count(*) AS rows_found
FROM agency_snapshots
GROUP BY quarter, agency_id
HAVING count(*) > 1
