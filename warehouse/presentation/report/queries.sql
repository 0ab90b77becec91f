-- Read-side queries of `ringwatch report`, one per `-- name:` block, all on the documented
-- views so that the report and `ringwatch query` can never disagree. Quarters held are ordered
-- by their first day (snapshots.quarter_start), joined on the label, never by the label.

-- name: quarters_held
-- The agency-map quarters held, oldest first.
SELECT quarter FROM snapshots WHERE source = 'agency_map' ORDER BY quarter_start;

-- name: agencies_observed
-- One row per agency-map quarter held: agencies on the map, joins and departures since the
-- quarter held before (NULL for the first).
SELECT c.quarter, c.agencies, c.joined, c."left", c.compared_with
FROM agency_counts_by_quarter AS c
JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = c.quarter
ORDER BY s.quarter_start;

-- name: agencies_reconstructed
-- Running total of agencies by Active Date, from the latest snapshot (a lower bound). These
-- quarters are those of Active Dates, not quarters held, so no snapshots row gives their dates:
-- the view builds each label from its date (YYYYQn, four-digit year), so the label's order is
-- the dates' order here.
SELECT quarter, joined, cumulative
FROM agency_joins_by_quarter
ORDER BY quarter;

-- name: join_dates
-- The latest snapshot's agencies with and without an Active Date: the reconstruction counts
-- only the dated ones (agency_joins_by_quarter), the rest joined on no known date.
SELECT count(active_date) AS dated, count(*) - count(active_date) AS undated
FROM agency_snapshots
WHERE quarter = $quarter;

-- name: quarter_origins
-- Where each agency-map quarter held came from, oldest first: a chart credits the sources of
-- the quarters it draws.
SELECT quarter, origin FROM snapshots WHERE source = 'agency_map' ORDER BY quarter_start;

-- name: video_quarters
-- The snapshots whose counts video_requests_by_period takes (each agency's count for a period
-- from the latest snapshot carrying it), oldest first.
WITH taken AS (
    SELECT v.quarter, s.quarter_start
    FROM agency_video_requests AS v
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = v.quarter
    QUALIFY row_number() OVER (PARTITION BY v.agency_id, v.period_start, v.period_end
                               ORDER BY s.quarter_start DESC) = 1
)
SELECT quarter FROM taken GROUP BY quarter ORDER BY min(quarter_start);

-- name: agencies_by_type
SELECT t.quarter, t.agency_type, t.agencies
FROM agency_counts_by_type AS t
JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = t.quarter
ORDER BY s.quarter_start, t.agency_type;

-- name: agencies_by_state
-- Agencies per state in one quarter, most first; agencies whose address named no state
-- are left out (they are counted in the quarter's total).
SELECT state, agencies
FROM agency_counts_by_state
WHERE quarter = $quarter AND state IS NOT NULL
ORDER BY agencies DESC, state;

-- name: agencies_without_state
SELECT coalesce(sum(agencies), 0) AS agencies
FROM agency_counts_by_state
WHERE quarter = $quarter AND state IS NULL;

-- name: state_growth
-- The states that gained the most agencies between two quarters held (net of departures),
-- largest first; states that did not grow are left out.
WITH now AS (
    SELECT state, agencies FROM agency_counts_by_state
    WHERE quarter = $latest AND state IS NOT NULL
),
before AS (
    SELECT state, agencies FROM agency_counts_by_state
    WHERE quarter = $baseline AND state IS NOT NULL
),
final AS (
    SELECT n.state, coalesce(b.agencies, 0) AS agencies_before, n.agencies AS agencies_after,
           n.agencies - coalesce(b.agencies, 0) AS growth
    FROM now AS n
    LEFT JOIN before AS b USING (state)
)
SELECT * FROM final WHERE growth > 0 ORDER BY growth DESC, state LIMIT $top;

-- name: requests_by_period
SELECT period_label, period_start, period_end, request_type, received, full_response,
       partial_response, no_response, complied_share
FROM le_requests_by_period
ORDER BY period_start, period_end, request_type;

-- name: request_ranges
-- U.S. figures given only as a range (national-security requests: "0-249"), which the
-- exact-figure view leaves NULL.
SELECT period_start, period_end, request_type, outcome, value_low, value_high
FROM le_request_counts_current
WHERE country = 'US' AND value IS NULL
ORDER BY period_start, period_end, request_type, outcome;

-- name: snapshot_origins
-- Where each agency-map quarter held came from (live, file, wayback, atlas).
SELECT origin, count(*) AS quarters, arg_min(quarter, quarter_start) AS first_quarter,
       arg_max(quarter, quarter_start) AS last_quarter
FROM snapshots
WHERE source = 'agency_map'
GROUP BY origin
ORDER BY origin;

-- name: figure_origins
-- Where the current transparency figures came from, by the origin of their capture.
SELECT c.origin, count(*) AS figures, min(f.period_start) AS first_period_start,
       max(f.period_end) AS last_period_end
FROM le_request_counts_current AS f
JOIN captures AS c USING (capture_id)
GROUP BY c.origin
ORDER BY c.origin;

-- name: video_requests_by_period
-- Video requests per period the map's per-agency counts cover, all agencies together.
SELECT period_start, period_end, period_label, agencies_reporting, requests
FROM video_requests_by_period
ORDER BY period_start, period_end;

-- name: top_video_requesters
-- The agencies with the most requests in the latest period the counts cover (each agency's
-- count from the latest snapshot carrying it, named in `quarter`), most first.
WITH latest_period AS (
    SELECT period_start, period_end FROM video_requests_by_period ORDER BY period_end DESC, period_start DESC LIMIT 1
),
counts AS (
    SELECT v.* FROM agency_video_requests AS v JOIN latest_period USING (period_start, period_end)
    JOIN snapshots AS s ON s.source = 'agency_map' AND s.quarter = v.quarter
    QUALIFY row_number() OVER (PARTITION BY v.agency_id ORDER BY s.quarter_start DESC) = 1
)
SELECT name, city, state, requests, period_label, quarter
FROM counts
ORDER BY requests DESC, name
LIMIT $top;

-- name: state_tiles
-- Every state and DC with its place on the tile map and its agencies in one quarter (0: none).
SELECT s.usps, s.name, s.tile_row, s.tile_col, coalesce(c.agencies, 0) AS agencies
FROM us_states AS s
LEFT JOIN agency_counts_by_state AS c ON c.state = s.usps AND c.quarter = $quarter
ORDER BY s.usps;
