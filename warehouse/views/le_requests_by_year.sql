-- Requests by type per calendar year, US, current figures: a full-year figure when the pages
-- give one, else the sum of the shorter periods within the year (halves). months_covered says
-- how much of the year the sum covers (12 = the whole year; 6 = one half only).
CREATE OR REPLACE VIEW le_requests_by_year AS
WITH periods AS (
    SELECT *, year(period_start) AS year,
           datediff('month', period_start, period_end + INTERVAL 1 DAY) AS months
    FROM le_requests_by_period
    WHERE year(period_start) = year(period_end)
),
full_years AS (
    SELECT year, request_type, received, full_response, partial_response, no_response, 12 AS months_covered
    FROM periods
    WHERE months = 12
),
summed_parts AS (
    SELECT p.year, p.request_type,
           -- sum() skips NULLs; a part without the figure must make the sum unknown instead.
           CASE WHEN count(p.received) = count(*) THEN sum(p.received) END AS received,
           CASE WHEN count(p.full_response) = count(*) THEN sum(p.full_response) END AS full_response,
           CASE WHEN count(p.partial_response) = count(*) THEN sum(p.partial_response) END AS partial_response,
           CASE WHEN count(p.no_response) = count(*) THEN sum(p.no_response) END AS no_response,
           sum(p.months) AS months_covered
    FROM periods AS p
    LEFT JOIN full_years AS f USING (year, request_type)
    WHERE p.months < 12 AND f.year IS NULL
    GROUP BY p.year, p.request_type
),
final AS (
    SELECT * FROM full_years
    UNION ALL
    SELECT * FROM summed_parts
)
SELECT * FROM final ORDER BY year, request_type;
COMMENT ON VIEW le_requests_by_year IS 'US law-enforcement requests per calendar year and type: the full-year figure, else the halves summed.';
COMMENT ON COLUMN le_requests_by_year.year IS 'Calendar year.';
COMMENT ON COLUMN le_requests_by_year.request_type IS 'Request type.';
COMMENT ON COLUMN le_requests_by_year.received IS 'Requests received (a sum is NULL if any part is NULL).';
COMMENT ON COLUMN le_requests_by_year.full_response IS 'Answered in full.';
COMMENT ON COLUMN le_requests_by_year.partial_response IS 'Answered in part.';
COMMENT ON COLUMN le_requests_by_year.no_response IS 'Not answered with data.';
COMMENT ON COLUMN le_requests_by_year.months_covered IS 'Months of the year the figures cover: 12 for a full year or both halves, 6 for one half.';
