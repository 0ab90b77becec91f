-- Every quarter in agency_snapshots has its row in snapshots, with a matching count.
SELECT a.quarter, count(*) AS rows_found, max(s.rows_loaded) AS rows_recorded
FROM agency_snapshots AS a
LEFT JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = a.quarter
GROUP BY a.quarter
HAVING max(s.rows_loaded) IS NULL OR count(*) <> max(s.rows_loaded)
